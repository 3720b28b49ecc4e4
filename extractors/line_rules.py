"""Line rules for the fast engine's text, from marks carried through the parse.

resiliparse writes each block of the main content as a line and says neither which of its words were
link text nor which lines were headings. :func:`mark_page` tells it in the raw HTML, before the parse,
with one regular-expression scan: a Unicode noncharacter after every ``<a>`` start tag and another
before every ``</a>``, and one of six more after every ``<h1>`` … ``<h6>`` start tag (one per level).
resiliparse carries them into its text like any character, and :func:`apply_line_rules` then drops

* **link lines** (``links``): each line under :data:`MAX_LINE_CHARS` characters whose non-space
  characters are more than :data:`MAX_LINK_SHARE` link text. Both numbers are trafilatura 2.3.1's
  (``link_density_test`` in ``htmlprocessing.py``: a block under 100 characters, 300 when it is the
  last of its parent and 30 to 60 for a paragraph, is boilerplate when over 0.8 of its text is in
  links; a line is not an element, so one limit is used, the block one);
* **empty headings** (``headings``): each heading with nothing under it, that is followed by a heading
  of its level or above, or by nothing at all, once the rest is gone: the title of a block the
  boilerplate rules removed ("More on this topic" above its vanished links). A text that is headings
  only keeps them all;
* **lines before the title** (``title``): the lines above the first ``<h1>``, when none of them
  reads as prose (:func:`extractors.fusion.is_prose`) or holds a placeholder: breadcrumbs, kickers,
  dates and "back to the overview" links that resiliparse counts as main content, where the article
  begins at its title;
* **the tail** (``tail``): the lines after the last line of prose, when there are at most
  :data:`MAX_TAIL_LINES` (5) of them and none is a table row: "Share", "Tags", "Explore further",
  "Feedback to editors", where the article ends with its last sentence. Tried with 2, 3, 10 and
  any number of lines (docs/extraction.md);

and every mark. Noncharacters (U+FDD0 to U+FDEF) are reserved for a program's internal use and never
stand for text; a page that contains one of the eight marks anyway is extracted unmarked
(:func:`mark_page` returns ``None``), so the marks can never remove or change a character of the page.
Code elements are recorded without the marks (``clean=strip_marks`` in
:func:`extractors.codeblocks.protect_code_lexbor`).
"""

from __future__ import annotations

import re

from extractors import native
from extractors.fusion import is_prose

__all__ = [
    "HEADING_MARKS",
    "LINK_END",
    "LINK_START",
    "MAX_LINE_CHARS",
    "MAX_LINK_SHARE",
    "MAX_TAIL_LINES",
    "apply_line_rules",
    "mark_page",
    "strip_marks",
]

LINK_START = "\ufdd0"
LINK_END = "\ufdd1"
HEADING_MARKS = "\ufdd2\ufdd3\ufdd4\ufdd5\ufdd6\ufdd7"  # <h1> to <h6>
MAX_LINE_CHARS = 100
MAX_LINK_SHARE = 0.8
MAX_TAIL_LINES = 5

# A link's start or end tag or a heading's start tag (group 1 "/" for end tags, group 2 the name).
_TAG = re.compile(r"<(/?)([aA]|[hH][1-6])(?=[\s/>])[^>]*>")
_MARK_CHARS = LINK_START + LINK_END + HEADING_MARKS
_MARKS = re.compile(f"[{_MARK_CHARS}]")
_SPACE = re.compile(r"\s+")
_HEADING_MARK = re.compile(f"[{HEADING_MARKS}]")


def mark_page(html: str) -> str | None:
    """``html`` with the marks in (see the module); ``None`` when it holds a mark character itself."""
    # Eight substring tests: a character-class search of a 140 KB page costs twenty times as much.
    if any(mark in html for mark in _MARK_CHARS):
        return None
    fast = native.module
    return fast.mark_tags(html) if fast is not None else _TAG.sub(_mark, html)


def _mark(tag: re.Match[str]) -> str:
    name = tag[2]
    if name in "aA":
        return LINK_END + tag[0] if tag[1] else tag[0] + LINK_START
    if tag[1]:
        return tag[0]  # a heading's end tag: the start says where the heading is
    return tag[0] + HEADING_MARKS[int(name[1]) - 1]


