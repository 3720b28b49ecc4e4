"""HTTP payloads of WARC response records: headers, transfer and content encodings, charsets."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from resiliparse.parse.encoding import bytes_to_str, detect_encoding, map_encoding_to_html5

__all__ = ["HttpPayload", "PayloadError", "decode_html", "parse_http_response"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_SNIFF_HTML = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)", re.IGNORECASE | re.DOTALL
)


class PayloadError(Exception):
    """A payload that cannot be turned into text; ``reason`` becomes the drop reason."""

    def __init__(self, reason: str, detail: str = "", *, quarantine: bool = True) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.quarantine = quarantine


@dataclass(slots=True)
class HttpPayload:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes

    @property
    def mime_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() or None if value else None

    @property
    def header_charset(self) -> str | None:
        match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", self.headers.get("content-type", ""), re.I)
        return match.group(1) if match else None

    def is_html(self) -> bool:
        mime = self.mime_type
        if mime is None or mime in ("text/plain", "application/octet-stream"):
            # Servers often omit or mislabel the type; trust the bytes only when they say HTML.
            return bool(_SNIFF_HTML.match(self.body[:2048]))
        return mime in _HTML_TYPES


def parse_http_response(block: bytes, max_body: int) -> HttpPayload:
    """Split a WARC response block into status, headers and decoded body bytes."""
    head, sep, body = block.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = block.partition(b"\n\n")
    if not sep or not head.startswith(b"HTTP/"):
        raise PayloadError("bad_http_headers", "no HTTP status line and header block")
    lines = head.decode("iso-8859-1").splitlines()
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise PayloadError("bad_http_headers", f"status line {lines[0][:80]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    encoding = headers.get("content-encoding", "").strip().lower()
    # Crawlers often store the decoded body but keep the Content-Encoding header: trust the bytes.
    if encoding in ("gzip", "x-gzip") and body.startswith(b"\x1f\x8b"):
        body = _inflate(body, max_body, gzip_header=True)
    elif encoding == "deflate" and not _SNIFF_HTML.match(body[:2048]):
        body = _inflate(body, max_body, gzip_header=False)
    elif encoding not in ("", "identity", "none", "utf-8", "utf8", "gzip", "x-gzip", "deflate"):
        raise PayloadError("unsupported_content_encoding", encoding, quarantine=False)
    return HttpPayload(status, headers, body)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            return body if pos == 0 else bytes(out)  # not really chunked, or cut short: keep what we have
        try:
            size = int(body[pos:end].split(b";", 1)[0].strip() or b"0", 16)
        except ValueError:
            return body if pos == 0 else bytes(out)
        if size == 0:
            return bytes(out)
        out += body[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


def _inflate(body: bytes, max_body: int, *, gzip_header: bool) -> bytes:
    # Bounded output: a few kB of gzip can expand to gigabytes (a "gzip bomb").
    if gzip_header:
        wbits = zlib.MAX_WBITS | 32
    elif len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0:
        wbits = zlib.MAX_WBITS  # RFC 9110's "deflate": zlib-wrapped
    else:
        wbits = -zlib.MAX_WBITS  # raw deflate, as many servers send it (browsers accept both)
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, max_body + 1)
    except zlib.error as exc:
        raise PayloadError("undecodable_content_encoding", str(exc)) from None
    if len(out) > max_body:
        raise PayloadError("payload_too_large", f"content-encoding expands past {max_body} bytes")
    return out


def _try_decode(body: bytes, label: str | None) -> tuple[str, str] | None:
    # Browsers read labels through the WHATWG table (iso-8859-1 means windows-1252, ...); so do we.
    charset = map_encoding_to_html5(label, fallback_utf8=False) if label else None
    if not charset:
        return None
    try:
        return body.decode(charset), charset
    except (LookupError, UnicodeDecodeError):
        return None


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str]:
    """Decode an HTML body: header charset, then the page's meta tag, then detection.

    Returns the text and the charset used. Raises :class:`PayloadError` for binary or undecodable data.
    """
    if b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PayloadError("binary_payload", "NUL bytes in a payload labelled as HTML", quarantine=False)
    for bom, charset in _BOMS:  # WHATWG: a byte order mark outranks every label
        if body.startswith(bom):
            try:
                return body[len(bom) :].decode(charset), charset
            except UnicodeDecodeError:
                break
    meta = _META_CHARSET.search(body[:4096])
    meta_charset = meta.group(1).decode("ascii", "ignore") if meta else None
    if meta_charset and (map_encoding_to_html5(meta_charset, fallback_utf8=False) or "").startswith("utf-16"):
        meta_charset = "utf-8"  # WHATWG: a meta tag read as ASCII cannot mean UTF-16
    for label in (header_charset, meta_charset):
        decoded = _try_decode(body, label)
        if decoded is not None:
            return decoded[0].removeprefix("\ufeff"), decoded[1]
    detected = detect_encoding(body)
    text = bytes_to_str(body, detected, errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 100):
        raise PayloadError(
            "undecodable", f"no charset decodes it (header {header_charset}, detected {detected})"
        )
    return text, detected
