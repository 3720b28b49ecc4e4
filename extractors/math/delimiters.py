"""TeX left in the text for a renderer: page configuration, delimiter scanning, and what counts as TeX.

Delimiters always on (they are unambiguous, and MathJax's or KaTeX's defaults): ``$$..$$`` and
``\\[..\\]`` display, ``\\(..\\)`` inline, bare ``\\begin{equation|align|gather|...}`` environments
(display, kept whole), and BBCode ``[latex]``, ``[math]``, ``[tex]`` (inline). A page's own inline
configuration (MathJax 2 ``tex2jax``, MathJax 3 ``MathJax = {tex: ...}``, KaTeX auto-render's
``delimiters``) adds its pairs.

``$..$`` is the hard case: prices ("$5 and $10"), shell variables and templating use it too. It is
math when the page configures it, or, when the page says nothing, when the content looks like TeX
(:func:`looks_like_tex`); a page whose configuration lists inline delimiters without ``$`` gets none.
Either way the usual boundary rules apply (no space just inside either ``$``, no digit right after the
closing one), as in Pandoc's ``tex_math_dollars``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Delimiter", "PageConfig", "Span", "looks_like_tex", "read_config", "scan"]

# Formulas that are not formulas: Stack Exchange wraps every post in $\begingroup$ ... $\endgroup$.
NOT_FORMULAS = frozenset({"", r"\begingroup", r"\endgroup"})
ENVIRONMENTS = ("equation", "align", "gather", "multline", "eqnarray", "flalign", "alignat", "displaymath")

_JS_STRING = r"""(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')"""
_JS_STRING_RE = re.compile(_JS_STRING)
_PAIR = re.compile(r"\[\s*" + _JS_STRING + r"\s*,\s*" + _JS_STRING + r"\s*\]", re.DOTALL)
# KaTeX auto-render: delimiters: [{left: "$$", right: "$$", display: true}, ...], one object each
_OBJECT = re.compile(r"\{[^{}]*\}")
_LEFT = re.compile(r"left[\"']?\s*:\s*" + _JS_STRING)
_RIGHT = re.compile(r"right[\"']?\s*:\s*" + _JS_STRING)
_DISPLAY = re.compile(r"display[\"']?\s*:\s*(true|!0)")
_SETTINGS = re.compile(r"(inlineMath|displayMath|delimiters)[\"']?\s*:\s*([\[{])")
_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}

_COMMAND = re.compile(r"\\[A-Za-z]+")
_TEX_MARK = re.compile(r"[\\^_{}]")
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_SIMPLE_MATH = re.compile(r"[A-Za-z0-9\s+\-*/=<>()\[\],.|!']+")
_LONG_WORD = re.compile(r"[A-Za-z]{4,}")
_OPERATOR = re.compile(r"[=<>+\-*/()\[\]|,]")
_ATOM = re.compile(r"(?:[A-Za-z]{1,3}'*|\d+(?:\.\d+)?)[.,;:]?")  # x, x', mgl, m, 0, 2.5
_MAX_INLINE = 2000
_MAX_DISPLAY = 20000


def _js_unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) > 1:
            return chr(int(code[1:], 16))
        return _JS_ESCAPES.get(code, code)

    return _JS_ESCAPE.sub(one, text)


def _balanced(text: str, start: int) -> str:
    """The bracketed expression that opens at ``text[start]``: up to where the brackets balance,
    brackets inside string literals ("\\[") not counted; at most 5,000 characters."""
    depth, index, end = 0, start, min(len(text), start + 5000)
    while index < end:
        char = text[index]
        if char in "\"'":
            match = _JS_STRING_RE.match(text, index)
            index = match.end() if match else index + 1
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
        index += 1
    return text[start:end]


@dataclass(slots=True)
class PageConfig:
    """Delimiters a page configures for its renderer; ``None`` lists mean "not configured"."""

    inline: list[tuple[str, str]] | None = None
    display: list[tuple[str, str]] | None = None
    added_inline: list[tuple[str, str]] = field(default_factory=list)

    @property
    def dollar(self) -> bool | None:
        """True: ``$`` is configured as inline math; False: inline math is configured without it."""
        if ("$", "$") in self.added_inline:
            return True
        if self.inline is None:
            return None
        return ("$", "$") in self.inline


