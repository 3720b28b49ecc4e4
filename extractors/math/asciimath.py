"""AsciiMath → LaTeX for ``<script type="math/asciimath">``: a reasonable subset of the grammar.

AsciiMath's grammar (asciimath.org) is small: ``E ::= I E | I/I E``, ``I ::= S_S | S^S | S_S^S | S``,
``S ::= v | l E r | u S | b S S | "text"``. This parser covers symbols (Greek, operators, relations,
arrows, logic, sets, named functions), grouping brackets (dropped around fraction parts, scripts and
arguments, as AsciiMath renders them), unary functions (``sqrt``, ``hat``, ``bb``, ``abs``, ...),
binary ones (``frac``, ``root``, ``stackrel``, ``overset``) and quoted text. Not covered: matrices
written as bracket lists, ``color``, and user-defined symbols.
"""

from __future__ import annotations

import re

__all__ = ["asciimath_to_latex"]

_CONSTANTS = {
    "alpha": r"\alpha", "beta": r"\beta", "chi": r"\chi", "delta": r"\delta", "Delta": r"\Delta",
    "epsilon": r"\epsilon", "varepsilon": r"\varepsilon", "eta": r"\eta", "gamma": r"\gamma",
    "Gamma": r"\Gamma", "iota": r"\iota", "kappa": r"\kappa", "lambda": r"\lambda",
    "Lambda": r"\Lambda", "lamda": r"\lambda", "mu": r"\mu", "nu": r"\nu", "omega": r"\omega",
    "Omega": r"\Omega", "phi": r"\phi", "varphi": r"\varphi", "Phi": r"\Phi", "pi": r"\pi",
    "Pi": r"\Pi", "psi": r"\psi", "Psi": r"\Psi", "rho": r"\rho", "sigma": r"\sigma",
    "Sigma": r"\Sigma", "tau": r"\tau", "theta": r"\theta", "vartheta": r"\vartheta",
    "Theta": r"\Theta", "upsilon": r"\upsilon", "xi": r"\xi", "Xi": r"\Xi", "zeta": r"\zeta",
    "*": r"\cdot", "**": r"\ast", "***": r"\star", "//": "/", "\\\\": r"\backslash",
    "xx": r"\times", "-:": r"\div", "@": r"\circ", "o+": r"\oplus", "ox": r"\otimes", "o.": r"\odot",
    "sum": r"\sum", "prod": r"\prod", "^^": r"\wedge", "^^^": r"\bigwedge", "vv": r"\vee",
    "vvv": r"\bigvee", "nn": r"\cap", "nnn": r"\bigcap", "uu": r"\cup", "uuu": r"\bigcup",
    "!=": r"\neq", "<=": r"\leq", ">=": r"\geq", "-<": r"\prec", ">-": r"\succ", "in": r"\in",
    "!in": r"\notin", "sub": r"\subset", "sup": r"\supset", "sube": r"\subseteq",
    "supe": r"\supseteq", "-=": r"\equiv", "~=": r"\cong", "~~": r"\approx", "prop": r"\propto",
    "and": r"\text{ and }", "or": r"\text{ or }", "not": r"\neg", "=>": r"\implies",
    "if": r"\text{ if }", "iff": r"\iff", "<=>": r"\iff", "AA": r"\forall", "EE": r"\exists",
    "_|_": r"\bot", "TT": r"\top", "|--": r"\vdash", "|==": r"\models", "int": r"\int",
    "oint": r"\oint", "del": r"\partial", "grad": r"\nabla", "+-": r"\pm", "O/": r"\emptyset",
    "oo": r"\infty", "aleph": r"\aleph", "/_": r"\angle", ":.": r"\therefore", "...": r"\ldots",
    "cdots": r"\cdots", "vdots": r"\vdots", "ddots": r"\ddots", "quad": r"\quad",
    "qquad": r"\qquad", "CC": r"\mathbb{C}", "NN": r"\mathbb{N}", "QQ": r"\mathbb{Q}",
    "RR": r"\mathbb{R}", "ZZ": r"\mathbb{Z}", "uarr": r"\uparrow", "darr": r"\downarrow",
    "rarr": r"\rightarrow", "->": r"\to", ">->": r"\rightarrowtail", "->>": r"\twoheadrightarrow",
    "|->": r"\mapsto", "larr": r"\leftarrow", "harr": r"\leftrightarrow", "rArr": r"\Rightarrow",
    "lArr": r"\Leftarrow", "hArr": r"\Leftrightarrow", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
    "sec": r"\sec", "csc": r"\csc", "cot": r"\cot", "sinh": r"\sinh", "cosh": r"\cosh",
    "tanh": r"\tanh", "log": r"\log", "ln": r"\ln", "exp": r"\exp", "det": r"\det", "dim": r"\dim",
    "lim": r"\lim", "mod": r"\bmod", "gcd": r"\gcd", "lcm": r"\operatorname{lcm}", "min": r"\min",
    "max": r"\max", "Lim": r"\operatorname{Lim}", "=": "=", "<": "<", ">": ">", "+": "+", "-": "-",
    ",": ",", "!": "!", "'": "'", "|": "|", "/": "/", "_": "_", "^": "^",
}  # fmt: skip
_LEFT = {"(": "(", "[": "[", "{": r"\{", "(:": r"\langle", "{:": "", "|:": "|"}
_RIGHT = {")": ")", "]": "]", "}": r"\}", ":)": r"\rangle", ":}": "", ":|": "|"}
_UNARY = {
    "sqrt": r"\sqrt", "hat": r"\hat", "bar": r"\overline", "ul": r"\underline", "vec": r"\vec",
    "dot": r"\dot", "ddot": r"\ddot", "tilde": r"\tilde", "bb": r"\mathbf", "bbb": r"\mathbb",
    "cc": r"\mathcal", "tt": r"\mathtt", "fr": r"\mathfrak", "sf": r"\mathsf", "text": r"\text",
    "abs": "abs", "floor": "floor", "ceil": "ceil", "norm": "norm",
}  # fmt: skip
_AROUND = {"abs": (r"\left|", r"\right|"), "floor": (r"\lfloor ", r" \rfloor"),
           "ceil": (r"\lceil ", r" \rceil"), "norm": (r"\left\|", r"\right\|")}  # fmt: skip
