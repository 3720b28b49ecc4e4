"""HTTP payloads: status and headers, transfer and content encodings, charsets."""

from __future__ import annotations

import gzip
import zlib

import pytest

from extractors.http import PayloadError, decode_html, parse_http_response

MAX = 1 << 20
HTML = b"<html><body>" + b"hello " * 100 + b"</body></html>"
RUSSIAN = (
    "<html><head></head><body><p>"
    + "Привет, как дела? Это текст на русском языке, написанный для проверки кодировки. " * 5
    + "</p></body></html>"
)
JAPANESE = (
    "<html><head><title>日本語</title></head><body><p>"
    + "これは日本語のテキストです。東京都の天気は晴れです。明日は雨が降るでしょう。" * 10
    + "</p></body></html>"
)


def _block(headers: str, body: bytes, status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\n{headers}\r\n\r\n".encode() + body


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def test_status_headers_and_repeated_headers() -> None:
    payload = parse_http_response(
        _block("Content-Type: text/html; charset=UTF-8\r\nVary: a\r\nVARY: b\r\nX-Empty:", b"<p>x"), MAX
    )
    assert payload.status == 200
    assert payload.headers["vary"] == "a, b"  # names are case-insensitive, repeats are joined
    assert payload.headers["x-empty"] == ""
    assert payload.mime_type == "text/html"
    assert payload.header_charset == "UTF-8"
    assert payload.body == b"<p>x"
    assert payload.is_html()


def test_non_200_status_and_bare_lf_line_ends() -> None:
    payload = parse_http_response(b"HTTP/1.0 404 Not Found\nContent-Type: text/html\n\n<p>gone", MAX)
    assert payload.status == 404
    assert payload.body == b"<p>gone"


def test_chunked_body_is_joined() -> None:
    body = b"4\r\n<p>a\r\n5;ext=1\r\nbcde<\r\n0\r\n\r\n"
    payload = parse_http_response(_block("Transfer-Encoding: chunked", body), MAX)
    assert payload.body == b"<p>abcde<"


def test_chunked_header_on_an_already_joined_body_keeps_the_body() -> None:
    payload = parse_http_response(_block("Transfer-Encoding: chunked", HTML), MAX)
    assert payload.body == HTML


def test_chunked_and_gzipped() -> None:
    zipped = gzip.compress(HTML)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(zipped), zipped)
    headers = "Transfer-Encoding: chunked\r\nContent-Encoding: gzip"
    assert parse_http_response(_block(headers, chunked), MAX).body == HTML


def test_real_gzip_is_inflated_and_declared_but_decoded_gzip_is_kept() -> None:
    zipped = gzip.compress(HTML)
    assert zipped != HTML
    assert parse_http_response(_block("Content-Encoding: gzip", zipped), MAX).body == HTML
    assert parse_http_response(_block("Content-Encoding: x-gzip", zipped), MAX).body == HTML
    # Crawlers often store the body decoded but keep the header: the bytes are not gzip, keep them.
    assert parse_http_response(_block("Content-Encoding: gzip", HTML), MAX).body == HTML


def test_deflate_in_both_forms_servers_send() -> None:
    # RFC 9110's "deflate" is the zlib format; many servers send raw deflate instead. Browsers take both.
    assert parse_http_response(_block("Content-Encoding: deflate", zlib.compress(HTML)), MAX).body == HTML
    assert parse_http_response(_block("Content-Encoding: deflate", _raw_deflate(HTML)), MAX).body == HTML
    assert parse_http_response(_block("Content-Encoding: deflate", HTML), MAX).body == HTML


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (64 * MAX))
    assert len(bomb) < 100_000
    with pytest.raises(PayloadError) as info:
        parse_http_response(_block("Content-Encoding: gzip", bomb), MAX)
    assert info.value.reason == "payload_too_large"
    assert info.value.quarantine
    # Exactly at the limit is fine.
    exact = parse_http_response(_block("Content-Encoding: gzip", gzip.compress(b"a" * MAX)), MAX)
    assert len(exact.body) == MAX


