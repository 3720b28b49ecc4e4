"""Code kept as code: protected before extraction, restored byte for byte afterwards.

Both engines damage code: trafilatura drops blank lines inside ``<pre>`` and trims lines, resiliparse
collapses the whitespace of inline ``<code>``. So before extraction each code element's exact text
(the DOM text, ``<br>`` read as a newline) is recorded and its content replaced by the same text
between two markers. The engines' boilerplate heuristics still see the code's words (a block does not
turn into a short, droppable line), and after extraction whatever survives between a pair of markers
is replaced by the recorded original: a fenced Markdown block for ``<pre>`` (and for multi-line
``<code>``), an inline code span otherwise. A block the engine dropped simply does not come back.

Markers are plain ASCII words so that no engine escapes, strips or re-normalises them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from resiliparse.parse.html import ElementNode

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from resiliparse.parse.html import HTMLTree

__all__ = ["PLACEHOLDER", "CodeTable", "code_language", "protect_code_lexbor", "protect_code_lxml"]

PLACEHOLDER = "CCSVCODE"  # every code marker begins with it
_START = PLACEHOLDER + "{}BEGIN"
_END = PLACEHOLDER + "{}END"
_SPAN = re.compile(PLACEHOLDER + r"(\d+)BEGIN(.*?)" + PLACEHOLDER + r"\1END", re.DOTALL)
_ORPHAN = re.compile(PLACEHOLDER + r"\d+(?:BEGIN|END) ?")

# class="language-python", "lang-js", "highlight-ruby", GitHub's "highlight-source-go".
_LANG_CLASS = re.compile(r"^(?:language|lang|highlight(?:-source)?)-([A-Za-z0-9_+#.-]{1,30})$")
_LANG_VALUE = re.compile(r"^[A-Za-z0-9_+#.-]{1,30}$")


@dataclass(slots=True)
class _Code:
    text: str
    language: str
    block: bool


@dataclass(slots=True)
class CodeTable:
    """The code elements of one page, in document order, and how to put them back."""

    entries: list[_Code] = field(default_factory=list)

    def add(self, text: str, language: str, block: bool) -> str:
        """Record one code element; return the marked text that replaces its content."""
        index = len(self.entries)
        self.entries.append(_Code(text, language, block))
        return f"{_START.format(index)}{text}{_END.format(index)}"

    def restore(self, text: str) -> str:
        """Replace every marked span in extracted ``text`` by the recorded code, fenced or inline."""
        if not self.entries:
            return text
        out: list[str] = []
        last = ""  # the last character written so far
        pos = 0
        after_block = False  # a fenced block was just written: what follows starts on a new line

        def emit(piece: str) -> None:
            nonlocal last
            if piece:
                out.append(piece)
                last = piece[-1]

        for match in _SPAN.finditer(text):
            entry = self.entries[int(match.group(1))]
            before = text[pos : match.start()]
            if after_block:
                before = _after_block(before)
            if entry.block:
                emit(before.rstrip(" \t"))
                if last not in ("", "\n"):
                    emit("\n")
                emit(_fence(entry.text, entry.language))
            else:
                emit(before)
                emit(_code_span(entry.text))
            after_block = entry.block
            pos = match.end()
        rest = text[pos:]
        emit(_after_block(rest) if after_block else rest)
        return _ORPHAN.sub("", "".join(out))


def _after_block(text: str) -> str:
    """Text that follows a fenced block: on its own line, without the source's indentation.

    (trafilatura keeps the whitespace that followed ``</pre>`` in the HTML source.)
    """
    stripped = text.lstrip(" \t")
    if stripped.startswith("\n"):
        stripped = "\n" + stripped[1:].lstrip(" \t")
    if not stripped:
        return ""
    return stripped if stripped.startswith("\n") else "\n" + stripped


def _fence(code: str, language: str) -> str:
    """A fenced block whose content is exactly ``code`` (the closing fence follows a newline)."""
    fence = "`" * max(3, _longest_run(code, "`") + 1)
    newline = "" if code.endswith("\n") else "\n"
    return f"{fence}{language}\n{code}{newline}{fence}"


def _code_span(code: str) -> str:
    """An inline code span around ``code``; padded where it starts or ends with a backtick."""
    fence = "`" * (_longest_run(code, "`") + 1)
    if code.startswith("`") or code.endswith("`"):
        code = f" {code} "
    return f"{fence}{code}{fence}"


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max(map(len, runs), default=0)


def code_language(class_values: list[str | None], data_values: list[str | None]) -> str:
    """The language named by ``language-x``/``lang-x``/``highlight-x`` classes or a ``data-lang``."""
    for classes in class_values:
        for name in (classes or "").split():
            match = _LANG_CLASS.match(name)
            if match:
                return match.group(1).lower()
    for value in data_values:
        if value and _LANG_VALUE.match(value.strip()):
            return value.strip().lower()
    return ""


def _is_block(tag: str, text: str) -> bool:
    # <code> outside <pre> is inline unless the page lays it out on several lines.
    return tag == "pre" or "\n" in text.strip("\n")


# --- lxml --------------------------------------------------------------------------------------


def _lxml_language(element: HtmlElement) -> str:
    related = [element, *element.iterchildren("code"), *element.iterancestors()][:4]
    return code_language(
        [e.get("class") for e in related], [e.get(a) for e in related for a in ("data-lang", "data-language")]
    )


def protect_code_lxml(root: HtmlElement) -> CodeTable:
    """Mark every ``<pre>`` and ``<code>`` of an lxml tree (outermost only); return their originals."""
    table = CodeTable()
    # Outermost elements only, chosen before anything moves: an inner one holds part of the same text.
    outermost = [
        e for e in root.iter("pre", "code") if not any(a.tag in ("pre", "code") for a in e.iterancestors())
    ]
    for element in outermost:
        for br in element.iter("br"):
            br.tail = "\n" + (br.tail or "")
        text = "".join(element.itertext())
        if not text.strip():
            continue
        tail = element.tail
        block = _is_block(element.tag, text)
        language = _lxml_language(element) if block else ""
        for child in list(element):
            element.remove(child)
        element.text = table.add(text, language, block)
        element.tail = tail
    return table


# --- lexbor (resiliparse) ----------------------------------------------------------------------


def _lexbor_language(element: ElementNode) -> str:
    related = [element, *(c for c in element.children.values() if c.tag == "code")][:2]
    parent = element.parent
    while isinstance(parent, ElementNode) and len(related) < 4 and parent.tag != "body":
        related.append(parent)
        parent = parent.parent
    return code_language(
        [e.getattr("class") for e in related],
        [e.getattr(a) for e in related for a in ("data-lang", "data-language")],
    )


def protect_code_lexbor(tree: HTMLTree, clean: Callable[[str], str] | None = None) -> CodeTable:
    """Mark every ``<pre>`` and ``<code>`` of a resiliparse tree (outermost only); return their originals.

    ``clean`` takes out of each code text what the caller added to the page before the parse (the
    marks of :mod:`extractors.line_rules`), so the code is recorded and extracted as the page has it.
    """
    table = CodeTable()
    if tree.document is None:
        return table
    # Outermost elements only, chosen before anything changes: setting an element's text removes its
    # children from the lexbor tree, so no wrapper of an inner element is touched afterwards.
    outermost = [
        e
        for e in tree.document.query_selector_all("pre, code").values()
        if e.closest("pre pre, pre code, code pre, code code") is None
    ]
    for element in outermost:
        for br in element.query_selector_all("br").values():
            br.replace_with(tree.create_text_node("\n"))
        text = element.text or ""
        if clean is not None:
            text = clean(text)
        if not text.strip():
            continue
        block = _is_block(element.tag or "", text)
        language = _lexbor_language(element) if block else ""
        element.text = table.add(text, language, block)
    return table