_BINARY = {"frac": r"\frac", "root": "root", "stackrel": r"\stackrel", "overset": r"\overset",
           "underset": r"\underset"}  # fmt: skip
_NAMES = sorted([*_CONSTANTS, *_LEFT, *_RIGHT, *_UNARY, *_BINARY], key=len, reverse=True)
_TOKEN = re.compile(r"\s*(\"[^\"]*\"|\d+(?:\.\d+)?|" + "|".join(map(re.escape, _NAMES)) + r"|.)", re.DOTALL)
_MAX_DEPTH = 100


class _Node:
    """A parsed piece: its TeX, and for a bracket group the TeX inside the brackets."""

    __slots__ = ("inner", "tex")

    def __init__(self, tex: str, inner: str | None = None) -> None:
        self.tex = tex
        self.inner = inner

    @property
    def bare(self) -> str:
        """The TeX with grouping brackets dropped, as AsciiMath does for arguments and scripts."""
        return self.inner if self.inner is not None else self.tex


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0  # in the text; tokens are read lazily so that text(...) can take raw characters
        self._next: tuple[str, int] | None = None

    def peek(self) -> str | None:
        if self._next is None:
            match = _TOKEN.match(self.text, self.pos)
            self._next = (match.group(1), match.end()) if match and match.group(1).strip() else ("", -1)
        return self._next[0] or None

    def take(self) -> str | None:
        token = self.peek()
        if token is not None and self._next is not None:
            self.pos = self._next[1]
        self._next = None
        return token

    def raw_group(self) -> str | None:
        """The raw characters of a ``(..)`` group that follows (the argument of ``text``)."""
        match = re.compile(r"\s*\(([^)]*)\)").match(self.text, self.pos)
        if match is None:
            return None
        self.pos, self._next = match.end(), None
        return match.group(1)

    def expression(self, depth: int, closing: bool = False) -> str:
        """``E``: intermediates, with ``a/b`` turned into fractions; stops at a right bracket."""
        out: list[str] = []
        while self.peek() is not None and depth < _MAX_DEPTH:
            if self.peek() in _RIGHT and (closing or self.peek() not in ("|", ":|")):
                break
            left = self.intermediate(depth + 1)
            if left is None:
                break
            if self.peek() == "/":
                self.take()
                right = self.intermediate(depth + 1) or _Node("")
                out.append(rf"\frac{{{left.bare}}}{{{right.bare}}}")
            else:
                out.append(left.tex)
        return _glue(out)

    def intermediate(self, depth: int) -> _Node | None:
        """``I``: a simple expression with optional ``_`` and ``^`` scripts."""
        base = self.simple(depth)
        if base is None:
            return None
        tex = base.tex
        for mark in ("_", "^"):
            if self.peek() == mark:
                self.take()
                script = self.simple(depth) or _Node("")
                bare = script.bare
                # one letter or digit needs no braces: "s_i", as a person writes it
                tex = f"{tex}{mark}{bare}" if len(bare) == 1 and bare.isalnum() else f"{tex}{mark}{{{bare}}}"
        return _Node(tex, base.inner if tex == base.tex else None)

    def simple(self, depth: int) -> _Node | None:
        """``S``: a symbol, a bracket group, a unary or binary function, or quoted text."""
        token = self.take()
        if token is None or depth > _MAX_DEPTH:
            return None
        if token.startswith('"') and token.endswith('"') and len(token) > 1:
            return _Node(rf"\text{{{token[1:-1]}}}")
        if token in _LEFT:
            inner = self.expression(depth + 1, closing=True)
            right = self.take() if self.peek() in _RIGHT else None
            return _Node(f"{_LEFT[token]}{inner}{_RIGHT.get(right or '', '')}", inner)
        if token == "text":
            raw = self.raw_group()
            if raw is not None:
                return _Node(rf"\text{{{raw}}}")
        if token in _UNARY:
            argument = self.simple(depth + 1) or _Node("")
            if token in _AROUND:
                left, right = _AROUND[token]
                return _Node(f"{left}{argument.bare}{right}")
            return _Node(rf"{_UNARY[token]}{{{argument.bare}}}")
        if token in _BINARY:
            first = self.simple(depth + 1) or _Node("")
            second = self.simple(depth + 1) or _Node("")
            if token == "root":
                return _Node(rf"\sqrt[{first.bare}]{{{second.bare}}}")
            return _Node(rf"{_BINARY[token]}{{{first.bare}}}{{{second.bare}}}")
        if token in _RIGHT:  # an unmatched right bracket: written as itself
            return _Node(_RIGHT[token] or "")
        return _Node(_CONSTANTS.get(token, token))


def _glue(pieces: list[str]) -> str:
    out = ""
    for piece in pieces:
        if out and re.search(r"\\[A-Za-z]+$", out) and piece[:1].isalnum():
            out += " "
        out += piece
    return out


def asciimath_to_latex(text: str) -> str:
    """Convert one AsciiMath formula to LaTeX."""
    parser = _Parser(text)
    pieces = []
    while parser.peek() is not None:
        before = parser.pos
        pieces.append(parser.expression(0))
        if parser.pos == before:  # a stray right bracket at the top level
            pieces.append(_RIGHT.get(parser.take() or "", ""))
    return _glue(pieces).strip()
