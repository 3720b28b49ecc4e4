"""trafilatura's link-density test, line by line, for the fast engine's text.

resiliparse writes each block of the main content as a line and cannot say which of its words were
link text, so the "more on this topic" lists, teaser titles, tag and category links and "back to the
overview" lines that trafilatura drops with its link-density test stay in. :func:`mark_links` puts a
noncharacter after every ``<a>`` start tag and before every ``</a>`` of the raw HTML (one regular
expression scan, before the parse); resiliparse carries them into its text like any other character,
and :func:`drop_link_lines` then removes each line shorter than :data:`MAX_LINE_CHARS` characters
whose non-space characters are more than :data:`MAX_LINK_SHARE` link text, and every mark.

Both numbers are trafilatura 2.3.1's (``link_density_test`` in ``htmlprocessing.py``): a block under
100 characters (300 when it is the last of its parent, 30 to 60 for a paragraph) is boilerplate when
over 0.8 of its text is in links. A line is not an element, so one limit is used: the block one.

Unicode noncharacters (U+FDD0, U+FDD1) are reserved for a program's internal use and never stand for
text; a page that contains them anyway is extracted unmarked, so the marks can never remove or
change a character of the page. Links inside code come back unmarked with the code.
"""

from __future__ import annotations

import re

__all__ = [
    "LINK_END",
    "LINK_START",
    "MAX_LINE_CHARS",
    "MAX_LINK_SHARE",
    "drop_link_lines",
    "mark_links",
    "strip_link_marks",
]

LINK_START = "\ufdd0"
LINK_END = "\ufdd1"
MAX_LINE_CHARS = 100
MAX_LINK_SHARE = 0.8

# A start or end tag of a link (group 1 is "/" for an end tag); one scan of the page for both.
_LINK_TAG = re.compile(r"<(/?)[aA](?:(?=[\s/>])[^>]*>|\s*>)")
_MARKS = re.compile(f"[{LINK_START}{LINK_END}]")
_SPACE = re.compile(r"\s+")


def mark_links(html: str) -> str | None:
    """``html`` with a mark at the start and end of every link's content; ``None`` when the page
    holds a mark character itself (it is then extracted without the test)."""
    if LINK_START in html or LINK_END in html:
        return None
    return _LINK_TAG.sub(_mark, html)


def _mark(tag: re.Match[str]) -> str:
    return LINK_END + tag[0] if tag[1] else tag[0] + LINK_START


def strip_link_marks(text: str) -> str:
    """``text`` without the marks of :func:`mark_links`."""
    return _MARKS.sub("", text) if LINK_START in text or LINK_END in text else text


def drop_link_lines(text: str) -> str:
    """``text`` without its short lines of mostly link text, and without the marks."""
    if LINK_START not in text:
        return strip_link_marks(text)
    kept = [line for line in text.split("\n") if LINK_START not in line or not _is_link_line(line)]
    return _MARKS.sub("", "\n".join(kept))


def _is_link_line(line: str) -> bool:
    if len(_MARKS.sub("", line).strip()) >= MAX_LINE_CHARS:
        return False
    return _link_share(_SPACE.sub("", line)) > MAX_LINK_SHARE


def _link_share(compact: str) -> float:
    """Share of the characters of ``compact`` (no spaces) that lie between a start and an end mark."""
    inside = total = depth = 0
    for char in compact:
        if char == LINK_START:
            depth += 1
        elif char == LINK_END:
            depth = max(depth - 1, 0)
        else:
            total += 1
            inside += depth > 0
    return inside / total if total else 0.0
