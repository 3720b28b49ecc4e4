"""Formulas recorded before extraction, and the text written back after it.

Each formula leaves a placeholder in the DOM that reads as ordinary prose to a boilerplate remover:
a token, ``CCSVMATH<n>I`` (inline) or ``CCSVMATH<n>D`` (display), followed by filler words from a
fixed sentence ("the formula is written here ...") up to about the length of the LaTeX (at most 200
characters; a display formula gets at least three words). Why words, and why that length:

* extractors judge blocks by their text: trafilatura's fallback comparison and jusText/readability
  inside it weigh lengths and stop words, resiliparse weighs text against links. A formula block
  that keeps roughly its text mass, as ordinary words, is judged like the paragraph it was.
  Measured (``docs/extraction.md``, "Math"): with a bare one-word token trafilatura keeps 4 of the
  13 formulas of MathJax's CHTML demo page (8 display formulas alone between headings) and 68 of 75
  on the uedalab [latex] page; with padded placeholders it keeps all of them.
* the token is ASCII and self-delimiting (digits, then one kind letter), so no extractor escapes or
  splits it, and a placeholder glued to the next word (``<script>R</script>esources``) is found.

:meth:`FormulaTable.restore` removes exactly the filler it added after each token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PLACEHOLDER_RE", "Formula", "FormulaTable"]

PLACEHOLDER_RE = re.compile(r"CCSVMATH(\d+)([ID])")
FILLER_WORDS = ("the", "formula", "is", "written", "here", "in", "this", "line", "of", "text")
_FILLER_RE = {word: re.compile(r"\s+" + word) for word in FILLER_WORDS}  # extractors may re-space
_MAX_PADDING = 200
_MIN_DISPLAY_WORDS = 3
# Code the code pass already put back (extractors.codeblocks), or its markers: a "$" there is code.
_CODE = re.compile(
    r"CCSVCODE(\d+)BEGIN.*?CCSVCODE\1END"  # markers, when formulas are restored first
    r"|^(`{3,}).*?^\2[ \t]*$"  # a fenced block
    r"|(`+)[^`\n]+?\3(?!`)",  # an inline code span
    re.DOTALL | re.MULTILINE,
)
_DOLLAR = re.compile(r"(\\*)\$")
_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(slots=True)
class Formula:
    """One formula as LaTeX, without delimiters; ``display`` for block (``$$``) math."""

    latex: str
    display: bool


class FormulaTable:
    """The formulas of one page and how to put them back into the extracted text.

    ``formulas`` lists them in document order. :meth:`restore` replaces each placeholder by ``$latex$``
    or by ``$$latex$$`` on its own line, escapes every other ``$`` of the text as ``\\$`` (not inside
    code), and writes a formula once even when the extractor repeated its placeholder.
    """

    def __init__(self) -> None:
        self.formulas: list[Formula] = []
        self._by_id: list[Formula] = []

    def add(self, formula: Formula) -> str:
        """Record ``formula``; return the placeholder that stands for it in the DOM."""
        self._by_id.append(formula)
        self.formulas.append(formula)
        token = f"CCSVMATH{len(self._by_id) - 1}{'D' if formula.display else 'I'}"
        return token + "".join(" " + word for word in _filler(formula, len(token)))

    def set_order(self, ids: list[int]) -> None:
        """Put ``formulas`` in the order of ``ids`` (as found in the page); unseen ones go last."""
        seen = dict.fromkeys(i for i in ids if 0 <= i < len(self._by_id))
        seen.update(dict.fromkeys(range(len(self._by_id))))
        self.formulas = [self._by_id[i] for i in seen]

    def __len__(self) -> int:
        return len(self._by_id)

    def restore(self, text: str) -> str:
        """Placeholders → ``$..$`` / ``$$..$$``; other ``$`` escaped; repeated placeholders dropped."""
        if "CCSVMATH" not in text:
            return _escape_dollars(text)
        out: list[str] = []
        written: set[int] = set()
        pos = 0
        for match in PLACEHOLDER_RE.finditer(text):
            if match.start() < pos:
                continue  # inside the filler of the placeholder before (cannot happen, but be safe)
            index = int(match.group(1))
            before = _escape_dollars(text[pos : match.start()])
            pos = match.end()
            if index < len(self._by_id):
                pos = _skip_filler(text, pos, _filler(self._by_id[index], match.end() - match.start()))
            if index >= len(self._by_id) or index in written:
                out.append(before)  # a copy the extractor made (or a stray token): written once
                continue
            written.add(index)
            formula = self._by_id[index]
            if not formula.display:
                out.append(before)
                out.append(f"${_inline_body(formula.latex)}$")
                continue
            if _current_line(out, before).lstrip().startswith("|"):
                out.append(before)  # a Markdown table row stays on one line
                out.append(f"$${_inline_body(formula.latex)}$$")
                continue
            # Display math on its own line: break the line before and after unless it already is.
            before = before.rstrip(" \t")
            out.append(before)
            if not _ends_line(out):
                out.append("\n")
            out.append(f"$${_display_body(formula.latex)}$$")
            after = len(text) - len(text[pos:].lstrip(" \t"))
            if after < len(text) and text[after] != "\n":
                out.append("\n")
            pos = after
        out.append(_escape_dollars(text[pos:]))
        return "".join(out)


def _filler(formula: Formula, token_length: int) -> list[str]:
    """The filler words after a formula's token: about the LaTeX's length in characters."""
    target = min(len(formula.latex), _MAX_PADDING) - token_length
    words: list[str] = []
    length = 0
    while length < target or (formula.display and len(words) < _MIN_DISPLAY_WORDS):
        word = FILLER_WORDS[len(words) % len(FILLER_WORDS)]
        words.append(word)
        length += len(word) + 1
    return words


def _skip_filler(text: str, pos: int, words: list[str]) -> int:
    """Where the text goes on after the filler ``words`` that follow position ``pos``."""
    for word in words:
        match = _FILLER_RE[word].match(text, pos)
        if match is None:
            break
        pos = match.end()
    return pos


def _current_line(parts: list[str], before: str) -> str:
    """The line being written: the end of ``parts`` and then ``before``."""
    tail = [before]
    if "\n" not in before:
        for part in reversed(parts):
            tail.append(part)
            if "\n" in part:
                break
    return "".join(reversed(tail)).rsplit("\n", 1)[-1]


def _ends_line(parts: list[str]) -> bool:
    """True when the text so far is empty or ends with a newline."""
    for part in reversed(parts):
        if part:
            return part.endswith("\n")
    return True


def _inline_body(latex: str) -> str:
    # One line: an inline formula must not split the Markdown line it sits in.
    return " ".join(latex.split())


def _display_body(latex: str) -> str:
    # Line breaks inside an environment are kept (they make align blocks readable); blank lines are
    # not: a blank line inside $$..$$ ends the paragraph for Markdown renderers.
    return _BLANK_LINES.sub("\n", latex.strip())


def _escape_dollars(text: str) -> str:
    """``$`` → ``\\$`` outside code; a ``$`` already escaped (odd backslashes before it) stays."""
    if "$" not in text:
        return text
    out: list[str] = []
    pos = 0
    for match in _CODE.finditer(text):
        out.append(_escape_plain(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    if "$" not in text:
        return text
    return _DOLLAR.sub(lambda m: m.group(0) if len(m.group(1)) % 2 else m.group(1) + "\\$", text)
