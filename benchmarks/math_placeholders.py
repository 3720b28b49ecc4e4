"""Which placeholder form survives boilerplate removal: the measurement behind ``extractors/math/table.py``.

Every page of math-pages and math-wikipedia is protected as in the pipeline; then each placeholder is
rewritten into the form under test (through the same DOM adapters) and the page extracted with
``trafilatura.extract(root, output_format="txt", deduplicate=False, include_tables=True)`` and with
``extract_plain_text(tree, main_content=True)``. The table counts the formulas whose placeholder is
in the output, per form; pages where the forms differ are listed.

Forms: ``one token`` (``CCSVMATH7D``); ``display + 3 words`` (the token, and three filler words after
display tokens only); ``length-matched filler`` (what ``FormulaTable.add`` writes: filler words up to
about the LaTeX's length, display formulas at least three).

Usage (from the repository root)::

    .venv/bin/python benchmarks/math_placeholders.py
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_math import PLACEHOLDER, PLACEHOLDER_TEXT, load_pages, parse_lxml
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree
from trafilatura import extract

from extractors.math import protect_math_lexbor, protect_math_lxml
from extractors.math.dom import Dom, LexborDom, LxmlDom

FORMS: dict[str, Callable[[str], str]] = {
    "one token": lambda token: token,
    "display + 3 words": lambda token: token + (" the formula is" if token.endswith("D") else ""),
    "length-matched filler": lambda token: "",  # "" = leave the placeholder as written
}


TOKEN = re.compile(r"CCSVMATH\d+[ID]")


def _rewritten(match: re.Match[str], form: Callable[[str], str]) -> str:
    token = TOKEN.match(match.group(0))
    return (form(token.group(0)) if token else "") or match.group(0)


def rewrite(dom: Dom, form: Callable[[str], str]) -> None:
    """Rewrite every placeholder of the tree's text into ``form`` (through the adapter's text slots)."""
    for run in dom.text_runs(frozenset(), frozenset(), lambda _: True):
        for slot in run:
            text = dom.slot_text(slot)
            if "CCSVMATH" in text:
                dom.set_slot_text(slot, PLACEHOLDER_TEXT.sub(lambda m: _rewritten(m, form), text))


def survivors(html: str, engine: str, form: Callable[[str], str]) -> tuple[int, int]:
    if engine == "trafilatura":
        root = parse_lxml(html)
        count = len(protect_math_lxml(root))
        rewrite(LxmlDom(root), form)
        output = extract(root, output_format="txt", deduplicate=False, include_tables=True) or ""
    else:
        tree = HTMLTree.parse(html)
        count = len(protect_math_lexbor(tree))
        rewrite(LexborDom(tree), form)
        output = extract_plain_text(tree, main_content=True)
    return len({m.group(1) for m in PLACEHOLDER.finditer(output)}), count


def main() -> int:
    totals = {(engine, name): 0 for engine in ("trafilatura", "resiliparse") for name in FORMS}
    formulas = 0
    differing = []
    pages = load_pages()
    for page in pages:
        counts = {}
        for engine in ("trafilatura", "resiliparse"):
            for name, form in FORMS.items():
                kept, count = survivors(page.html, engine, form)
                counts[engine, name] = kept
                totals[engine, name] += kept
        formulas += count
        for engine in ("trafilatura", "resiliparse"):
            if len({counts[engine, name] for name in FORMS}) > 1:
                cells = ", ".join(f"{name} {counts[engine, name]}" for name in FORMS)
                differing.append(f"- {page.name}, {engine}: {cells}")
    print(f"{formulas} formulas on {len(pages)} pages\n\n| form | trafilatura | resiliparse |\n|---|---|---|")
    for name in FORMS:
        print(f"| {name} | {totals['trafilatura', name]} | {totals['resiliparse', name]} |")
    print("\n" + "\n".join(differing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
