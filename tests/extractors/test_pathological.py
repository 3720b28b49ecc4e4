"""Pathological pages finish within the per-page bound and are counted; the worker survives them.

Each page goes through the ``extract`` stage as the pipeline runs it (``Stage.run``, sandboxed child,
``timeout_s`` per page), once with the default size cap and once with a cap that lets the 50 MB page
reach the child, so that the time limit itself is what bounds it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from extractors.engines import ENGINES
from extractors.guard import MAX_ATTRIBUTES, tame_attributes
from extractors.html import HtmlExtractor
from pipeline.document import Document

TIMEOUT_S = 2.0
SLACK_S = 0.5
PROSE = "<p>" + "A sentence of ordinary prose that an extractor should keep as main text. " * 6 + "</p>"


def _page(kind: str) -> str:
    if kind == "50mb":
        return "<html><body>" + PROSE * (50_000_000 // len(PROSE)) + "</body></html>"
    if kind == "deep":
        return "<html><body>" + PROSE + "<div>" * 5000 + PROSE + "</div>" * 5000 + PROSE + "</body></html>"
    attributes = " ".join(f'data-a{i}="v"' for i in range(100_000))
    return f"<html><body><div {attributes}>{PROSE}</div>{PROSE}</body></html>"


PAGES = {kind: _page(kind) for kind in ("50mb", "deep", "100k-attributes")}


@pytest.fixture(scope="module", params=[(e, cap) for e in ENGINES for cap in (4.0, 64.0)], ids=str)
def stage(request: pytest.FixtureRequest) -> Iterator[HtmlExtractor]:
    engine, cap = request.param
    extractor = HtmlExtractor(engine=engine, timeout_s=TIMEOUT_S, max_html_mb=cap)
    extractor.run([])  # setup: starts the child and warms it up, outside the timed calls
    yield extractor
    extractor.close()


@pytest.mark.parametrize("kind", list(PAGES))
def test_page_is_counted_within_the_bound(stage: HtmlExtractor, kind: str) -> None:
    doc = Document(id=kind, url=f"http://example.com/{kind}", source="t.warc.gz", offset=0, html=PAGES[kind])
    start = time.perf_counter()
    outcome = stage.run([doc])
    elapsed = time.perf_counter() - start
    assert elapsed <= TIMEOUT_S + SLACK_S, f"{kind}: {elapsed:.2f} s"
    assert outcome.stats.seen == 1 and outcome.stats.kept + outcome.stats.dropped_total == 1
    if outcome.kept:
        assert "ordinary prose" in outcome.kept[0].text
    else:
        (drop,) = outcome.dropped
        assert drop.reason in {"html_too_large", "html_too_deep", "extract_timeout", "no_text"}
        assert not drop.reason.startswith("error:")
    # what the page may not do: crash or wedge the worker. The next page still extracts.
    healthy = Document(id="ok", url="http://example.com/ok", source="t", offset=0, html=PROSE * 3)
    after = stage.run([healthy])
    assert after.kept and "ordinary prose" in after.kept[0].text


def test_expected_outcomes() -> None:
    """What each engine makes of each page, with the size cap raised to 64 MB."""
    outcomes: dict[tuple[str, str], str] = {}
    for engine in ENGINES:
        extractor = HtmlExtractor(engine=engine, timeout_s=TIMEOUT_S, max_html_mb=64)
        for kind in ("deep", "100k-attributes"):
            doc = Document(id=kind, url="http://example.com/", source="t", offset=0, html=PAGES[kind])
            outcome = extractor.run([doc])
            outcomes[engine, kind] = "kept" if outcome.kept else outcome.dropped[0].reason
            if outcome.kept and kind == "100k-attributes":
                assert outcome.kept[0].metadata["extract_attribute_tags_cut"] == "1"
        extractor.close()
    assert outcomes == {
        # lxml cannot go past 2048 levels: refused rather than returned cut short
        ("trafilatura", "deep"): "html_too_deep",
        ("trafilatura", "100k-attributes"): "kept",
        # lexbor parses any depth
        ("resiliparse", "deep"): "kept",
        ("resiliparse", "100k-attributes"): "kept",
    }


def test_attribute_guard_cuts_only_tags_with_too_many_attributes() -> None:
    html, cut = tame_attributes(PAGES["100k-attributes"])
    assert cut == 1 and html.count('="v"') == MAX_ATTRIBUTES
    assert html.endswith(f"{PROSE}</div>{PROSE}</body></html>")
    # a long tag with few attributes (a big data blob) is left alone, as is an ordinary page
    blob = f'<html><body><div data-state="{"x" * 50_000}">{PROSE}</div></body></html>'
    assert tame_attributes(blob) == (blob, 0)
    assert tame_attributes(PROSE) == (PROSE, 0)
