# ruff: noqa: RUF001 -- the tables map Unicode math symbols, which look like Latin letters by design
"""MathML → LaTeX, for formulas whose markup carries no TeX (MathJax 3 output, bare MathML).

Compact on purpose: the presentation elements pages actually use (token elements, scripts, fractions,
roots, over/under, tables, fences, styles, ``semantics``) and a table of the Unicode characters that
have a TeX command. The result is valid, readable LaTeX, not a copy of what an author typed.
Written against :class:`~extractors.math.dom.Dom`, so it reads lxml and lexbor trees alike.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from extractors.math.dom import Dom

__all__ = ["TEX_ENCODINGS", "annotation_tex", "mathml_tex", "mathml_to_latex"]

# <annotation encoding=...> values that hold TeX
TEX_ENCODINGS = frozenset({"application/x-tex", "application/x-latex", "tex", "latex", "text/x-tex"})

_SYMBOLS = {
    # Greek
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ϖ": r"\varpi", "ρ": r"\rho",
    "ϱ": r"\varrho", "σ": r"\sigma", "ς": r"\varsigma", "τ": r"\tau", "υ": r"\upsilon", "φ": r"\phi",
    "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta",
    "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Υ": r"\Upsilon",
    "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    # operators and relations
    "−": "-", "±": r"\pm", "∓": r"\mp", "×": r"\times", "÷": r"\div", "⋅": r"\cdot", "·": r"\cdot",
    "∗": "*", "∘": r"\circ", "∙": r"\bullet", "⊕": r"\oplus", "⊗": r"\otimes", "≠": r"\neq",
    "≤": r"\leq", "≥": r"\geq", "≦": r"\leqq", "≧": r"\geqq", "≪": r"\ll", "≫": r"\gg",
    "≈": r"\approx", "≡": r"\equiv", "≅": r"\cong", "∼": r"\sim", "≃": r"\simeq", "∝": r"\propto",
    "≔": ":=", "∈": r"\in", "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊃": r"\supset",
    "⊆": r"\subseteq", "⊇": r"\supseteq", "∪": r"\cup", "∩": r"\cap", "∖": r"\setminus",
    "∧": r"\wedge", "∨": r"\vee", "¬": r"\neg", "∀": r"\forall", "∃": r"\exists", "∄": r"\nexists",
    "∂": r"\partial", "∇": r"\nabla", "∞": r"\infty", "∅": r"\emptyset", "′": "'", "″": "''",
    "→": r"\to", "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow",
    "⇐": r"\Leftarrow", "⇔": r"\Leftrightarrow", "⟹": r"\implies", "⟸": r"\impliedby",
    "⟺": r"\iff", "↦": r"\mapsto", "⟶": r"\longrightarrow", "↑": r"\uparrow", "↓": r"\downarrow",
    "…": r"\ldots", "⋯": r"\cdots", "⋮": r"\vdots", "⋱": r"\ddots", "∣": "|", "∥": r"\|",
    "‖": r"\|", "⊥": r"\perp", "∠": r"\angle", "°": r"^\circ", "⟨": r"\langle", "⟩": r"\rangle",
    "⌊": r"\lfloor", "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil", "{": r"\{", "}": r"\}",
    "∑": r"\sum", "∏": r"\prod", "∐": r"\coprod", "∫": r"\int", "∬": r"\iint", "∭": r"\iiint",
    "∮": r"\oint", "⋃": r"\bigcup", "⋂": r"\bigcap", "⨁": r"\bigoplus", "⨂": r"\bigotimes",
    "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}",
    "ℓ": r"\ell", "ℏ": r"\hbar", "ℜ": r"\Re", "ℑ": r"\Im", "ℵ": r"\aleph", "⊤": r"\top",
    "\u2061": "", "\u2062": "", "\u2063": "", "\u2064": "", "\u200b": "", "\u00a0": " ",
    "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "_": r"\_",
}  # fmt: skip
_RELATIONS = frozenset(
    "= < > + - \\pm \\mp \\times \\div \\cdot \\neq \\leq \\geq \\approx \\equiv \\sim \\simeq \\cong "
    "\\propto \\in \\notin \\subset \\supset \\subseteq \\supseteq \\cup \\cap \\to \\Rightarrow "
    "\\Leftarrow \\Leftrightarrow \\implies \\iff \\mapsto \\leftarrow \\leftrightarrow \\ll \\gg := "
    "\\oplus \\otimes \\wedge \\vee \\longrightarrow \\perp".split()
)
_FUNCTIONS = frozenset(
    "sin cos tan cot sec csc sinh cosh tanh coth arcsin arccos arctan log ln lg exp lim liminf limsup "
    "max min sup inf det dim ker deg gcd arg hom Pr mod".split()
)
_LARGE = frozenset({r"\sum", r"\prod", r"\coprod", r"\bigcup", r"\bigcap", r"\bigoplus", r"\bigotimes",
                    r"\lim", r"\max", r"\min", r"\sup", r"\inf", r"\liminf", r"\limsup"})  # fmt: skip
_OVER_ACCENTS = {
    "˙": r"\dot", ".": r"\dot", "¨": r"\ddot", "^": r"\hat", "ˆ": r"\hat", "~": r"\tilde",
    "˜": r"\tilde", "¯": r"\bar", "‾": r"\overline", "→": r"\vec", "\u20d7": r"\vec",
    "⏞": r"\overbrace", "←": r"\overleftarrow", "´": r"\acute", "`": r"\grave",
    "ˇ": r"\check", "˘": r"\breve",
}  # fmt: skip
_UNDER_ACCENTS = {"_": r"\underline", "\u0332": r"\underline", "‾": r"\underline", "⏟": r"\underbrace"}
_VARIANTS = {
    "bold": r"\mathbf", "double-struck": r"\mathbb", "script": r"\mathcal", "bold-script": r"\mathcal",
    "fraktur": r"\mathfrak", "bold-fraktur": r"\mathfrak", "sans-serif": r"\mathsf",
    "monospace": r"\mathtt", "bold-italic": r"\boldsymbol", "normal": r"\mathrm",
}  # fmt: skip
_ALPHANUMERIC_STYLES = (  # Unicode "MATHEMATICAL <STYLE> CAPITAL A" names, longest first
    ("BOLD ITALIC", "bold-italic"), ("BOLD SCRIPT", "bold-script"), ("BOLD FRAKTUR", "bold-fraktur"),
    ("DOUBLE-STRUCK", "double-struck"), ("SANS-SERIF", "sans-serif"), ("MONOSPACE", "monospace"),
    ("FRAKTUR", "fraktur"), ("SCRIPT", "script"), ("BOLD", "bold"), ("ITALIC", ""),
)  # fmt: skip
_CONTROL_WORD_END = re.compile(r"\\[A-Za-z]+$")
_SPACES = re.compile(r"\s+")
_ATOM = re.compile(r"\\[A-Za-z]+(?:\{[^{}]*\})?")  # \alpha, \mathbf{V}: no braces needed around it
_MAX_DEPTH = 200


def annotation_tex(dom: Dom[Any, Any], node: Any) -> str:
    """The text of the first TeX ``<annotation>`` below ``node``, or ""."""
    for annotation in dom.descendants(node, "annotation"):
        if (dom.attr(annotation, "encoding") or "").strip().lower() in TEX_ENCODINGS:
            tex = dom.text(annotation).strip()
            if tex:
                return tex
    return ""


def mathml_tex(dom: Dom[Any, Any], math: Any) -> str:
    """The TeX a ``<math>`` element carries: its TeX annotation, else ``alttext`` or ``data-latex``,
    else a conversion of its markup."""
    tex = annotation_tex(dom, math)
    if tex:
        return tex
    # alttext (LaTeXML, Wikipedia), then MathJax 4's data-latex, then a conversion of the markup
    for name in ("alttext", "data-latex"):
        value = (dom.attr(math, name) or "").strip()
        if value:
            return value
    return mathml_to_latex(dom, math)


def mathml_to_latex(dom: Dom[Any, Any], node: Any) -> str:
    """Convert a MathML element (usually ``<math>``) to LaTeX."""
    return _SPACES.sub(" ", _Converter(dom).convert(node, 0)).strip()


def _char(text: str) -> str:
    """One token's text as TeX: commands for the symbols that have one, letters styled by codepoint."""
    out = []
    for char in text:
        if char in _SYMBOLS:
            out.append(_SYMBOLS[char])
        elif ord(char) >= 0x1D400 and ord(char) <= 0x1D7FF:
            out.append(_styled_alphanumeric(char))
        else:
            out.append(char)
    return _join(out)


