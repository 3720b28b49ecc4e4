from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from extractors.warc import SourceError, WarcReader
from pipeline.document import Document, DropRecord
from tests.conftest import TESTDATA

FILES = [
    TESTDATA / "warc-resiliparse" / "warcfile.warc.gz",
    TESTDATA / "warc-resiliparse" / "clueweb-quirk.warc.gz",
    TESTDATA / "warc-dolma" / "sample-0000.warc.gz",
    TESTDATA / "warc-dolma" / "sample-0001.warc.gz",
    TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz",
]


def _fastwarc_ids(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        return [r.record_id for r in ArchiveIterator(fh, record_types=WarcRecordType.response)]


def _read(path: Path) -> tuple[WarcReader, list[Document | DropRecord]]:
    reader = WarcReader()
    return reader, list(reader.read(str(path)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_response_becomes_one_document_or_one_drop(path: Path) -> None:
    reader, items = _read(path)
    expected = _fastwarc_ids(path)
    assert reader.responses_read == len(expected) == len(items)
    assert [i.id for i in items] == expected
    assert len({i.offset for i in items}) == len(items)


def test_documents_carry_url_date_charset_and_html() -> None:
    _, items = _read(TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz")
    (doc,) = items
    assert isinstance(doc, Document)
    assert doc.url == "https://an.wikipedia.org/wiki/Escopete"
    assert doc.warc_date is not None and doc.warc_date.year == 2024
    assert doc.content_type == "text/html" and doc.metadata["charset"] == "utf-8"
    assert "<html" in (doc.html or "").lower()


def test_angle_bracketed_target_uris_are_cleaned() -> None:
    _, items = _read(TESTDATA / "warc-dolma" / "sample-0000.warc.gz")
    assert all(i.url.startswith("http") and not i.url.endswith(">") for i in items)


def test_malformed_dates_are_kept_raw() -> None:
    _, items = _read(TESTDATA / "warc-resiliparse" / "clueweb-quirk.warc.gz")
    docs = [i for i in items if isinstance(i, Document)]
    assert docs and all(d.warc_date is None for d in docs)
    assert docs[0].metadata["warc_date_raw"] == "2008-10-294T05:21:46-0700"
    assert codecs.lookup(docs[0].metadata["charset"]).name == "euc_jp"  # from the HTTP header


def test_truncated_file_quarantines_the_record_then_fails_naming_the_file() -> None:
    reader = WarcReader()
    seen: list[Document | DropRecord] = []
    with pytest.raises(SourceError) as info:
        for item in reader.read(str(TESTDATA / "warc-resiliparse" / "clipped.warc.gz")):
            seen.append(item)
    assert "clipped.warc.gz" in str(info.value) and "truncated" in str(info.value)
    (drop,) = seen
    assert isinstance(drop, DropRecord) and drop.reason == "truncated" and drop.quarantined


def test_non_warc_file_fails_naming_the_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not a WARC file\n" * 10)
    with pytest.raises(SourceError, match=r"notes\.txt.*not a WARC"):
        list(WarcReader().read(str(notes)))
    with pytest.raises(SourceError, match="cannot open"):
        list(WarcReader().read(str(tmp_path / "missing.warc.gz")))


def _record(uri: str, http: bytes, record_id: str) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"WARC-Target-URI: {uri}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + http + b"\r\n\r\n")


def test_non_html_status_and_empty_payloads_are_dropped_with_reasons(tmp_path: Path) -> None:
    warc = tmp_path / "mixed.warc.gz"
    warc.write_bytes(
        _record("http://a/img", b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG....", "1")
        + _record("http://a/moved", b"HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n", "2")
        + _record("http://a/empty", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n   ", "3")
        + _record("http://a/page", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>", "4")
    )
    reader, items = _read(warc)
    assert reader.responses_read == 4
    reasons = [i.reason if isinstance(i, DropRecord) else "doc" for i in items]
    assert reasons == ["non_html", "http_status", "empty_payload", "doc"]
    assert items[0].detail == "image/png" and items[1].detail == "301"


def test_oversized_payload_is_dropped_unread(tmp_path: Path) -> None:
    warc = tmp_path / "big.warc.gz"
    body = b"<p>" + b"x" * 5000 + b"</p>"
    warc.write_bytes(
        _record("http://a/big", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body, "1")
    )
    reader = WarcReader(max_payload_bytes=1000)
    (item,) = list(reader.read(str(warc)))
    assert isinstance(item, DropRecord) and item.reason == "payload_too_large"
