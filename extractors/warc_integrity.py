"""An independent check of a WARC file's structure, run on the bytes the reader reads.

fastwarc (and warcio) end quietly on most truncations: a file cut inside a gzip member, inside a
record's headers or after a record's block reads as a shorter, valid-looking file. This module sees
every byte the reader takes (:class:`CheckedStream` is the file object handed to fastwarc; it also
does the inflating, so the data is inflated once) and checks what the readers skip:

* gzip: every member must end with its trailer (CRC-32 and length, verified by zlib), and the file
  must end at a member boundary; bytes after the last member must be another member;
* WARC framing, on the decompressed stream: each record is ``WARC/<version>`` headers, a blank line,
  exactly ``Content-Length`` bytes, then ``CRLF CRLF``; the file must end between records.

The first problem found is kept, with its offset; the reader raises it once it has yielded every
record before it. Memory is bounded: only one record's headers (at most 1 MiB) are ever buffered.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from typing import IO, Any

__all__ = ["CheckedStream"]

_MAX_HEADER = 1 << 20
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


class _Framing:
    """The WARC record framing of an uncompressed byte stream, fed in pieces."""

    def __init__(self) -> None:
        self.offset = 0  # uncompressed bytes consumed
        self.records = 0
        self._state = "between"
        self._header = bytearray()
        self._record_start = 0
        self._remaining = 0  # block or trailer bytes still expected
        self._trailer = bytearray()
        self.problem: str | None = None

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self.problem is None:
            if self._state == "between":
                # Tolerate blank lines between records; anything else must start a record.
                first = bytes(view[:64])
                skip = len(first) - len(first.lstrip(b"\r\n"))
                if skip:
                    view = view[skip:]
                    self.offset += skip
                    continue
                self._state, self._record_start = "header", self.offset
                self._header.clear()
            if self._state == "header":
                view = self._feed_header(view)
            elif self._state == "block":
                take = min(self._remaining, len(view))
                view, self._remaining, self.offset = view[take:], self._remaining - take, self.offset + take
                if self._remaining == 0:
                    self._state = "trailer"
                    self._trailer.clear()
            else:  # trailer
                take = min(4 - len(self._trailer), len(view))
                self._trailer += view[:take]
                view, self.offset = view[take:], self.offset + take
                if len(self._trailer) == 4:
                    if bytes(self._trailer) != b"\r\n\r\n":
                        self._fail(f"record at {self._record_start}: block not followed by CRLF CRLF")
                    self.records += 1
                    self._state = "between"

    def _feed_header(self, view: memoryview) -> memoryview:
        start = max(0, len(self._header) - 3)
        self._header += view
        end = self._header.find(b"\r\n\r\n", start)
        if end < 0:
            if len(self._header) > _MAX_HEADER:
                self._fail(f"record at {self._record_start}: no end of headers within {_MAX_HEADER} bytes")
            self.offset += len(view)
            return view[len(view) :]
        used = end + 4 - (len(self._header) - len(view))
        head = bytes(self._header[: end + 4])
        self.offset += used
        if not head.startswith(b"WARC/"):
            self._fail(f"offset {self._record_start}: expected a WARC record, found {head[:20]!r}")
            return view[len(view) :]
        match = _CONTENT_LENGTH.search(head)
        if match is None:
            self._fail(f"record at {self._record_start}: no Content-Length header")
            return view[len(view) :]
        self._remaining = int(match.group(1))
        self._state = "block" if self._remaining else "trailer"
        self._trailer.clear()
        return view[used:]

    def _fail(self, message: str) -> None:
        if self.problem is None:
            self.problem = message

    def finish(self) -> None:
        if self.problem is None and self._state != "between":
            where = {"header": "its headers", "block": "its block", "trailer": "its closing CRLF CRLF"}
            self._fail(f"cut inside the record at {self._record_start}, in {where[self._state]}")


class CheckedStream:
    """The file object handed to fastwarc: it inflates gzip members itself, checks them and the WARC
    framing of what comes out, and gives fastwarc the uncompressed WARC, so the data is inflated once.

    fastwarc needs ``read`` and ``tell`` (positions in the uncompressed stream); :meth:`source_offset`
    turns such a position into the offset of its gzip member in the file, the offset users seek to.
    :meth:`drain` reads what the reader left unread, so that a reader that stopped early cannot hide
    the end of the file from the check. After a gzip error the stream ends: nothing past it can be
    trusted.
    """

    _IN_CHUNK = 1 << 16
    _OUT_CHUNK = 1 << 20  # bounds memory on a gzip bomb: output is produced this much at a time

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.framing = _Framing()
        self.gzip: bool | None = None
        self.members = 0
        self._inflate: Any = None
        self._pending = b""  # compressed bytes read but not yet inflated
        self._raw_read = 0
        self._member_start = 0
        self._members: deque[tuple[int, int]] = deque()  # (uncompressed start, file offset) per member
        self._out = b""  # the latest inflated piece, handed out from _out_pos on
        self._out_pos = 0
        self._pos = 0  # uncompressed bytes handed out
        self._produced = 0  # uncompressed bytes produced
        self._eof = False
        self._gzip_problem: str | None = None

    @property
    def problem(self) -> str | None:
        return self._gzip_problem or self.framing.problem

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        want = size if size >= 0 else 1 << 62
        while want > 0:
            if self._out_pos >= len(self._out):
                if self._eof:
                    break
                self._out, self._out_pos = b"", 0
                self._fill()
                continue
            piece = self._out[self._out_pos : self._out_pos + want]
            self._out_pos += len(piece)
            want -= len(piece)
            parts.append(piece)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._pos += len(data)
        return data

    def tell(self) -> int:
        return self._pos

    def source_offset(self, position: int) -> int:
        """The file offset of the gzip member holding uncompressed ``position`` (plain: itself)."""
        if not self.gzip:
            return position
        while len(self._members) > 1 and self._members[1][0] <= position:
            self._members.popleft()  # records come in order: earlier members are never asked again
        return self._members[0][1] if self._members else 0

    def drain(self) -> str | None:
        """Read to the end of the file and return the first problem found, or None."""
        while not self._eof:
            self._out, self._out_pos = b"", 0  # nobody reads it: keep no more than one piece
            self._fill()
        self._out, self._out_pos = b"", 0
        return self.problem

    def _fill(self) -> None:
        if self.gzip is None:
            self._pending = self._raw.read(self._IN_CHUNK)
            self._raw_read += len(self._pending)
            self.gzip = self._pending[:2] == b"\x1f\x8b"
        if not self.gzip:
            data = self._pending or self._raw.read(self._IN_CHUNK)
            self._pending = b""
            if not data:
                self._finish()
                return
            self._emit(data)
            return
        if not self._pending:
            self._pending = self._raw.read(self._IN_CHUNK)
            self._raw_read += len(self._pending)
            if not self._pending:
                self._finish()
                return
        if self._inflate is None:
            self._inflate = zlib.decompressobj(wbits=31)
            self._member_start = self._raw_read - len(self._pending)
            self._members.append((self._produced, self._member_start))
        try:
            out = self._inflate.decompress(self._pending, self._OUT_CHUNK)
        except zlib.error as exc:
            self._gzip_problem = f"gzip member at byte {self._member_start}: {exc}"
            self._eof = True
            return
        if self._inflate.eof:
            self._pending = self._inflate.unused_data
            self._inflate = None
            self.members += 1
        else:
            self._pending = self._inflate.unconsumed_tail
        self._emit(out)

    def _emit(self, data: bytes) -> None:
        self._produced += len(data)
        if self.framing.problem is None:
            self.framing.feed(data)
        self._out = self._out[self._out_pos :] + data if self._out_pos < len(self._out) else data
        self._out_pos = 0

    def _finish(self) -> None:
        self._eof = True
        if self.gzip and self._inflate is not None and self._gzip_problem is None:
            self._gzip_problem = (
                f"gzip member at byte {self._member_start} cut short: no end after "
                f"{self._raw_read - self._member_start} bytes"
            )
        if self._gzip_problem is None:
            self.framing.finish()
