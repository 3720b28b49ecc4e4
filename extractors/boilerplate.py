"""Boilerplate pruning for the fast engine, on the lexbor tree, before resiliparse extracts.

resiliparse's ``main_content`` heuristics keep what trafilatura removes by markup: comment forms,
tag lists, ratings, "related articles" blocks, widgets beside the text (snippet precision 0.76
against trafilatura's 0.90, docs/extraction.md). :func:`choose_boilerplate` borrows trafilatura's
markup knowledge without its lxml parse: elements whose ``class``/``id``/``role`` carry trafilatura's
boilerplate vocabulary (``OVERALL_DISCARD_XPATH``) are chosen, and skipped by the extraction
(``skip_elements=[SKIP]``), except those that hold the article or code (``<article>``, ``<main>``,
``<h1>``, ``<pre>``, ``articleBody``) or over half of the page's paragraphs; trafilatura's own
backup rule (no pruning that takes nearly all the text) is applied by the engine to its output
(``PRUNED_CHECK`` in :mod:`extractors.engines`).

Two steps, because resiliparse wraps each element it hands to Python in an object (about 2.5 µs, with
a weak-reference cache entry), and a page of the bench WARC has about 400 elements with a class or id:
:func:`mark_boilerplate` scans the raw HTML for ``class``/``id``/``role`` values that carry the
vocabulary and tags their start tags with :data:`MARKER` (the scan runs in C when
:mod:`extractors.native` has it); after the parse, :func:`choose_boilerplate` applies the exact test
to the tagged elements only. Values the scan does not read (upper-case attribute names,
entity-encoded values, an attribute after a quoted ``>``) are not tagged, so such a block stays: a
case-blind scan would cost more than the wrapping it saves (7 of the 646 bench pages write
``CLASS=``).

The vocabulary is trafilatura 2.3.1's (``trafilatura/xpaths.py``, Apache-2.0), with changes measured
on the development sets: ``widget`` no longer matches ``elementor-widget`` or ``widget-content``
(the article body of Elementor and some news sites), ``author`` must start a class word
(``serendipity_entry_author_X`` wraps every post of a blog), ``message``, ``slide``, ``expand``,
``viewport``, ``embed`` and ``meta`` are dropped (forum posts are ``message-body``), hidden-element
tests are left to resiliparse, and WordPress's comment form (``respond``) is added.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from typing import TYPE_CHECKING

from extractors import native

if TYPE_CHECKING:
    from resiliparse.parse.html import DOMNode, HTMLTree

__all__ = ["MARKER", "SKIP", "choose_boilerplate", "mark_boilerplate"]


def _alt(*tokens: str) -> re.Pattern[str]:
    return re.compile("|".join(tokens))


# --- boilerplate blocks (trafilatura's OVERALL_DISCARD_XPATH) ------------------------------------

_BOTH = (
    "^shar", "social", "viral", "newsletter", "syndication", "tags", "sidebar", "banner", "bread-?crumb",
    "button", r"(?:^|[\s-])author",
)  # fmt: skip
_ID_ONLY = (
    "^(?:jp-|dpsp-content)", "bmdh", "footer", "Footer", "share", "Share", "nav", "Nav", "menu", "related",
    "message-container", "premium", "^ad-",
)  # fmt: skip
_CLASS_ONLY = (
    "^(?:nav|post-nav|ZendeskForm)", "subnav", "avigation", "navbar", "navbox", "menu", "bar",
    " ad ", "-ad-", "(?:^| )ad-", "dfp[Aa]d", "outbrain", "taboola", "criteo", "paid-?content",
    "(?<!elementor-)widget(?!-content)", "footer", "Footer", "byline", "Byline", "share-", "sociable",
    "tag-list", "consent", "modal-content", "permission", "elated", "next-", "-stories", "most-popular",
    "more-on", "rating", "attachment", "timestamp", "user-info", "user-profile", "-icon", "article-infos",
    "options", "obfuscated", "blurred", "mol-factbox", "yin", "zlylin", "nfoline",
)  # fmt: skip
# trafilatura's second expression (any tag), without its hidden-element tests: resiliparse drops
# hidden elements itself. "respond" is WordPress's comment form (#respond, .comment-respond).
_ANY_TAG_ID = ("^reply-", "akismet", "respond")
_ANY_TAG_CLASS = (
    "^reply-", "^hide-", "comments-title", "nocomments", "-reply-", "akismet", "suggest-links", "-hide-",
    "hide-print", "noprint", "notloaded", "respond",
)  # fmt: skip
_BLOCK_ID = _alt(*_BOTH, *_ID_ONLY, *_ANY_TAG_ID, "cookie")
_BLOCK_CLASS = _alt(*_BOTH, *_CLASS_ONLY, *_ANY_TAG_CLASS)
_OTHER_ID = _alt(*_ANY_TAG_ID)
_OTHER_CLASS = _alt(*_ANY_TAG_CLASS)
_BLOCK_TAGS = frozenset(
    ("div", "section", "span", "p", "li", "ul", "aside", "nav", "footer", "header", "form")
)
_HOLDS_ARTICLE = "article, main, h1, pre, [itemprop=articleBody]"  # pre: code is kept whole

MARKER = "data-ccsieve-prune"
SKIP = f"[{MARKER}]"  # the chosen blocks, as resiliparse's skip_elements takes them
# One scan per attribute: a literal first word lets the regex engine skip to each occurrence in C.
# The value as the tokenizer reads it: double-, single- or unquoted.
_VALUE = r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))"""
_SCANS = tuple((name, re.compile(name + _VALUE)) for name in ("class", "id", "role"))
_NAME_BEFORE = frozenset(" \t\n\r\f\"'/")  # what precedes an attribute name (not data-id=, grid=)
_TAG_NAME = re.compile(r"<([A-Za-z][^\s/>]*)")
_CACHE_LIMIT = 1 << 17
# Per attribute name, its whole text (`class="nav-menu"`) → whether it may name a block.
_value_caches: dict[str, dict[str, bool]] = {name: {} for name, _ in _SCANS}