def _styled_alphanumeric(char: str) -> str:
    name = unicodedata.name(char, "")
    base = unicodedata.normalize("NFKC", char)
    for key, variant in _ALPHANUMERIC_STYLES:
        if f"MATHEMATICAL {key} " in name:
            base = _char(base)
            return f"{_VARIANTS[variant]}{{{base}}}" if variant else base
    return base


def _join(pieces: list[str]) -> str:
    """Concatenate TeX pieces, with a space where a control word would run into a letter."""
    out = ""
    for piece in pieces:
        if not piece:
            continue
        if out and _CONTROL_WORD_END.search(out) and (piece[0].isalpha() or piece[0] == "@"):
            out += " "
        out += piece
    return out


def _group(tex: str) -> str:
    """``tex`` as a script or argument: bare when it is one character or one control word."""
    tex = tex.strip()
    if len(tex) == 1 or _ATOM.fullmatch(tex):
        return tex
    return f"{{{tex}}}"


def _text_escape(text: str) -> str:
    return re.sub(r"([{}#$%&_])", r"\\\1", text.replace("\\", r"\textbackslash "))


class _Converter:
    def __init__(self, dom: Dom[Any, Any]) -> None:
        self.dom = dom

    def convert(self, node: Any, depth: int) -> str:
        if depth > _MAX_DEPTH:
            return ""
        dom = self.dom
        tag = dom.tag(node)
        handler = getattr(self, "_" + tag.replace("-", "_"), None)
        if handler is not None:
            return str(handler(node, depth + 1))
        return self._row(node, depth + 1)

    def _kids(self, node: Any, depth: int) -> list[str]:
        return [self.convert(child, depth) for child in self.dom.children(node)]

    def _row(self, node: Any, depth: int) -> str:
        kids = self._kids(node, depth)
        for index, kid in enumerate(kids):
            # a sign at the start or after an operator or opening bracket is unary: "-x", not " - x"
            if kid in (" - ", " + ", r" \pm ") and (index == 0 or kids[index - 1][-1:] in " ([{,"):
                kids[index] = kid.strip()
        return _join(kids)

    _math = _mrow = _mstyle = _mpadded = _merror = _row

    def _semantics(self, node: Any, depth: int) -> str:
        children = [c for c in self.dom.children(node) if not self.dom.tag(c).startswith("annotation")]
        return self.convert(children[0], depth) if children else ""

    def _maction(self, node: Any, depth: int) -> str:
        children = self.dom.children(node)
        return self.convert(children[0], depth) if children else ""

    def _annotation(self, node: Any, depth: int) -> str:
        return ""

    _annotation_xml = _none = _mprescripts = _annotation

    def _mphantom(self, node: Any, depth: int) -> str:
        return rf"\phantom{{{self._row(node, depth)}}}"

    def _mi(self, node: Any, depth: int) -> str:
        text = self.dom.text(node).strip()
        variant = (self.dom.attr(node, "mathvariant") or "").strip()
        if len(text) > 1 and text in _FUNCTIONS:
            return "\\" + text
        tex = _char(text)
        if len(text) > 1 and not any(c in _SYMBOLS for c in text):
            command = _VARIANTS.get(variant, _VARIANTS["normal"])
            return f"{command}{{{tex}}}"
        if variant in _VARIANTS and variant != "normal" and tex:
            return rf"{_VARIANTS[variant]}{{{tex}}}"
        if variant == "normal" and len(text) == 1 and text.isalpha() and text.isascii():
            return rf"\mathrm{{{tex}}}"
        return tex

    def _mn(self, node: Any, depth: int) -> str:
        return _char(self.dom.text(node).strip())

    def _mo(self, node: Any, depth: int) -> str:
        tex = _char(self.dom.text(node).strip())
        if tex in _RELATIONS:
            return f" {tex} "
        if tex == ",":
            return ", "
        return tex

    def _mtext(self, node: Any, depth: int) -> str:
        text = self.dom.text(node).replace("\u00a0", " ")
        if not text.strip():
            return r"\ " if text else ""
        return rf"\text{{{_text_escape(text)}}}"

    def _ms(self, node: Any, depth: int) -> str:
        return rf"\text{{``{_text_escape(self.dom.text(node))}''}}"

    def _mspace(self, node: Any, depth: int) -> str:
        if (self.dom.attr(node, "linebreak") or "") == "newline":
            return r" \\ "
        match = re.match(r"\s*([\d.]+)\s*em", self.dom.attr(node, "width") or "")
        width = float(match.group(1)) if match else 0.0
        if width >= 1.5:
            return r"\qquad "
        if width >= 0.9:
            return r"\quad "
        if width >= 0.25:
            return r"\;"
        return r"\," if width > 0 else ""

    def _scripts(self, node: Any, depth: int) -> list[str]:
        return [self.convert(child, depth).strip() for child in self.dom.children(node)]

    def _msup(self, node: Any, depth: int) -> str:
        parts = [*self._scripts(node, depth), "", ""]
        return f"{_group(parts[0]) if parts[0] else '{}'}^{_group(parts[1])}"

    def _msub(self, node: Any, depth: int) -> str:
        parts = [*self._scripts(node, depth), "", ""]
        return f"{_group(parts[0]) if parts[0] else '{}'}_{_group(parts[1])}"

    def _msubsup(self, node: Any, depth: int) -> str:
        parts = [*self._scripts(node, depth), "", "", ""]
        return f"{_group(parts[0]) if parts[0] else '{}'}_{_group(parts[1])}^{_group(parts[2])}"

    def _mmultiscripts(self, node: Any, depth: int) -> str:
        children = self.dom.children(node)
        tags = [self.dom.tag(c) for c in children]
        split = tags.index("mprescripts") if "mprescripts" in tags else len(children)
        parts = [self.convert(c, depth).strip() for c in children]
        base, post, pre = parts[0] if parts else "", parts[1:split], parts[split + 1 :]

        def scripts(pairs: list[str]) -> str:
            out = ""
            for sub, sup in zip(pairs[0::2], pairs[1::2], strict=False):
                out += (f"_{_group(sub)}" if sub else "") + (f"^{_group(sup)}" if sup else "")
            return out

        prefix = f"{{}}{scripts(pre)}" if pre else ""
        return f"{prefix}{_group(base) if base else '{}'}{scripts(post)}"

    def _mfrac(self, node: Any, depth: int) -> str:
        parts = [*self._scripts(node, depth), "", ""]
        thickness = (self.dom.attr(node, "linethickness") or "").strip()
        if thickness in ("0", "0px", "0em", "0pt"):
            return rf"{{{parts[0]} \atop {parts[1]}}}"
        if (self.dom.attr(node, "bevelled") or "") == "true":
            return f"{_group(parts[0])}/{_group(parts[1])}"
        return rf"\frac{{{parts[0]}}}{{{parts[1]}}}"

    def _msqrt(self, node: Any, depth: int) -> str:
        return rf"\sqrt{{{self._row(node, depth).strip()}}}"

    def _mroot(self, node: Any, depth: int) -> str:
        parts = [*self._scripts(node, depth), "", ""]
        return rf"\sqrt[{parts[1]}]{{{parts[0]}}}"

    def _menclose(self, node: Any, depth: int) -> str:
        inner = self._row(node, depth).strip()
        notation = self.dom.attr(node, "notation") or ""
        if "radical" in notation:
            return rf"\sqrt{{{inner}}}"
        if "box" in notation or "roundedbox" in notation:
            return rf"\boxed{{{inner}}}"
        return inner

    def _mover(self, node: Any, depth: int) -> str:
        children = self.dom.children(node)
        if len(children) < 2:
            return self._row(node, depth)
        base = self.convert(children[0], depth).strip()
        over_text = self.dom.text(children[1]).strip()
        if over_text in _OVER_ACCENTS and self.dom.tag(children[1]) == "mo":
            command = _OVER_ACCENTS[over_text]
            if len(base) > 2 and command in (r"\hat", r"\tilde", r"\bar"):
                command = {r"\hat": r"\widehat", r"\tilde": r"\widetilde", r"\bar": r"\overline"}[command]
            return f"{command}{{{base}}}"
        over = self.convert(children[1], depth).strip()
        if base in _LARGE:
            return f"{base}^{_group(over)}"
        return rf"\overset{{{over}}}{{{base}}}"

    def _munder(self, node: Any, depth: int) -> str:
        children = self.dom.children(node)
        if len(children) < 2:
            return self._row(node, depth)
        base = self.convert(children[0], depth).strip()
        under_text = self.dom.text(children[1]).strip()
        if under_text in _UNDER_ACCENTS and self.dom.tag(children[1]) == "mo":
            return f"{_UNDER_ACCENTS[under_text]}{{{base}}}"
        under = self.convert(children[1], depth).strip()
        if base in _LARGE or base.startswith(r"\int"):
            return f"{base}_{_group(under)}"
        return rf"\underset{{{under}}}{{{base}}}"

    def _munderover(self, node: Any, depth: int) -> str:
        parts = [*self._scripts(node, depth), "", "", ""]
        return f"{parts[0]}_{_group(parts[1])}^{_group(parts[2])}"

    def _mfenced(self, node: Any, depth: int) -> str:
        open_ = self.dom.attr(node, "open")
        close = self.dom.attr(node, "close")
        separators = (self.dom.attr(node, "separators") or ",").replace(" ", "") or ""
        kids = self._kids(node, depth)
        body = ""
        for index, kid in enumerate(kids):
            if index and separators:
                body += separators[min(index - 1, len(separators) - 1)] + " "
            body += kid
        return f"{_char('(' if open_ is None else open_)}{body}{_char(')' if close is None else close)}"

    def _mtable(self, node: Any, depth: int) -> str:
        rows = []
        for row in self.dom.children(node):
            cells = self.dom.children(row)
            if self.dom.tag(row) == "mlabeledtr":
                cells = cells[1:]  # the equation label
            rows.append(" & ".join(self.convert(cell, depth).strip() for cell in cells))
        align = (self.dom.attr(node, "columnalign") or "").split()
        env = "aligned" if align[:2] == ["right", "left"] else "matrix"
        body = r" \\ ".join(rows)
        return rf"\begin{{{env}}} {body} \end{{{env}}}"

    def _mtd(self, node: Any, depth: int) -> str:
        return self._row(node, depth)

    _mtr = _mlabeledtr = _mtd

    def _mglyph(self, node: Any, depth: int) -> str:
        return self.dom.attr(node, "alt") or ""
