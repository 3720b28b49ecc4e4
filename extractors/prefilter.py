"""A cheap test on the raw HTML for pages that may carry math, as OpenWebMath's prefilter.

Extraction is the expensive step of a math pipeline and only a few per cent of web pages hold
formulas, so a string search over the HTML decides first which pages are worth extracting. Recall is
what matters: a page without any marker below is dropped for good, while a false positive only costs
one extraction (the math extractor then finds no formula and later filters judge the text). So the
markers are broad: every math renderer's script or stylesheet, MathML, the classes renderers leave in
saved pages, LaTeX image services and BBCode, and a few TeX commands and delimiters that occur in
the raw text of pages whose math is rendered in the browser.
"""

from __future__ import annotations

import re

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Filter, Verdict

__all__ = ["MATH_MARKERS", "MathPrefilter", "find_math_marker"]

# Searched in the lower-cased page. Literal markers first ("in" runs at memory speed), then a few
# patterns, each starting with a literal so that the regex engine can skip ahead to it.
_LITERAL_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mathjax", ("mathjax", "math/tex", "mjx-container", "tex-mml-", "tex-chtml", "tex-svg")),
    ("katex", ("katex",)),
    (
        "latex-image",
        ("latex.php", "codecogs", "mimetex", "mathtex.cgi", "tex.cgi", "wp-latex", "quicklatex", "cht=tx"),
    ),
    ("asciimath", ("asciimath",)),
    ("bbcode", ("[latex]", "[/latex]", "[math]", "[tex]")),
)
_PATTERN_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mathml", re.compile(r"<math[\s>]|<annotation[^>]{0,200}x-tex")),
    (
        "math-class",
        re.compile(
            r"""class=["'][^"'>]{0,200}\b(?:math-container|arithmatex|ltx_math|mwe-math|latex|tex)\b"""
        ),
    ),
    # TeX typed into the page and rendered client-side by a script whose URL we may not recognise.
    (
        "tex-command",
        re.compile(
            r"\\(?:frac|dfrac|tfrac|sqrt|sum_|int_|prod_|lim_|mathbb|mathrm|mathcal|mathbf|cdot|alpha|beta"
            r"|gamma|delta|theta|lambda|sigma|omega|partial|infty|leq|geq|neq|begin\{)"
        ),
    ),
    # "$$...$$" holding some TeX ("\\", "^", "_", "{"): JavaScript's "$$(" and templating's
    # "$$name$$" or "$$$" never contain those between the two pairs.
    ("tex-display", re.compile(r"\$\$[^$]{0,80}?[\\^_{][^$]{0,400}?\$\$")),
)
MATH_MARKERS: tuple[str, ...] = tuple(label for label, _ in _LITERAL_MARKERS + _PATTERN_MARKERS)


def find_math_marker(html: str) -> str | None:
    """The label of the first kind of math marker found in ``html``, or ``None`` when there is none."""
    lowered = html.lower()
    for label, needles in _LITERAL_MARKERS:
        if any(needle in lowered for needle in needles):
            return label
    for label, pattern in _PATTERN_MARKERS:
        if pattern.search(lowered):
            return label
    return None


@register
class MathPrefilter(Filter):
    """Keeps only pages whose raw HTML shows a math marker (MathJax, KaTeX, MathML, TeX, LaTeX images).

    Put it before ``extract``: it reads ``doc.html``. The marker found is stored in
    ``doc.metadata["math_marker"]``; pages without one are dropped as ``no_math_markers``.
    """

    name = "math_prefilter"

    def check(self, doc: Document) -> Verdict:
        if doc.html is None:
            raise ValueError("math_prefilter reads the page's HTML: put it before the extract stage")
        marker = find_math_marker(doc.html)
        if marker is None:
            return "no_math_markers"
        doc.metadata["math_marker"] = marker
        return None
