"""The math pass, written once against :class:`~extractors.math.dom.Dom`.

Two phases over one parsed page:

1. **Elements**, in document order, outermost first (a handled element's descendants are skipped):
   MathJax 2 scripts and their rendered copies, MathJax 3 containers, MathML, KaTeX, Wikipedia's
   math spans, Stack Exchange and arithmatex containers, LaTeX images. Each formula element is
   replaced by its placeholder; a rendered copy of a formula found elsewhere is removed.
2. **Text**: runs of text (the inline text of one block) are scanned for delimiters
   (:mod:`extractors.math.delimiters`); each delimited formula is cut out of its text slots and
   replaced by a placeholder.

The table then lists the formulas in document order (phase 2 sees phase 1's placeholders in the text).
"""

from __future__ import annotations

import bisect
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from extractors.math.asciimath import asciimath_to_latex
from extractors.math.delimiters import NOT_FORMULAS, PageConfig, Scanner, delimiters_for, read_config
from extractors.math.dom import Dom
from extractors.math.mathml import annotation_tex, mathml_tex
from extractors.math.table import PLACEHOLDER_RE, Formula, FormulaTable

__all__ = ["protect"]

_TAGS = ("script", "math", "mjx-container")
_CLASS_PARTS = ("katex", "MathJax", "mwe-math", "math-container", "arithmatex")
_IMAGE_SOURCES = ("src", "srcset", "data-src", "data-lazy-src", "data-srcset", "data-orig-file")
# Only images that may be formulas are looked at in Python (pages have hundreds of the others):
# a class or a source with "tex" in it (latex.php, mimetex, mathtex, latex.codecogs.com, codecogs'
# "?latex=") or Google Charts' TeX. Each more selector costs lexbor a walk of the document.
_ATTR_PARTS = (
    ("*", "data-expr", ""),
    ("img", "class", "tex"),
    ("img", "class", "ql-img"),
    ("img", "src", "cht=tx"),
    *(("img", name, "tex") for name in _IMAGE_SOURCES),
)

# MathJax 2's rendered output beside each script: removed when the script is there.
_MATHJAX2_OUTPUT = frozenset(
    {"MathJax", "MathJax_Display", "MathJax_SVG", "MathJax_SVG_Display", "MathJax_CHTML",
     "MathJax_CHTML_Display", "MathJax_PHTML", "MathJax_MathML", "MathJax_MathContainer",
     "MathJax_Preview", "MJX_Assistive_MathML"}
)  # fmt: skip
_IMAGE_CLASSES = frozenset(
    {"latex", "tex", "wp-latex", "mathtex", "mimetex", "latexrender", "ql-img-inline-formula",
     "ql-img-displayed-equation", "mwe-math-fallback-image-inline", "mwe-math-fallback-image-display"}
)  # fmt: skip
_IMAGE_URL = re.compile(
    r"latex\.php|codecogs\.com|mimetex\.cgi|mathtex\.cgi|chart\.apis\.google\.com/chart\?[^ ]*cht=tx",
    re.IGNORECASE,
)
_GENERIC_ALTS = frozenset({"latex", "tex", "equation", "formula", "math", "image", "img"})
_EQUATION_NUMBER = re.compile(r"[\s.,;:]*(?:\(\s*[\w.]{1,8}\s*\))?[\s.,;:]*")
_CENTRED = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)

# Phase 2: block elements end a run of text; the skipped ones hold no prose (or hold code).
BLOCKS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p section summary "
    "table tbody td tfoot th thead tr ul caption option legend".split()
)
SKIPS = frozenset("head script style pre code textarea noscript template svg math select".split())

_FALLBACK_IMAGE = re.compile(r"\bmwe-math-fallback-image")
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_Action = tuple[str, Formula | None]  # ("formula", f) replaces, ("remove", None) deletes


