"""math_prefilter: every page with formulas passes, almost every other page does not."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from extractors.http import decode_html
from extractors.prefilter import MathPrefilter, find_math_marker
from extractors.warc import WarcReader
from pipeline.document import Document
from tests.conftest import TESTDATA

MATH_PAGES = sorted((TESTDATA / "math-pages").glob("*/*.html.gz")) + sorted(
    (TESTDATA / "math-wikipedia").glob("*.html.gz")
)


def _has_gold_formulas(path: Path) -> bool:
    if path.parent.name == "math-wikipedia":
        return True  # 100 formulas in x-tex annotations (SOURCE.md)
    gold = path.with_name(path.name.replace(".html.gz", ".gold.txt"))
    return gold.is_file() and bool(gold.read_text(encoding="utf-8").strip())


def _html(path: Path) -> str:
    return decode_html(gzip.decompress(path.read_bytes()), None)[0]


@pytest.mark.parametrize("path", [p for p in MATH_PAGES if _has_gold_formulas(p)], ids=lambda p: p.name)
def test_every_page_with_gold_formulas_passes(path: Path) -> None:
    assert find_math_marker(_html(path)) is not None


def test_few_bench_pages_pass_and_those_carry_math() -> None:
    docs = [d for d in WarcReader().read(str(TESTDATA / "bench-warc" / "bench.warc.gz")) if d.html]
    assert len(docs) > 600
    passing = sorted(d.url for d in docs if find_math_marker(d.html))
    assert len(passing) / len(docs) < 0.01
    # the two Wikipedia pages with MathML formulas are in the bench set and must be among them
    assert "https://en.wikipedia.org/wiki/T-distributed_stochastic_neighbor_embedding" in passing
    assert "https://extraction-mozilla-readability.example/wikipedia-3" in passing


@pytest.mark.parametrize(
    "snippet",
    [
        'name.replace(/[\\[]/, "\\\\[").replace(/[\\]]/, "\\\\]")',  # JavaScript regexes escape brackets
        "e.match(/\\(min\\-width:[\\s]*([0-9]+)px\\)/)",
        "$$('div.note').each(hide)",  # Prototype's selector
        'href="/index.php/wdr/$$$call$$$/page/css" and $$rawuserid$$',  # templating
        "<p>Prices in $ and $$ vary, see the mathematics section.</p>",
    ],
)
def test_look_alikes_do_not_pass(snippet: str) -> None:
    assert find_math_marker(f"<html><body>{snippet}</body></html>") is None


@pytest.mark.parametrize(
    ("snippet", "marker"),
    [
        ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>', "mathjax"),
        ('<span class="katex"><span class="katex-mathml">', "katex"),
        ('<img src="https://latex.codecogs.com/png.latex?x^2" alt="x^2">', "latex-image"),
        ("<p>Let $$\\frac{a}{b} = c$$ hold.</p>", "tex-command"),
        ("<p>the area is $$ x^2 + y^2 $$ exactly</p>", "tex-display"),
        ('<math display="block"><mi>x</mi></math>', "mathml"),
        ("<p>[math]x^2[/math]</p>", "bbcode"),
    ],
)
def test_markers_are_recognised(snippet: str, marker: str) -> None:
    assert find_math_marker(f"<html><body>{snippet}</body></html>") == marker


def test_stage_keeps_math_drops_the_rest_and_refuses_extracted_documents() -> None:
    stage = MathPrefilter()
    math = Document(id="m", url="u", source="s", offset=0, html=_html(MATH_PAGES[-1]))
    prose = Document(
        id="p", url="u", source="s", offset=1, html="<html><body><p>No formulas.</p></body></html>"
    )
    extracted = Document(id="x", url="u", source="s", offset=2, text="already extracted")
    outcome = stage.run([math, prose, extracted])
    assert [d.id for d in outcome.kept] == ["m"]
    assert math.metadata["math_marker"] == "mathml"
    reasons = {d.id: (d.reason, d.quarantined) for d in outcome.dropped}
    assert reasons == {"p": ("no_math_markers", False), "x": ("error:ValueError", True)}