def strip_marks(text: str) -> str:
    """``text`` without the marks of :func:`mark_page`."""
    return _MARKS.sub("", text)


def apply_line_rules(
    text: str,
    links: bool = True,
    headings: bool = True,
    protected: tuple[str, ...] = (),
    title: bool = False,
    tail: bool = False,
) -> str:
    """``text`` (extracted from :func:`mark_page`'s output) without the lines the rules drop, unmarked.

    A line holding any of the ``protected`` strings (the engine's code and formula placeholders) is
    content whatever its links, and a heading holding one is never empty. ``title``: the lines above
    the first ``<h1>`` go too, unless one of them reads as prose or is held; ``tail``: the last few
    lines after the last line of prose (see the module).
    """
    lines = text.split("\n")
    clean = strip_marks(text).split("\n")  # no mark is a newline: the same lines, unmarked
    keep = [True] * len(lines)
    # a line holding a placeholder is content; most texts hold none, and then no line is looked at
    tokens = [token for token in protected if token in text]
    held = [any(token in line for token in tokens) for line in clean] if tokens else None
    if title and HEADING_MARKS[0] in text:
        _drop_before_title(lines, clean, keep, held)
    if links and LINK_START in text:
        for i, line in enumerate(lines):
            if LINK_START in line and len(clean[i].strip()) < MAX_LINE_CHARS and not (held and held[i]):
                keep[i] = keep[i] and _link_share(_SPACE.sub("", line)) <= MAX_LINK_SHARE
    if headings and any(mark in text for mark in HEADING_MARKS):
        _drop_empty_headings(lines, clean, keep, held)
    if tail:
        _drop_tail(clean, keep, held)
    return "\n".join(line for line, kept in zip(clean, keep, strict=True) if kept)


def _drop_before_title(lines: list[str], clean: list[str], keep: list[bool], held: list[bool] | None) -> None:
    """Clear ``keep`` above the first ``<h1>`` line when nothing there is prose or held."""
    first = next(i for i, line in enumerate(lines) if HEADING_MARKS[0] in line)
    above = range(first)
    if any(is_prose(clean[i].strip()) or (held and held[i]) for i in above):
        return
    for i in above:
        keep[i] = False


def _drop_tail(clean: list[str], keep: list[bool], held: list[bool] | None) -> None:
    """Clear ``keep`` for the kept lines after the last line of prose (or held line) when there are
    at most :data:`MAX_TAIL_LINES` of them and none is a table row. Walks back from the end."""
    after: list[int] = []
    for i in range(len(clean) - 1, -1, -1):
        line = clean[i].strip()
        if not keep[i] or not line:
            continue
        if (held and held[i]) or is_prose(line):
            for j in after:
                keep[j] = False
            return
        if len(after) == MAX_TAIL_LINES or line.startswith("|"):
            return
        after.append(i)
    # no prose at all: a list, a table, a page of titles keeps everything


def _link_share(compact: str) -> float:
    """Share of the characters of ``compact`` (no spaces) that lie between a start and an end mark."""
    inside = total = depth = 0
    for char in compact:
        if char == LINK_START:
            depth += 1
        elif char == LINK_END:
            depth = max(depth - 1, 0)
        elif char not in HEADING_MARKS:
            total += 1
            inside += depth > 0
    return inside / total if total else 0.0


def _drop_empty_headings(
    lines: list[str], clean: list[str], keep: list[bool], held: list[bool] | None
) -> None:
    """Clear ``keep`` for each heading with nothing under it (see the module); walks back to front, so
    a heading whose subsections all went goes too. A ``held`` line counts as text."""
    written = [i for i, line in enumerate(clean) if keep[i] and line.strip()]
    levels = {i: 0 if held and held[i] else _heading_level(lines[i]) for i in written}
    if all(levels.values()):
        return  # headings only (or nothing): a page of titles keeps them
    below: int | None = None  # level of the next written line: 0 for text, None past the end
    for i in reversed(written):
        level = levels[i]
        if level and (below is None or 0 < below <= level):
            keep[i] = False
            continue
        below = level


def _heading_level(line: str) -> int:
    found = _HEADING_MARK.findall(line)  # the highest heading on the line, as a line has one level
    return min(HEADING_MARKS.index(mark) for mark in found) + 1 if found else 0