def protect(dom: Dom[Any, Any]) -> FormulaTable:
    """Replace every formula of the page by a placeholder; return the table that restores them."""
    table = FormulaTable()
    candidates = dom.select(_TAGS, _CLASS_PARTS, _ATTR_PARTS)
    scripts = [c for c in candidates if dom.tag(c) == "script"]
    config = read_config([dom.text(s) for s in scripts if _is_config_script(dom, s)])
    math_scripts = {dom.attr(s, "id") for s in scripts if _script_type(dom, s).startswith("math/")}
    handled: Any = None
    for node in candidates:
        if (handled is not None and dom.contains(handled, node)) or dom.parent(node) is None:
            continue  # inside an element already replaced, or removed itself
        action = _classify(dom, node, math_scripts)
        if action is None:
            continue
        kind, formula = action
        if kind == "remove" or formula is None or formula.latex.strip() in NOT_FORMULAS:
            handled = node
            dom.remove(node)
            continue
        handled = _visible_target(dom, node)
        fallback = dom.next_element(handled)
        if fallback is not None and _FALLBACK_IMAGE.search(dom.attr(fallback, "class") or ""):
            dom.remove(fallback)  # Wikipedia's image copy of a MathML formula without its wrapper
        dom.replace_with_text(handled, table.add(formula))
    _protect_text(dom, table, config, [dom.text(s) for s in scripts if dom.parent(s) is not None])
    return table


# --- phase 1: elements -------------------------------------------------------------------------


def _visible_target(dom: Dom[Any, Any], node: Any) -> Any:
    """The element to replace: ``node``, or the hidden wrapper around it that holds nothing else.

    resiliparse drops hidden elements (``display: none``, ``hidden``) with all they contain, a
    placeholder too: Wikipedia's MathML sits in such a span, its image copy beside it.
    """
    for _ in range(3):
        parent = dom.parent(node)
        if parent is None or not _is_hidden(dom, parent):
            break
        if len(dom.children(parent)) != 1 or dom.text(parent).strip() != dom.text(node).strip():
            break
        node = parent
    return node


def _is_hidden(dom: Dom[Any, Any], node: Any) -> bool:
    return dom.attr(node, "hidden") is not None or bool(_HIDDEN.search(dom.attr(node, "style") or ""))


def _classes(dom: Dom[Any, Any], node: Any) -> set[str]:
    return set((dom.attr(node, "class") or "").split())


def _script_type(dom: Dom[Any, Any], node: Any) -> str:
    return (dom.attr(node, "type") or "").strip().lower()


def _is_config_script(dom: Dom[Any, Any], node: Any) -> bool:
    kind = _script_type(dom, node)
    return kind in ("", "text/javascript", "module", "application/javascript") or "mathjax-config" in kind


def _classify(dom: Dom[Any, Any], node: Any, math_scripts: set[str | None]) -> _Action | None:
    tag = dom.tag(node)
    if tag == "script":
        return _script(dom, node)
    if tag == "mjx-container":
        return _mathjax3(dom, node)
    if tag == "math":
        display = (dom.attr(node, "display") or dom.attr(node, "mode") or "") in ("block", "display")
        return "formula", Formula(mathml_tex(dom, node), display)
    if tag == "img":
        return _image(dom, node)
    classes = _classes(dom, node)
    if "mwe-math-element" in classes:
        return _wikipedia(dom, node)
    if classes & {"katex-display", "katex", "katex-eq"}:
        return _katex(dom, node, classes)
    if classes & _MATHJAX2_OUTPUT:
        return _mathjax2_output(dom, node, classes, math_scripts)
    if "math-container" in classes or "arithmatex" in classes:
        return _delimited_container(dom, node)
    expression = dom.attr(node, "data-expr")
    if expression and re.search(r"math|tex|katex|eq", " ".join(classes), re.IGNORECASE):
        return "formula", Formula(expression.strip(), "display" in " ".join(classes) or tag == "div")
    return None


def _script(dom: Dom[Any, Any], node: Any) -> _Action | None:
    kind = _script_type(dom, node)
    if kind.startswith("math/tex"):
        return "formula", Formula(dom.text(node).strip(), "mode=display" in kind.replace(" ", ""))
    if kind.startswith("math/asciimath"):
        display = "mode=display" in kind.replace(" ", "")
        return "formula", Formula(asciimath_to_latex(dom.text(node)), display)
    if kind == "text/katex":  # WP-KaTeX before version 1.9: <script type="text/katex" data-display>
        return "formula", Formula(dom.text(node).strip(), dom.attr(node, "data-display") == "true")
    return None


def _mathjax3(dom: Dom[Any, Any], node: Any) -> _Action:
    maths = dom.descendants(node, "math")
    if not maths:
        return "remove", None  # SVG or CHTML glyphs without assistive MathML: nothing readable
    display = dom.attr(node, "display") in ("true", "block") or dom.attr(maths[0], "display") == "block"
    for assistive in dom.descendants(node, "mjx-assistive-mml"):
        display = display or dom.attr(assistive, "display") == "block"
    for span in dom.descendants(node, "span"):  # a TeX copy some sites keep for copy and paste
        if "mjx-copytext" in _classes(dom, span) and (tex := _strip_delimiters(dom.text(span), display))[0]:
            return "formula", Formula(*tex)
    return "formula", Formula(mathml_tex(dom, maths[0]), display)


