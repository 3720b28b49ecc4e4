"""Headings, lists and tables as Markdown-like text: ``# `` headings, ``- `` items, ``| a | b |`` rows.

trafilatura's own ``output_format="markdown"`` is not used: it backslash-escapes prose (``snake\\_case``,
``a\\*b``, ``\\[1\\]``), adds ``**``/``*`` emphasis and drops blank lines inside code, all of which end
up in the training text. Its plain-text output already writes ``- `` list items and ``| a | b |`` table
rows, so only headings are added, on the extracted XML body (:func:`mark_headings_xml`).

resiliparse writes no heading markers, bullets list items with "•" and separates table cells with
tabs. :func:`mark_structure_lexbor` puts heading marks and table sentinels into the DOM before
extraction and :func:`finish_lexbor_text` turns bullets and sentinels into Markdown afterwards. (List
items get no sentinel: pages have about 80 of them, and a DOM insertion costs ~10 µs from Python.)
Only data tables (no nested table, list, paragraph or line break in a cell) become pipe rows: a layout
table holding a whole article would otherwise turn into one giant row.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from resiliparse.parse.html import ElementNode

if TYPE_CHECKING:
    from lxml.etree import _Element
    from resiliparse.parse.html import HTMLTree

__all__ = ["finish_lexbor_text", "mark_headings_xml", "mark_structure_lexbor"]

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Anything inside a cell that makes the table a layout table rather than a data table.
_LAYOUT = "table, p, div, ul, ol, dl, h1, h2, h3, h4, h5, h6, pre, blockquote, br, section, article"

# resiliparse's list_bullets output: two spaces per list level, then "• " or "N. ".
_BULLET_ITEM = re.compile(r"^  ( *)\u2022 ", re.MULTILINE)
_NUMBERED_ITEM = re.compile(r"^  ( *)(\d+\. )", re.MULTILINE)
_HEAD_ROW = "CCSVTH{}"
_HEAD_ROW_RE = re.compile(r"CCSVTH(\d+)[ \t]*")
_CELL_END_RE = re.compile(r" \|\t\t")
_ROW_LINE = re.compile(r"^(\| .*?)[ \t]*$", re.MULTILINE)


def mark_headings_xml(body: _Element | None) -> None:
    """Prefix each heading of a trafilatura output body with ``#`` marks for its level (h2 if unknown)."""
    if body is None:
        return
    for head in body.iter("head"):
        if any(a.tag == "cell" for a in head.iterancestors()):
            continue  # a table row must stay on one line
        if not "".join(head.itertext()).strip():
            continue
        rend = head.get("rend") or ""
        level = int(rend[1]) if len(rend) == 2 and rend[0] == "h" and rend[1] in "123456" else 2
        head.text = "#" * level + " " + (head.text or "").lstrip()


def mark_structure_lexbor(tree: HTMLTree) -> None:
    """Insert heading marks and table sentinels into a resiliparse tree, before extraction."""
    if tree.document is None:
        return
    # NodeList iteration re-walks the list for every item (quadratic); .values() builds it once.
    for heading in tree.document.query_selector_all(", ".join(_HEADINGS)).values():
        heading.prepend(tree.create_text_node("#" * int((heading.tag or "h2")[1]) + " "))
    for table in tree.document.query_selector_all("table").values():
        if table.query_selector(_LAYOUT) is None:
            _mark_table(tree, table)


def _mark_table(tree: HTMLTree, table: ElementNode) -> None:
    rows = [
        [c for c in row.children.values() if c.tag in ("td", "th")]
        for row in table.query_selector_all("tr").values()
    ]
    if max(map(len, rows), default=0) < 2:
        return  # a one-column "table" is a layout box
    for number, cells in enumerate(rows):
        for position, cell in enumerate(cells):
            if position == 0:
                cell.prepend(tree.create_text_node("| "))
            cell.append(tree.create_text_node(" |"))
        if number == 0 and cells and all(c.tag == "th" for c in cells):
            cells[-1].append(tree.create_text_node(_HEAD_ROW.format(len(cells))))


def finish_lexbor_text(text: str) -> str:
    """Turn resiliparse's list bullets and the sentinels of :func:`mark_structure_lexbor` into Markdown."""
    if "\u2022 " in text:
        # only indented bullets are resiliparse's own; a "•" the page wrote starts a line unindented
        text = _BULLET_ITEM.sub(r"\1- ", text)
    text = _NUMBERED_ITEM.sub(r"\1\2", text)
    if "CCSVTH" in text:
        text = _HEAD_ROW_RE.sub(lambda m: "\t\t\n|" + "---|" * int(m.group(1)), text)
    if " |\t\t" in text:
        text = _CELL_END_RE.sub(" | ", text)
        text = _ROW_LINE.sub(r"\1", text)
    return text
