"""Pathological pages finish within the per-page bound and are counted; the worker survives them.

Each page goes through the ``extract`` stage as the pipeline runs it (``Stage.run``, sandboxed child,
``timeout_s`` per page), once with the default size cap and once with a cap that lets the 50 MB page
and the 12 MB table reach the child, so that the time limit itself is what bounds it. The child's
address space is capped (``memory_mb``); a page that needs more than the cap costs that page only.
Peak memory per page, both engines: ``benchmarks/pathological_pages.py``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest

from extractors.engines import ENGINES
from extractors.guard import MAX_ATTRIBUTES, tame_attributes
from extractors.html import HtmlExtractor
from pipeline.document import Document

TIMEOUT_S = 2.0
# Beyond the timeout a page costs its transfer to the child and the child's restart: about 0.4 s for
# the 50 MB page on an idle machine, more on a loaded CI runner (0.5 s of slack once failed by 0.01 s).
# Unbounded, the 50 MB page takes about 17 s and the table flood about 70 s with the combined engine,
# so 2 s of slack still tells a bounded page from an unbounded one.
SLACK_S = 2.0
PROSE = "<p>" + "A sentence of ordinary prose that an extractor should keep as main text. " * 6 + "</p>"


def _page(kind: str) -> str:
    if kind == "50mb":
        return "<html><body>" + PROSE * (50_000_000 // len(PROSE)) + "</body></html>"
    if kind == "deep":
        return "<html><body>" + PROSE + "<div>" * 5000 + PROSE + "</div>" * 5000 + PROSE + "</body></html>"
    if kind == "table-flood":  # 20,000 rows of 50 cells: 12 MB, a million cells
        row = "<tr>" + "".join(f"<td>c{i}</td>" for i in range(50)) + "</tr>"
        return f"<html><body>{PROSE}<table>{row * 20_000}</table>{PROSE}</body></html>"
    if kind == "nested-tables":  # 500 levels of <table><tr><td>: 2,000 elements deep, within lxml's limit
        return (
            f"<html><body>{PROSE}{'<table><tr><td>' * 500}{PROSE}{'</td></tr></table>' * 500}</body></html>"
        )
    attributes = " ".join(f'data-a{i}="v"' for i in range(100_000))
    return f"<html><body><div {attributes}>{PROSE}</div>{PROSE}</body></html>"


PAGES = {kind: _page(kind) for kind in ("50mb", "deep", "100k-attributes", "table-flood", "nested-tables")}


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
        # combined: resiliparse's text where trafilatura refuses
        ("combined", "deep"): "kept",
        ("combined", "100k-attributes"): "kept",
    }


def test_attribute_guard_cuts_only_tags_with_too_many_attributes() -> None:
    html, cut = tame_attributes(PAGES["100k-attributes"])
    assert cut == 1 and html.count('="v"') == MAX_ATTRIBUTES
    assert html.endswith(f"{PROSE}</div>{PROSE}</body></html>")
    # a long tag with few attributes (a big data blob) is left alone, as is an ordinary page
    blob = f'<html><body><div data-state="{"x" * 50_000}">{PROSE}</div></body></html>'
    assert tame_attributes(blob) == (blob, 0)
    assert tame_attributes(PROSE) == (PROSE, 0)


def _child(stage: HtmlExtractor) -> int | None:
    process = getattr(getattr(stage, "_sandbox", None), "_process", None)
    return process.pid if process is not None and process.poll() is None else None


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            match = re.search(r"^VmRSS:\s+(\d+) kB", fh.read(), re.MULTILINE)
    except OSError:  # killed meanwhile
        return 0.0
    return int(match.group(1)) / 1024 if match else 0.0


@pytest.mark.parametrize("engine", ENGINES)
def test_child_memory_is_capped(engine: str) -> None:
    """The child runs under RLIMIT_AS = memory_mb; the table flood needs more than a small cap, and
    running into it costs that page (a drop within the bound), not the worker."""
    cap_mb = 512
    stage = HtmlExtractor(engine=engine, timeout_s=TIMEOUT_S, max_html_mb=64, memory_mb=cap_mb)
    stage.run([])
    pid = _child(stage)
    assert pid is not None
    with open(f"/proc/{pid}/limits") as fh:
        limit = next(line for line in fh if line.startswith("Max address space")).split()[3:5]
    assert limit == [str(cap_mb << 20)] * 2
    peak = 0.0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            child = _child(stage)
            peak = max(peak, _rss_mb(child) if child else 0.0)
            done.wait(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    doc = Document(id="t", url="http://example.com/t", source="t", offset=0, html=PAGES["table-flood"])
    start = time.perf_counter()
    try:
        outcome = stage.run([doc])
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        watcher.join()
    assert elapsed <= TIMEOUT_S + SLACK_S, f"{elapsed:.2f} s"
    assert 0 < peak <= cap_mb, peak
    (drop,) = outcome.dropped
    assert drop.quarantined
    assert drop.reason in {"extract_timeout", "extract_crashed", "extract_memory"}, drop
    healthy = Document(id="ok", url="http://example.com/ok", source="t", offset=0, html=PROSE * 3)
    assert stage.run([healthy]).kept
    stage.close()