def _wikipedia(dom: Dom[Any, Any], node: Any) -> _Action | None:
    maths = dom.descendants(node, "math")
    inner = " ".join(" ".join(_classes(dom, c)) for c in dom.children(node))
    display = "mwe-math-mathml-display" in inner or "fallback-image-display" in inner
    if maths:
        display = display or dom.attr(maths[0], "display") == "block"
        return "formula", Formula(mathml_tex(dom, maths[0]), display)
    images = dom.descendants(node, "img")
    if images and (dom.attr(images[0], "alt") or "").strip():
        return "formula", Formula((dom.attr(images[0], "alt") or "").strip(), display)
    return None


def _katex(dom: Dom[Any, Any], node: Any, classes: set[str]) -> _Action | None:
    maths = dom.descendants(node, "math")
    # the x-tex annotation KaTeX writes (inside its MathML), else what the MathML says
    tex = mathml_tex(dom, maths[0]) if maths else annotation_tex(dom, node)
    if not tex:
        tex = (dom.attr(node, "data-expr") or "").strip()
    if not tex and "katex-eq" in classes and not dom.children(node):
        tex = dom.text(node).strip()  # the WordPress KaTeX plugin's markup before rendering
    if not tex:
        return None
    display = "katex-display" in classes or dom.attr(node, "data-katex-display") == "true"
    display = display or any(dom.attr(m, "display") == "block" for m in maths)
    parent = dom.parent(node)
    if parent is not None and not display:
        parent_classes = _classes(dom, parent)
        # intmath's layout: <div class="math"><span class="katex">, one formula alone in the div
        display = dom.tag(parent) == "div" and bool(parent_classes & {"math", "maths", "equation"})
        display = display or "katex-display" in parent_classes
    return "formula", Formula(tex, display)


def _mathjax2_output(
    dom: Dom[Any, Any], node: Any, classes: set[str], math_scripts: set[str | None]
) -> _Action | None:
    frame = dom.attr(node, "id") or ""
    if frame.endswith("-Frame") and frame[: -len("-Frame")] in math_scripts:
        return "remove", None
    sibling = dom.next_element(node)
    for _ in range(2):  # Preview → frame → script, or display div → script
        if sibling is None:
            break
        if dom.tag(sibling) == "script" and _script_type(dom, sibling).startswith("math/"):
            return "remove", None
        sibling = dom.next_element(sibling)
    if "MathJax_Preview" in classes:
        return None
    maths = dom.descendants(node, "math")
    if maths:  # a saved page whose scripts were stripped: the assistive MathML is all there is
        display = any("Display" in c for c in classes) or dom.attr(maths[0], "display") == "block"
        return "formula", Formula(mathml_tex(dom, maths[0]), display)
    return None


def _delimited_container(dom: Dom[Any, Any], node: Any) -> _Action | None:
    """Stack Exchange ``.math-container`` and arithmatex: the TeX with its delimiters inside."""
    if any(_script_type(dom, s).startswith("math/") for s in dom.descendants(node, "script")):
        return None  # arithmatex in MathJax-script mode: the scripts are the formulas
    text, display = _strip_delimiters(dom.text(node), dom.tag(node) == "div")
    return ("formula", Formula(text, display)) if text else None


def _strip_delimiters(text: str, display: bool) -> tuple[str, bool]:
    """TeX without its outer ``$$ \\[ \\( $`` pair, and whether the pair meant display math."""
    text = text.strip()
    for open_, close, is_display in (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False),
                                     ("$", "$", False)):  # fmt: skip
        if text.startswith(open_) and text.endswith(close) and len(text) >= len(open_) + len(close):
            return text[len(open_) : len(text) - len(close)].strip(), is_display
    return text, display


def _image_url_tex(url: str) -> str:
    if "latex.php" not in url and "chart" not in url:
        # codecogs ("gif.latex?TeX", "svg.image?TeX"), mimetex.cgi?TeX, mathtex.cgi?TeX: the TeX is
        # often written raw (spaces, newlines, "<"), so it is cut at the first "?", not parsed as a URL
        query = url.partition("?")[2]
        return " ".join(unquote(query).split())
    url = url.strip().split(" ")[0]  # a srcset entry: "URL 1x"
    parts = urlsplit(url)
    if "latex.php" in parts.path or "chart" in parts.path:
        query = parse_qs(parts.query)
        for key in ("latex", "chl"):
            if query.get(key):
                return query[key][0].strip()
    return ""


