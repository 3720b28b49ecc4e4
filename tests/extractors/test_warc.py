"""The WARC reader on real WARCs: one Document or one DropRecord per response record, no more, no less."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from extractors.warc import READ_STAGE, SourceError, WarcReader
from pipeline.document import Document, DropRecord
from tests.conftest import TESTDATA

# Response counts from each folder's SOURCE.md.
FILES = {
    TESTDATA / "warc-resiliparse" / "warcfile.warc.gz": 16,
    TESTDATA / "warc-resiliparse" / "clueweb-quirk.warc.gz": 29,
    TESTDATA / "warc-dolma" / "sample-0000.warc.gz": 22,
    TESTDATA / "warc-dolma" / "sample-0001.warc.gz": 15,
    TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz": 1,
}


def _fastwarc_responses(path: Path) -> list[dict[str, str]]:
    """Each response record's headers, read with fastwarc directly (the independent count)."""
    with open(path, "rb") as fh:
        return [dict(record.headers) for record in ArchiveIterator(fh, record_types=WarcRecordType.response)]


def _read(path: Path, **options) -> tuple[WarcReader, list[Document | DropRecord]]:
    reader = WarcReader(**options)
    return reader, list(reader.read(str(path)))


@pytest.mark.parametrize("path", list(FILES), ids=lambda p: p.name)
def test_every_response_becomes_one_document_or_one_drop(path: Path) -> None:
    reader, items = _read(path)
    expected = _fastwarc_responses(path)
    assert len(items) == reader.responses_read == len(expected) == FILES[path]
    ids = [item.id for item in items]
    assert ids == [headers["WARC-Record-ID"] for headers in expected]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("<urn:uuid:") for i in ids)
    assert len({item.offset for item in items}) == len(items)
    assert all(item.source == str(path) for item in items)
    for item in items:
        if isinstance(item, DropRecord):
            assert item.stage == READ_STAGE and item.reason
        else:
            assert item.html and item.metadata["charset"]


def test_offsets_point_at_the_records() -> None:
    path = TESTDATA / "warc-resiliparse" / "warcfile.warc.gz"
    _, items = _read(path)
    with open(path, "rb") as fh:
        for item in items:
            fh.seek(item.offset)
            (record,) = [r for r, _ in zip(ArchiveIterator(fh), range(1), strict=False)]
            assert record.record_id == item.id


def test_the_common_crawl_page_in_full() -> None:
    path = TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz"
    _, (doc,) = _read(path)
    (headers,) = _fastwarc_responses(path)
    assert isinstance(doc, Document)
    assert doc.url == headers["WARC-Target-URI"] == "https://an.wikipedia.org/wiki/Escopete"
    assert doc.warc_date is not None
    assert doc.warc_date.isoformat().replace("+00:00", "Z") == headers["WARC-Date"]
    assert doc.content_type == "text/html" and doc.metadata["charset"] == "utf-8"
    assert "warc_date_raw" not in doc.metadata
    assert doc.html.lstrip().lower().startswith("<!doctype html")
    assert doc.text == ""  # text comes from extraction, later


@pytest.mark.parametrize("name", ["sample-0000.warc.gz", "sample-0001.warc.gz"])
def test_angle_bracketed_target_uris_are_cleaned(name: str) -> None:
    path = TESTDATA / "warc-dolma" / name
    raw = [headers["WARC-Target-URI"] for headers in _fastwarc_responses(path)]
    assert all(uri.startswith("<https://") and uri.endswith(">") for uri in raw)  # the quirk is there
    _, items = _read(path)
    assert [item.url for item in items] == [uri[1:-1] for uri in raw]


def test_malformed_dates_are_kept_raw() -> None:
    path = TESTDATA / "warc-resiliparse" / "clueweb-quirk.warc.gz"
    _, items = _read(path)
    raw_dates = [headers["WARC-Date"] for headers in _fastwarc_responses(path)]
    assert "2008-10-294T05:21:46-0700" in raw_dates
    docs = [item for item in items if isinstance(item, Document)]
    assert docs
    for item, raw in zip(items, raw_dates, strict=True):
        if isinstance(item, Document):
            assert item.warc_date is None
            assert item.metadata["warc_date_raw"] == raw
    # Japanese pages, read with the charset their HTTP header gives.
    assert codecs.lookup(docs[0].metadata["charset"]).name == "euc_jp"


