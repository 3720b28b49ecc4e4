"""Cheap checks on raw HTML that keep both parsers out of their worst cases.

libxml2 (lxml) and lexbor both check each new attribute of a tag against the ones already seen, so a
tag with *n* attributes costs about *n*² comparisons: 100,000 attributes take 11 s in lxml and 18 s in
lexbor. No real page needs more than a few dozen attributes on one tag, so tags beyond
:data:`MAX_ATTRIBUTES` are cut down to their first attributes before parsing, in one linear pass.
"""

from __future__ import annotations

import re

from extractors import native

__all__ = ["MAX_ATTRIBUTES", "tame_attributes"]

MAX_ATTRIBUTES = 1000  # ~1 M comparisons, a few ms in either parser

# A start tag long enough to hold MAX_ATTRIBUTES attributes (each at least two characters, "a "):
# only those are looked at, so a normal page costs one C-level regex scan. `[^<>]` keeps the scan
# linear: every character belongs to at most one candidate run. A `>` inside a quoted value ends the
# run early, so such a tag escapes the guard; the per-page timeout remains the backstop.
_LONG_TAG = re.compile(rf"<[A-Za-z][^<>]{{{2 * MAX_ATTRIBUTES}}}")  # no groups: 4x faster to scan
_LONG_TAG_SPAN = 2 + 2 * MAX_ATTRIBUTES  # the length of every _LONG_TAG match
_TAG_NAME = re.compile(r"[^\s/<>]*")
_RUN_END = re.compile(r"[<>]")
# One attribute as the HTML tokenizer sees it: a name, optionally `=` and a quoted or bare value.
_ATTRIBUTE = re.compile(r"""[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


def tame_attributes(html: str) -> tuple[str, int]:
    """Cut every start tag of ``html`` to :data:`MAX_ATTRIBUTES` attributes; return it and the tags cut.

    The page is returned unchanged (the same object) when no tag needs cutting.
    """
    fast = native.module
    # the same matches' starts, found in C when the module is built
    starts = fast.long_tags(html) if fast is not None else [m.start() for m in _LONG_TAG.finditer(html)]
    cut = 0
    pieces: list[str] = []
    last = 0
    for start in starts:
        name = _TAG_NAME.match(html, start + 2)
        if name is None:  # cannot happen (the pattern matches the empty string); keeps mypy quiet
            continue
        run_end = _RUN_END.search(html, start + _LONG_TAG_SPAN)
        stop = run_end.start() if run_end else len(html)
        attributes = html[name.end() : stop]
        found = _ATTRIBUTE.finditer(attributes)
        end = None
        for count, attribute in enumerate(found, start=1):
            if count == MAX_ATTRIBUTES:
                end = attribute.end()
                break
        if end is None or next(found, None) is None:
            continue  # long, but few attributes: a big inline style or data blob, left alone
        pieces.append(html[last : name.end()])
        pieces.append(attributes[:end])
        last = stop
        cut += 1
    if not cut:
        return html, 0
    pieces.append(html[last:])
    return "".join(pieces), cut