def read_config(scripts: list[str]) -> PageConfig:
    """The delimiters configured by a page's inline scripts (MathJax 2 and 3, KaTeX auto-render)."""
    config = PageConfig()
    for script in scripts:
        if "Math" not in script and "delimiters" not in script:
            continue
        for match in _SETTINGS.finditer(script):
            key, body = match.group(1), _balanced(script, match.start(2))
            if key == "delimiters":
                for found in _OBJECT.finditer(body):
                    left, right = _LEFT.search(found.group(0)), _RIGHT.search(found.group(0))
                    if left is None or right is None:
                        continue
                    pair = (_js_unescape(left.group(1) or left.group(2) or ""),
                            _js_unescape(right.group(1) or right.group(2) or ""))  # fmt: skip
                    target = "display" if _DISPLAY.search(found.group(0)) else "inline"
                    setattr(config, target, (getattr(config, target) or []) + [pair])
                continue
            pairs = [
                (_js_unescape(p.group(1) or p.group(2) or ""), _js_unescape(p.group(3) or p.group(4) or ""))
                for p in _PAIR.finditer(body)
            ]
            if body.startswith("{") and "[+]" in body:  # MathJax 3: {'[+]': [...]} adds to the defaults
                if key == "inlineMath":
                    config.added_inline.extend(pairs)
                continue
            if key == "inlineMath":
                config.inline = (config.inline or []) + pairs
            else:
                config.display = (config.display or []) + pairs
    return config


def looks_like_tex(content: str) -> bool:
    """Whether the text between two unconfigured ``$`` reads as TeX rather than prose, money or code.

    TeX: a control word (``\\alpha``), a script or brace (``^ _ { }``), a number or a name of at
    most three letters with its punctuation (``x``, ``x'``, ``mgl``, ``m,``, ``0``), or a short
    expression of such names, numbers and operators with at least one operator or bracket
    (``b = u = 0``, ``E = mgl``, ``u(t)``, ``[1,2]``). Prose never is: a word of four letters or
    more without a command, or many words beside few commands.
    """
    text = content.strip()
    if not text or "\n\n" in text:
        return False
    words = len(_WORD.findall(text))
    commands = len(_COMMAND.findall(text))
    if commands or _TEX_MARK.search(text):
        return words <= 2 + 3 * commands
    if _ATOM.fullmatch(text):
        return True
    operators = len(_OPERATOR.findall(text))
    if operators and not _LONG_WORD.search(text) and _SIMPLE_MATH.fullmatch(text):
        # letters must not outnumber what the operators can join: "a + b", not "x y z w"
        return len(re.findall(r"[A-Za-z]", text)) <= 2 * operators + 2
    return False


def _prose(content: str) -> bool:
    """Prose between two configured ``$``: many words and no TeX at all."""
    return len(_WORD.findall(content)) >= 4 and not _TEX_MARK.search(content)


@dataclass(frozen=True, slots=True)
class Delimiter:
    """One pair of delimiters; ``check``: "none", "tex" (content must look like TeX) or "prose"."""

    open: str
    close: str
    display: bool
    check: str = "none"


@dataclass(frozen=True, slots=True)
class Span:
    """A formula found in a run of text: ``text[start:end]`` is replaced; ``latex`` may be empty."""

    start: int
    end: int
    latex: str
    display: bool


def delimiters_for(config: PageConfig, dollar_heuristic: bool = True) -> list[Delimiter]:
    """The delimiters to scan a page with: the defaults plus what the page configures.

    Unconfigured ``$`` is tried (content checked by :func:`looks_like_tex`) only with
    ``dollar_heuristic``, and never when the page's configuration lists inline math without it.
    """
    found: dict[str, Delimiter] = {}

    def add(delimiter: Delimiter) -> None:
        if delimiter.open and delimiter.close and delimiter.open not in found:
            found[delimiter.open] = delimiter

    configured_display = config.display or []
    configured_inline = (config.inline or []) + config.added_inline
    for open_, close in configured_display:
        add(Delimiter(open_, close, True, "prose" if open_.startswith("$") else "none"))
    for open_, close in configured_inline:
        add(Delimiter(open_, close, False, "prose" if open_.startswith("$") else "none"))
    add(Delimiter("$$", "$$", True, "tex"))
    add(Delimiter("\\[", "\\]", True))
    add(Delimiter("\\(", "\\)", False))
    for tag in ("latex", "math", "tex"):
        add(Delimiter(f"[{tag}]", f"[/{tag}]", False))
    if config.dollar is None and dollar_heuristic:
        add(Delimiter("$", "$", False, "tex"))
    return list(found.values())