def test_truncated_file_quarantines_the_record_then_fails_naming_the_file() -> None:
    path = TESTDATA / "warc-resiliparse" / "clipped.warc.gz"
    reader = WarcReader()
    seen: list[Document | DropRecord] = []
    with pytest.raises(SourceError) as info:
        for item in reader.read(str(path)):  # collect what came before the error
            seen.append(item)
    message = str(info.value)
    assert str(path) in message and "truncated" in message
    assert info.value.source == str(path)
    (drop,) = seen
    assert isinstance(drop, DropRecord)
    assert (drop.stage, drop.reason, drop.quarantined) == (READ_STAGE, "truncated", True)
    assert drop.payload  # what was read, kept for replay
    assert reader.responses_read == 1


def test_non_warc_files_fail_naming_the_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not a WARC file\n" * 10)
    with pytest.raises(SourceError, match=r"notes\.txt.*not a WARC"):
        list(WarcReader().read(str(notes)))
    zipped = tmp_path / "notes.txt.gz"
    zipped.write_bytes(gzip.compress(notes.read_bytes()))
    with pytest.raises(SourceError, match=r"notes\.txt\.gz.*not a WARC"):
        list(WarcReader().read(str(zipped)))
    with pytest.raises(SourceError, match=r"missing\.warc\.gz.*cannot open"):
        list(WarcReader().read(str(tmp_path / "missing.warc.gz")))


def _record(uri: str, http: bytes, record_id: str, date: str = "2024-01-01T00:00:00Z") -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"WARC-Target-URI: {uri}\r\nWARC-Date: {date}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + http + b"\r\n\r\n")


def _request(record_id: str) -> bytes:
    http = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    head = (
        f"WARC/1.0\r\nWARC-Type: request\r\nWARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"WARC-Target-URI: http://a/\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
        f"Content-Type: application/http; msgtype=request\r\nContent-Length: {len(http)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + http + b"\r\n\r\n")


def test_non_html_status_and_empty_payloads_are_dropped_with_reasons(tmp_path: Path) -> None:
    warc = tmp_path / "mixed.warc.gz"
    warc.write_bytes(
        _request("0")
        + _record("http://a/img", b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n", "1")
        + _record("http://a/moved", b"HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n", "2")
        + _record("http://a/empty", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n   ", "3")
        + _record("http://a/br", b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\n\x1b\x00", "4")
        + _record("http://a/page", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>", "5")
    )
    reader, items = _read(warc)
    assert reader.responses_read == len(_fastwarc_responses(warc)) == 5  # the request is not counted
    reasons = [item.reason if isinstance(item, DropRecord) else "doc" for item in items]
    assert reasons == ["non_html", "http_status", "empty_payload", "unsupported_content_encoding", "doc"]
    assert items[0].detail == "image/png" and items[1].detail == "301"
    assert not any(item.quarantined for item in items[:4])
    assert items[0].id == "<urn:uuid:1>" and items[0].url == "http://a/img"
    assert items[4].html == "<p>hi</p>"


def test_oversized_payload_is_dropped_unread(tmp_path: Path) -> None:
    warc = tmp_path / "big.warc.gz"
    body = b"<p>" + b"x" * 5000 + b"</p>"
    warc.write_bytes(
        _record("http://a/big", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body, "1")
        + _record("http://a/small", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>x</p>", "2")
    )
    reader, items = _read(warc, max_payload_bytes=1000)
    assert reader.responses_read == 2
    assert isinstance(items[0], DropRecord) and items[0].reason == "payload_too_large"
    assert isinstance(items[1], Document)


def test_uncompressed_warc_and_timezone_dates(tmp_path: Path) -> None:
    warc = tmp_path / "plain.warc"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>"
    warc.write_bytes(gzip.decompress(_record("http://a/", http, "1", date="2024-01-01T02:00:00+02:00")))
    _, (doc,) = _read(warc)
    assert isinstance(doc, Document)
    assert doc.warc_date is not None and doc.warc_date.isoformat() == "2024-01-01T00:00:00+00:00"


def test_empty_file_is_an_error_not_an_empty_result(tmp_path: Path) -> None:
    empty = tmp_path / "failed-download.warc.gz"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match=r"failed-download\.warc\.gz: empty file"):
        list(WarcReader().read(str(empty)))