@lru_cache(maxsize=1 << 16)
def _matches(block: bool, id_: str, cls: str) -> bool:
    # Cached: class strings repeat within a page and across sites ("menu-item menu-item-type-...")
    # and the alternations cost about 3 µs per search.
    if block:
        # trafilatura tests "cookie" on the first of id and class only: pages about cookies
        return bool(
            (id_ and _BLOCK_ID.search(id_))
            or (cls and _BLOCK_CLASS.search(cls))
            or (not id_ and "cookie" in cls)
        )
    return bool((id_ and _OTHER_ID.search(id_)) or (cls and _OTHER_CLASS.search(cls)))


def _value_matches(name: str, value: str) -> bool:
    """Could an element with this attribute be boilerplate (whatever its tag)? A superset of the test."""
    if name == "class":
        return bool(_BLOCK_CLASS.search(value)) or "cookie" in value
    if name == "id":
        return bool(_BLOCK_ID.search(value))
    return "nav" in value.lower()


_TESTS = {name: partial(_value_matches, name) for name, _ in _SCANS}


def _attribute_value(match: re.Match[str]) -> str:
    """The value of a ``_SCANS`` match, whichever of its three quotings it used."""
    return next(group for group in match.groups() if group is not None)


def _value_hits(
    html: str, name: str, scan: re.Pattern[str], cache: dict[str, bool]
) -> list[tuple[int, str, str]]:
    """(end, value, tag name) of each match of ``scan`` whose value may name a block and that stands in
    a start tag, in page order."""
    fast = native.module
    if fast is not None:  # the same matches, cache and checks, in C
        return fast.attribute_hits(html, name, cache, _TESTS[name])  # type: ignore[no-any-return]
    hits = []
    for match in scan.finditer(html):
        hit = cache.get(match[0])
        if hit is None:
            hit = cache[match[0]] = _value_matches(name, _attribute_value(match))
        start = match.start()
        if not hit or (start and html[start - 1] not in _NAME_BEFORE):
            continue
        opening = html.rfind("<", 0, start)
        if opening <= html.rfind(">", 0, start):
            continue  # in text, not in a tag: an HTML example shown on the page
        tag = _TAG_NAME.match(html, opening)
        if tag is not None:
            hits.append((match.end(), _attribute_value(match), tag[1]))
    return hits