def _escaped(text: str, pos: int) -> bool:
    """Whether ``text[pos]`` follows an odd run of backslashes (``\\$``, the ``(`` of ``\\\\(``)."""
    count = 0
    while pos - count - 1 >= 0 and text[pos - count - 1] == "\\":
        count += 1
    return count % 2 == 1


class _Closers:
    """First unescaped occurrence of each closing delimiter at or after a position, remembered.

    Without the memory, a page with thousands of unclosed openers ("$$", "\\begin{equation}")
    would search to its end once per opener.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[str, tuple[int, int]] = {}  # close -> (searched from, first occurrence or -1)

    def next(self, close: str, start: int) -> int:
        searched = self.found.get(close)
        if searched is not None and searched[0] <= start and (searched[1] == -1 or start <= searched[1]):
            return searched[1]
        pos = self.text.find(close, start)
        while pos != -1 and close[0] in "\\$" and _escaped(self.text, pos):
            pos = self.text.find(close, pos + 1)
        self.found[close] = (start, pos)
        return pos


def _find_end(text: str, start: int, environment: str, closers: _Closers) -> int:
    r"""End of the ``\end{environment}`` that closes one opened before ``start`` (nesting counted)."""
    begin, end = f"\\begin{{{environment}}}", f"\\end{{{environment}}}"
    depth, pos = 1, start
    while depth:
        next_end = closers.next(end, pos)
        if next_end == -1:
            return -1
        next_begin = text.find(begin, pos, next_end)
        if next_begin != -1:
            depth, pos = depth + 1, next_begin + len(begin)
        else:
            depth, pos = depth - 1, next_end + len(end)
    return pos


class Scanner:
    """Finds delimited formulas in runs of text, for one page's set of delimiters."""

    def __init__(self, delimiters: list[Delimiter]) -> None:
        self.by_open = {d.open: d for d in delimiters}
        openers = sorted(self.by_open, key=len, reverse=True)
        environments = "|".join(ENVIRONMENTS)
        self.pattern = re.compile(
            "|".join(map(re.escape, openers)) + rf"|\\begin\{{((?:{environments})\*?)\}}"
        )

    def could_match(self, text: str) -> bool:
        """A cheap test: does ``text`` hold any opener at all?"""
        return self.pattern.search(text) is not None

    def scan(self, text: str, first_only: bool = False) -> list[Span]:
        """The delimited formulas of ``text``, left to right, none overlapping (or just the first)."""
        spans: list[Span] = []
        closers = _Closers(text)
        pos = 0
        while True:
            match = self.pattern.search(text, pos)
            if match is None:
                return spans
            start = match.start()
            opener = match.group(0)
            if opener[0] in "\\$" and _escaped(text, start):
                pos = start + 1
                continue
            if match.group(1):  # a bare environment, kept whole
                end = _find_end(text, match.end(), match.group(1), closers)
                if end == -1:
                    pos = match.end()
                    continue
                spans.append(Span(start, end, text[start:end], True))
                if first_only:
                    return spans
                pos = end
                continue
            span = self._delimited(text, start, self.by_open[opener], closers)
            if span is None:
                pos = start + (1 if opener == "$" else len(opener))
                continue
            spans.append(span)
            if first_only:
                return spans
            pos = span.end

    def _delimited(self, text: str, start: int, delimiter: Delimiter, closers: _Closers) -> Span | None:
        body = start + len(delimiter.open)
        close = closers.next(delimiter.close, body)
        if close == -1 or close - body > (_MAX_DISPLAY if delimiter.display else _MAX_INLINE):
            return None
        end = close + len(delimiter.close)
        content = text[body:close]
        if "CCSVMATH" in content:  # a formula already taken out sits in between: not one span
            return None
        if delimiter.open.startswith("$"):
            if not content or content[0].isspace() or content[-1].isspace():
                if delimiter.open == "$" or not content.strip():
                    return None
            if end < len(text) and text[end].isdigit():
                return None  # "$5 and $10": a closing $ is never followed by a digit
            if delimiter.open == "$" and content.startswith("latex "):
                content = content[len("latex ") :]  # WordPress's $latex ...$ shortcode
                if not looks_like_tex(content):
                    return None
        latex = content.strip()
        if delimiter.check == "tex" and not looks_like_tex(latex):
            return None
        if delimiter.check == "prose" and _prose(latex):
            return None
        return Span(start, end, "" if latex in NOT_FORMULAS else latex, delimiter.display)


def scan(text: str, config: PageConfig | None = None) -> list[Span]:
    """The formulas delimited in ``text`` under ``config`` (the defaults when ``None``)."""
    return Scanner(delimiters_for(config or PageConfig())).scan(text)
