"""`ccsieve extract PAGE...`: the text of saved pages, one page plain, several as JSON lines."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.conftest import ROOT, TESTDATA

PAGE = TESTDATA / "extraction-mozilla-readability" / "input" / "mercurial.html.gz"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pages")
    gz = folder / "mercurial.html.gz"
    shutil.copy(PAGE, gz)
    plain = folder / "mercurial.html"
    plain.write_bytes(gzip.decompress(PAGE.read_bytes()))
    return gz, plain


def test_one_page_prints_its_text(pages: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    gz, plain = pages
    assert main(["extract", str(gz)]) == 0
    from_gz = capsys.readouterr().out
    assert main(["extract", str(plain), "--engine", "default"]) == 0
    assert capsys.readouterr().out == from_gz  # .gz or not, the same page
    assert "## Sharing with a single developer" in from_gz
    assert "```python\n$ hg init public\n```" in from_gz
    assert "CCSV" not in from_gz


def test_several_pages_give_one_json_line_each(
    pages: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gz, plain = pages
    missing = tmp_path / "missing.html"
    assert main(["extract", "--engine", "fast", str(gz), str(plain), str(missing)]) == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["path"] for line in lines] == [str(gz), str(plain), str(missing)]
    assert lines[0]["text"] == lines[1]["text"] and "hg init public" in lines[0]["text"]
    assert lines[2]["text"] is None and lines[2]["reason"].startswith("unreadable")
    assert "missing.html" in captured.err


def test_installed_command_runs_as_a_program(pages: tuple[Path, Path]) -> None:
    gz, _ = pages
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "extract",
            "--engine",
            "fast",
            "--url",
            "https://x.org/",
            str(gz),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# ")
