"""jobs/configs/math.yaml loads and runs: math pages in, everything else out at the cheapest step."""

from __future__ import annotations

import gzip
import importlib.util
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.config import load_config
from pipeline.run import run_pipeline
from tests.conftest import ROOT, TESTDATA

MATH_CONFIG = ROOT / "jobs" / "configs" / "math.yaml"
PAGES = {
    # English pages with formulas: LaTeX images, MathML, KaTeX
    "https://terrytao.example/periodic-tiling": TESTDATA
    / "math-pages/latex-img/tao-periodic-tiling-counterexample.html.gz",
    "https://en.wikipedia.org/wiki/T-SNE": TESTDATA / "math-wikipedia/en.wikipedia.org.tsne.html.gz",
    "https://notes.example/centraliser": TESTDATA / "math-pages/katex/katex-centraliser-notes.html.gz",
    # math in Japanese: passes the prefilter, not the language stage
    "https://ueda.example/prob-robot-3": TESTDATA
    / "math-pages/bbcode-latex/uedalab-prob-robot-2016-03.html.gz",
    # an English article without math: stopped by the prefilter, before extraction
    "https://arstechnica.example/minecraft": TESTDATA / "extraction-mozilla-readability/input/ars-1.html.gz",
}


def _write_warc(path: Path, pages: dict[str, Path]) -> None:
    """One gzip member per response record, as Common Crawl writes them."""
    with open(path, "wb") as out:
        for number, (url, page) in enumerate(pages.items(), start=1):
            html = gzip.decompress(page.read_bytes())
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + html
            header = (
                "WARC/1.0\r\nWARC-Type: response\r\n"
                f"WARC-Record-ID: <urn:uuid:{uuid.UUID(int=number)}>\r\n"
                f"WARC-Date: 2024-05-01T00:00:00Z\r\nWARC-Target-URI: {url}\r\n"
                "Content-Type: application/http; msgtype=response\r\n"
                f"Content-Length: {len(http)}\r\n\r\n"
            )
            out.write(gzip.compress(header.encode() + http + b"\r\n\r\n"))


def test_math_pipeline_runs_on_a_math_warc(tmp_path: Path) -> None:
    warc = tmp_path / "math.warc.gz"
    _write_warc(warc, PAGES)
    config = load_config(MATH_CONFIG)
    assert [s["stage"] for s in config.stages][:3] == ["math_prefilter", "extract", "language"]

    stats = run_pipeline([str(warc)], str(tmp_path / "out"), config, workers=1, progress=False)

    assert stats.responses_read == len(PAGES)
    stages = stats.stages
    assert stages["math_prefilter"].dropped == {"no_math_markers": 1}
    assert stages["extract"].seen == len(PAGES) - 1  # the article without math was never extracted
    assert stages["language"].dropped.get("other_language") == 1
    rows = [
        row
        for shard in (tmp_path / "out" / "data").glob("*.parquet")
        for row in pq.read_table(shard).to_pylist()
    ]
    kept = {row["url"]: row for row in rows}
    assert set(kept) == {
        "https://terrytao.example/periodic-tiling",
        "https://en.wikipedia.org/wiki/T-SNE",
        "https://notes.example/centraliser",
    }
    assert kept["https://en.wikipedia.org/wiki/T-SNE"]["metadata"]
    assert dict(kept["https://en.wikipedia.org/wiki/T-SNE"]["metadata"])["math_marker"] == "mathml"
    tsne = kept["https://en.wikipedia.org/wiki/T-SNE"]["text"]
    assert "stochastic neighbor embedding" in tsne.lower()
    if importlib.util.find_spec("extractors.math") is not None:
        assert "$" in tsne  # formulas come out as LaTeX once the math module is there
