"""report.html: written by a real default run on jobs/samples, self-contained, and rendered by Chromium."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.report_html import write_report_html
from tests.conftest import run_sample_pipeline

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_sample_pipeline(tmp_path_factory.mktemp("run") / "out")


def test_report_is_self_contained_and_complete(run: Path) -> None:
    page = (run / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    stats = json.loads((run / "stats.json").read_text())
    for label, stage in stats["stages"].items():
        assert label in page
        for reason in stage["dropped"]:
            assert reason in page
    assert "<svg" in page and "Kept document length" in page and "language_score" in page


def test_report_command_rebuilds_with_dedup(run: Path, tmp_path: Path) -> None:
    dedup = tmp_path / "dedup_stats.json"
    dedup.write_text(
        json.dumps(
            {
                "docs_in": 10,
                "docs_out": 7,
                "removed": 3,
                "removed_by_reason": {"exact": 1, "minhash": 2},
                "cluster_sizes": {"exact": {"2": 1}, "minhash": {"2": 1, "3": 1}},
            }
        )
    )
    output = tmp_path / "r.html"
    assert main(["report", str(run), "--output", str(output), "--dedup", str(dedup)]) == 0
    page = output.read_text(encoding="utf-8")
    assert "Cluster sizes: minhash" in page and "size 3" in page


def test_document_text_is_escaped(run: Path, tmp_path: Path) -> None:
    # Every snippet comes from a document: no raw markup from a page may reach the report.
    page = (run / "report.html").read_text(encoding="utf-8")
    body = page.split("<h2 id='kept'>", 1)[1]
    assert not re.search(r"<(?!/?(table|tr|th|td|h2|h3|p|span|body|html)\b)[a-z]", body)
    assert write_report_html(str(run), str(tmp_path / "again.html")) == str(tmp_path / "again.html")


def test_chromium_renders_report(run: Path, tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is needed to render the report: `make chromium` installs it"
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            (run / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Uncaught" not in result.stderr
    assert not re.search(r"CONSOLE\(\d+\)|console\.error|ERR_FILE_NOT_FOUND|net::ERR", result.stderr)
