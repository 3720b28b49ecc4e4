"""Shared test helpers: where the real test data is, and how to make a Document."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.document import Document

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT.parent / "shared" / "testdata"  # ../shared/testdata from the repo root; see its README
REPO = ROOT
WARCFILE = TESTDATA / "warc-resiliparse" / "warcfile.warc.gz"
CLIPPED = TESTDATA / "warc-resiliparse" / "clipped.warc.gz"
WHIRLWIND = TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz"
DOLMA = sorted((TESTDATA / "warc-dolma").glob("*.warc.gz"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The real test data folder (`../shared/testdata`)."""
    return TESTDATA


def make_doc(text: str = "", doc_id: str = "d0", **fields: object) -> Document:
    """A Document with placeholder provenance; ``fields`` sets any other attribute."""
    return Document(
        id=doc_id, url=f"http://example.com/{doc_id}", source="test.warc.gz", offset=0, text=text, **fields
    )


def make_docs(*texts: str) -> list[Document]:
    """One Document per text, with ids d0, d1, ..."""
    return [make_doc(text, f"d{i}") for i, text in enumerate(texts)]


def run_sample_pipeline(output: Path) -> Path:
    """The default pipeline over the bundled samples (``make run``'s input), in a child process."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "jobs.process_cc", "--input", "jobs/samples", "--output", str(output),
               "--no-progress"]  # fmt: skip
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return output
