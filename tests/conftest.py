"""Shared test helpers: where the real test data is, and how to make a Document."""

from __future__ import annotations

from pathlib import Path

from pipeline.document import Document

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT.parent / "shared" / "testdata"


def make_doc(text: str = "", doc_id: str = "d0", **fields: object) -> Document:
    return Document(
        id=doc_id, url=f"http://example.com/{doc_id}", source="test.warc.gz", offset=0, text=text, **fields
    )
