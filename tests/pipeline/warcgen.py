"""Writing test WARCs: real records copied under fresh WARC-Record-IDs, and made-up response records.

Used by the reliability tests (poison pill, kill and resume) and by ``benchmarks/kill_resume.py``.
Every record is its own gzip member, as in Common Crawl; a copied record keeps its block byte for
byte (so its digests stay valid), only its WARC-Record-ID changes.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from fastwarc.warc import ArchiveIterator

__all__ = ["Record", "html_response", "read_records", "write_warc"]

# (WARC header lines without the version line, block)
Record = tuple[list[tuple[str, str]], bytes]


def read_records(path: str | Path) -> Iterator[Record]:
    """Every record of a WARC (any type), with its headers in order and its raw block."""
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, parse_http=False):
            yield list(record.headers.items()), record.reader.read()


def new_id(seed: str | None = None) -> str:
    """A WARC-Record-ID; deterministic for a given ``seed``."""
    value = uuid.uuid5(uuid.NAMESPACE_URL, seed) if seed is not None else uuid.uuid4()
    return f"<urn:uuid:{value}>"


def with_id(record: Record, record_id: str) -> Record:
    headers, block = record
    return [(k, record_id if k.lower() == "warc-record-id" else v) for k, v in headers], block


def record_type(record: Record) -> str:
    return next(v for k, v in record[0] if k.lower() == "warc-type")


def html_response(url: str, html: str, record_id: str, date: str = "2024-01-01T00:00:00Z") -> Record:
    """A WARC response record of an HTTP 200 text/html page."""
    body = html.encode("utf-8")
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    headers = [
        ("WARC-Type", "response"),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", date),
        ("WARC-Target-URI", url),
        ("Content-Type", "application/http; msgtype=response"),
    ]
    return headers, http


def write_warc(path: str | Path, records: Iterable[Record]) -> int:
    """Write ``records`` as a gzipped WARC (one member per record); returns the number written."""
    count = 0
    with open(path, "wb") as out:
        for headers, block in records:
            lines = ["WARC/1.0"]
            lines += [f"{k}: {v}" for k, v in headers if k.lower() != "content-length"]
            lines.append(f"Content-Length: {len(block)}")
            raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"
            out.write(gzip.compress(raw, compresslevel=1, mtime=0))
            count += 1
    return count


_ID_HEADERS = {"warc-record-id", "warc-concurrent-to", "warc-refers-to"}


def renamed(record: Record, namespace: str) -> Record:
    """``record`` with its record id and the ids it points to replaced by uuid5 of ``namespace`` and the id.

    The same namespace gives the same ids (reruns write the same files); request, response and metadata
    records of one capture still point to each other.
    """
    headers, block = record
    return [
        (k, f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{namespace}/{v}')}>")
        if k.lower() in _ID_HEADERS
        else (k, v)
        for k, v in headers
    ], block


def copy_warc(
    source: str | Path, folder: Path, copies: int, limit: int | None, namespace: str
) -> tuple[list[str], int]:
    """``copies`` WARC files, each ``source`` (its first ``limit`` responses) under fresh record ids.

    Ids are uuid5 of ``namespace``, the copy and the old id, so reruns write the same files (an existing
    file is reused). Returns the paths and the responses per copy.
    """
    records: list[Record] = []
    responses = 0
    for record in read_records(source):
        kind = record_type(record)
        if limit is not None and responses >= limit and kind in ("request", "response"):
            break  # a request comes before its response: cut before the (limit+1)-th pair
        records.append(record)
        responses += kind == "response"
    paths = []
    for copy in range(copies):
        path = folder / f"{Path(source).name.split('.')[0]}-{limit or 'all'}-copy{copy:02d}.warc.gz"
        if not path.exists():
            write_warc(path, (renamed(r, f"{namespace}/{copy}") for r in records))
        paths.append(str(path))
    return paths, responses