def _tag_may_match(name: str, value: str, tag: str) -> bool:
    if tag in _BLOCK_TAGS:
        return True
    if name == "class":
        return bool(_OTHER_CLASS.search(value))
    return name == "id" and bool(_OTHER_ID.search(value))


def mark_boilerplate(html: str) -> str:
    """Tag with :data:`MARKER` every start tag whose class, id or role may name a boilerplate block.

    The exact test runs after the parse (:func:`choose_boilerplate`); this only picks the elements worth
    looking at, without wrapping every element of the tree. The page is returned unchanged (the same
    object) when nothing is tagged.
    """
    ends: list[int] = []
    for name, scan in _SCANS:
        cache = _value_caches[name]
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for end, value, tag in _value_hits(html, name, scan, cache):
            if _tag_may_match(name, value, tag.lower()):
                ends.append(end)
    if not ends:
        return html
    pieces: list[str] = []
    last = 0
    for end in sorted(set(ends)):
        pieces += (html[last:end], " ", MARKER)
        last = end
    pieces.append(html[last:])
    return "".join(pieces)


def _is_boilerplate(el: DOMNode, tag: str, id_: str, cls: str) -> bool:
    block = tag in _BLOCK_TAGS
    return _matches(block, id_, cls) or (block and "nav" in (el.getattr("role") or "").lower())


_OUTERMOST = f"[{MARKER}]:not([{MARKER}] [{MARKER}])"


def _choose(body: DOMNode) -> list[DOMNode]:
    """The outermost tagged blocks that pass the test and the guards; never nested in one another.

    Only the outermost tagged elements of a scope are wrapped: a chosen block takes its inner
    candidates with it (a menu and its items); one that fails loses its tag and is searched inside.
    """
    paragraphs = len(body.get_elements_by_tag_name("p"))  # no CSS parse: half the cost of a query
    chosen: list[DOMNode] = []
    scopes = [body]  # a stack, not recursion: tagged elements can nest thousands deep
    while scopes:
        for el in scopes.pop().query_selector_all(_OUTERMOST).values():
            tag, id_, cls = el.tag, el.getattr("id") or "", el.getattr("class") or ""
            if (
                _is_boilerplate(el, tag, id_, cls)
                and el.query_selector(_HOLDS_ARTICLE) is None
                and not (paragraphs >= 4 and len(el.get_elements_by_tag_name("p")) > paragraphs / 2)
            ):
                chosen.append(el)
                continue
            el.delattr(MARKER)
            if el.first_element_child is not None:
                scopes.append(el)
    return chosen


def choose_boilerplate(tree: HTMLTree) -> int:
    """Leave :data:`MARKER` on the boilerplate blocks of a page parsed from :func:`mark_boilerplate`'s
    output, and only on them (and what lies inside them); return how many blocks were chosen.

    Nothing is removed: the extraction skips them (``skip_elements=[SKIP]``), which costs resiliparse
    nothing, where removing them from the tree cost a Python object for each block and, for
    trafilatura's backup rule, the text of the whole page. The engine applies that rule to its output
    instead (``MIN_MAIN_TEXT`` in :mod:`extractors.engines`).
    """
    body = tree.body
    if body is None:
        return 0
    for outer in (tree.document.first_element_child, body):  # <html>, <body>: never removed
        if outer is not None and outer.hasattr(MARKER):
            outer.delattr(MARKER)
    return len(_choose(body))