def _image(dom: Dom[Any, Any], node: Any) -> _Action | None:
    classes = _classes(dom, node)
    sources = [dom.attr(node, a) or "" for a in _IMAGE_SOURCES]
    urls = [s for s in sources if _IMAGE_URL.search(s)]
    if not (classes & _IMAGE_CLASSES or urls):
        return None
    if dom.inside(node, "noscript"):
        return None  # a lazy-loading copy of an image that is also outside
    tex = (dom.attr(node, "alt") or "").strip()
    if not tex or tex.lower() in _GENERIC_ALTS:  # the URL holds the TeX when the alt does not
        tex = next((t for t in map(_image_url_tex, urls) if t), "")
    if not tex:
        return None
    return "formula", Formula(tex, _image_display(dom, node, tex))


def _image_display(dom: Dom[Any, Any], node: Any, tex: str) -> bool:
    """Display when the image is alone in a centred paragraph (or its TeX asks for display style),
    with at most an equation number or punctuation beside it (math-pages/SOURCE.md's rule)."""
    parent = dom.parent(node)
    if parent is None or dom.tag(parent) not in ("p", "div", "center", "dd"):
        return False
    if not _EQUATION_NUMBER.fullmatch(dom.text(parent)) or len(dom.children(parent)) != 1:
        return False
    centred = dom.tag(parent) == "center" or (dom.attr(parent, "align") or "").lower() == "center"
    centred = centred or bool(_CENTRED.search(dom.attr(parent, "style") or ""))
    return centred or tex.startswith("\\displaystyle")


# --- phase 2: text -----------------------------------------------------------------------------


def _protect_text(dom: Dom[Any, Any], table: FormulaTable, config: PageConfig, scripts: list[str]) -> None:
    # A page that renders its own math (images, scripts, MathML) and still shows "$...$" as text
    # did not have it rendered: there, "$" is no delimiter unless the page configures it.
    scanner = Scanner(delimiters_for(config, dollar_heuristic=not len(table)))
    text = dom.all_text()
    for script in scripts:  # "$" in JavaScript is no reason to walk the page
        if scanner.could_match(script):
            text = text.replace(script, " ", 1)
    if not scanner.scan(text, first_only=True):
        # no formula in the page's text as a whole (a run is part of it, the checks are the same):
        # the walk is skipped, and the formulas found so far are already in document order
        return
    found = len(table)
    for run in dom.text_runs(BLOCKS, SKIPS, scanner.could_match):
        texts = [dom.slot_text(slot) for slot in run]
        text = "".join(texts)
        spans = scanner.scan(text) if scanner.could_match(text) else []
        if not spans:
            continue
        pieces: list[list[str]] = [[] for _ in run]
        bounds = [0]
        for piece in texts:
            bounds.append(bounds[-1] + len(piece))
        position = 0
        for span in spans:
            _copy(text, position, span.start, bounds, pieces)
            if span.latex:
                pieces[_slot_at(bounds, span.start)].append(table.add(Formula(span.latex, span.display)))
            position = span.end
        _copy(text, position, len(text), bounds, pieces)
        for slot, old, new in zip(run, texts, pieces, strict=True):
            joined = "".join(new)
            if joined != old:
                dom.set_slot_text(slot, joined)
    if len(table) > found:  # phase 2 added formulas: read the document order off the text
        table.set_order([int(m.group(1)) for m in PLACEHOLDER_RE.finditer(dom.all_text())])


def _slot_at(bounds: list[int], position: int) -> int:
    """The slot holding ``position`` (``bounds`` are the slots' start offsets, then the end)."""
    return max(0, min(bisect.bisect_right(bounds, position) - 1, len(bounds) - 2))


def _copy(text: str, start: int, end: int, bounds: list[int], pieces: list[list[str]]) -> None:
    """Append ``text[start:end]`` to the pieces of the slots it came from."""
    index = _slot_at(bounds, start)
    while index < len(pieces) and bounds[index] < end:
        low, high = max(start, bounds[index]), min(end, bounds[index + 1])
        if low < high:
            pieces[index].append(text[low:high])
        index += 1
