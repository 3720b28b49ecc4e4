"""Streaming WARC reading with fastwarc: response records in, Documents (or drop records) out.

Every response record read becomes exactly one :class:`Document` or one :class:`DropRecord`, so
``kept + dropped == responses read`` holds per file. Problems with the file itself (not a WARC, cut
short, a gzip member or a record's framing damaged: :mod:`extractors.warc_integrity` checks every
byte independently of fastwarc) raise :class:`SourceError` after the records before the problem have
been yielded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import fsspec
from fastwarc.warc import ArchiveIterator, WarcRecordType

from extractors.http import PayloadError, decode_html, parse_http_response
from extractors.warc_integrity import CheckedStream
from pipeline.document import Document, DropRecord

__all__ = ["READ_STAGE", "SourceError", "WarcReader"]

READ_STAGE = "read"


class SourceError(Exception):
    """An input file that cannot be read to its end; the message names the file."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


@dataclass
class WarcReader:
    """Reads one WARC file (path or fsspec URL, gzip or not) and yields its response records."""

    max_payload_bytes: int = 16 << 20
    responses_read: int = field(default=0, init=False)

    def read(self, source: str) -> Iterator[Document | DropRecord]:
        self.responses_read = 0
        try:
            stream = fsspec.open(source, "rb").open()
        except (OSError, ValueError) as exc:
            raise SourceError(source, f"cannot open: {exc}") from exc
        with stream:
            # Check the first bytes ourselves: fastwarc ends quietly on some non-WARC inputs.
            head = stream.read(2)
            stream.seek(0)
            if not head:
                # Never a valid WARC; in practice a download that failed.
                raise SourceError(source, "empty file (0 bytes)")
            # Every byte fastwarc reads also goes through an independent structure check: fastwarc
            # ends quietly on most truncations (a cut inside a gzip member or a record's headers).
            checked = CheckedStream(stream)
            records = ArchiveIterator(checked, record_types=WarcRecordType.response, parse_http=False)
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except Exception as exc:  # fastwarc raises OSError and others on bad headers
                    if self.responses_read == 0:
                        raise SourceError(
                            source, f"not a WARC file or unreadable WARC header ({exc})"
                        ) from exc
                    raise SourceError(
                        source, f"WARC stream broken after {self.responses_read} records ({exc})"
                    ) from exc
                self.responses_read += 1
                offset = checked.source_offset(int(record.stream_pos))  # type: ignore[attr-defined]
                yield from self._convert(source, record, offset)
            problem = checked.drain()
        if self.responses_read == 0 and head[:1] not in (b"W", b"\x1f", b"\x28", b"B"):
            raise SourceError(source, "not a WARC file (no WARC records found)")
        if problem is not None:
            raise SourceError(source, f"damaged after {self.responses_read} responses: {problem}")

    def _convert(self, source: str, record: object, offset: int) -> Iterator[Document | DropRecord]:
        headers = record.headers  # type: ignore[attr-defined]
        url = (headers.get("WARC-Target-URI") or "").strip().strip("<>")
        raw_date = headers.get("WARC-Date") or ""
        doc = Document(
            id=record.record_id or f"{source}@{offset}",  # type: ignore[attr-defined]
            url=url,
            source=source,
            offset=offset,
            warc_date=_parse_date(raw_date),
        )
        if doc.warc_date is None and raw_date:
            doc.metadata["warc_date_raw"] = raw_date
        if headers.get("Content-Length") is None:
            # fastwarc yields a record cut inside its headers as an empty one; the file check reports
            # the damage, and the record is kept aside rather than parsed as an empty response.
            doc.html = ""
            yield DropRecord.of(
                doc, READ_STAGE, "bad_warc_headers", quarantined=True, detail="no Content-Length"
            )
            return
        declared = int(record.content_length)  # type: ignore[attr-defined]
        if declared > self.max_payload_bytes:
            yield DropRecord.of(doc, READ_STAGE, "payload_too_large", detail=f"{declared} bytes")
            return
        block = record.reader.read()  # type: ignore[attr-defined]
        if len(block) != declared:
            # The record (and so the file) was cut short: keep a trace of it, then fail the file.
            doc.html = block[:4096].decode("utf-8", "replace")
            yield DropRecord.of(
                doc,
                READ_STAGE,
                "truncated",
                quarantined=True,
                detail=f"read {len(block)} of {declared} bytes",
            )
            raise SourceError(
                source, f"truncated record at offset {doc.offset}: read {len(block)} of {declared} bytes"
            )
        try:
            payload = parse_http_response(block, self.max_payload_bytes)
            doc.content_type = payload.mime_type
            if not 200 <= payload.status < 300:
                yield DropRecord.of(doc, READ_STAGE, "http_status", detail=str(payload.status))
                return
            if not payload.body.strip():
                yield DropRecord.of(doc, READ_STAGE, "empty_payload")
                return
            if not payload.is_html():
                yield DropRecord.of(doc, READ_STAGE, "non_html", detail=payload.mime_type)
                return
            doc.html, charset = decode_html(payload.body, payload.header_charset)
            doc.metadata["charset"] = charset
        except PayloadError as err:
            if err.quarantine:
                doc.html = block[:4096].decode("utf-8", "replace")
            yield DropRecord.of(doc, READ_STAGE, err.reason, quarantined=err.quarantine, detail=err.detail)
            return
        yield doc


def _parse_date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