def test_corrupt_gzip_is_undecodable() -> None:
    zipped = bytearray(gzip.compress(HTML))
    zipped[12:20] = b"\xff" * 8
    with pytest.raises(PayloadError) as info:
        parse_http_response(_block("Content-Encoding: gzip", bytes(zipped)), MAX)
    assert info.value.reason == "undecodable_content_encoding"


def test_unsupported_encoding_and_missing_status_line() -> None:
    with pytest.raises(PayloadError) as info:
        parse_http_response(_block("Content-Encoding: br", b"\x1b\x00\x00"), MAX)
    assert info.value.reason == "unsupported_content_encoding"
    assert "br" in info.value.detail
    assert not info.value.quarantine  # a decision (we do not read brotli), not a failure
    with pytest.raises(PayloadError) as info:
        parse_http_response(b"garbage without headers", MAX)
    assert info.value.reason == "bad_http_headers"
    with pytest.raises(PayloadError) as info:
        parse_http_response(b"HTTP/1.1 OK\r\n\r\n<p>", MAX)
    assert info.value.reason == "bad_http_headers"


def test_missing_or_vague_content_type_is_sniffed() -> None:
    assert parse_http_response(_block("X: y", b"  <!DOCTYPE html><html>"), MAX).is_html()
    assert parse_http_response(_block("Content-Type: text/plain", b"<!-- c --><html>"), MAX).is_html()
    assert not parse_http_response(_block("X: y", b"\x89PNG\r\n"), MAX).is_html()
    assert not parse_http_response(_block("Content-Type: image/png", b"<html>"), MAX).is_html()
    assert parse_http_response(_block("Content-Type: application/xhtml+xml", b"<x/>"), MAX).is_html()


def test_header_charset_comes_first() -> None:
    cp1251 = RUSSIAN.encode("cp1251")
    assert decode_html(cp1251, "windows-1251") == (RUSSIAN, "cp1251")


def test_meta_charset_when_the_header_has_none_or_cannot_decode() -> None:
    page = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">' + RUSSIAN
    assert decode_html(page.encode("cp1251"), None) == (page, "cp1251")
    # A wrong header that cannot decode the bytes falls through to the meta tag.
    assert decode_html(page.encode("cp1251"), "utf-8") == (page, "cp1251")
    page = "<meta charset='euc-jp'>" + JAPANESE
    assert decode_html(page.encode("euc-jp"), None)[0] == page


def test_meta_utf16_on_an_ascii_compatible_page_means_utf8() -> None:
    # WHATWG: a meta tag cannot declare UTF-16 (it was read as ASCII), so it means UTF-8.
    page = '<html><head><meta charset="utf-16"></head><body><p>Plain text.</p></body></html>'
    assert len(page) % 2 == 0  # so that the bytes would also decode, wrongly, as UTF-16
    assert decode_html(page.encode("utf-8"), None) == (page, "utf-8")


def test_byte_order_mark_wins_over_labels() -> None:
    page = '<html><body><p>Grüße aus Köln \u2013 \u201cquoted".</p></body></html>'
    page.encode("utf-8").decode("cp1252")  # without the BOM rule the label would decode it, wrongly
    assert decode_html(b"\xef\xbb\xbf" + page.encode("utf-8"), "iso-8859-1")[0] == page
    assert decode_html(page.encode("utf-16"), None)[0] == page  # BOM, and NUL bytes that are not binary


@pytest.mark.parametrize(("text", "codec"), [(RUSSIAN, "windows-1251"), (JAPANESE, "euc-jp")])
def test_charset_detection_without_any_label(text: str, codec: str) -> None:
    decoded, charset = decode_html(text.encode(codec), None)
    assert decoded == text
    assert charset.replace("_", "-").lower() in (codec, codec.replace("windows-", "cp"))


def test_latin1_label_means_windows_1252() -> None:
    text = "\u201cquoted\u201d \u2013 ok"  # curly quotes and an en dash, 0x93 0x94 0x96 in cp1252
    assert decode_html(text.encode("cp1252"), "iso-8859-1")[0] == text


def test_binary_labelled_html_is_refused() -> None:
    with pytest.raises(PayloadError) as info:
        decode_html(b"\x00\x01\x02PK\x03\x04" * 100, "utf-8")
    assert info.value.reason == "binary_payload"
    assert not info.value.quarantine
