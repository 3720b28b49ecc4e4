from __future__ import annotations

import gzip

import pytest

from extractors.http import PayloadError, decode_html, parse_http_response

MAX = 1 << 20


def _block(headers: str, body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\n" + headers.encode() + b"\r\n\r\n" + body


def test_status_headers_and_repeated_headers() -> None:
    payload = parse_http_response(
        _block("Content-Type: text/html; charset=UTF-8\r\nVary: a\r\nVary: b", b"<p>x"), MAX
    )
    assert payload.status == 200
    assert payload.headers["vary"] == "a, b"
    assert payload.mime_type == "text/html"
    assert payload.header_charset == "UTF-8"
    assert payload.is_html()


def test_chunked_body_is_joined() -> None:
    body = b"4\r\n<p>a\r\n5\r\nbcde<\r\n0\r\n\r\n"
    payload = parse_http_response(_block("Transfer-Encoding: chunked", body), MAX)
    assert payload.body == b"<p>abcde<"


def test_real_gzip_is_inflated_and_declared_but_decoded_gzip_is_kept() -> None:
    html = b"<html><body>" + b"hello " * 100 + b"</body></html>"
    zipped = parse_http_response(_block("Content-Encoding: gzip", gzip.compress(html)), MAX)
    assert zipped.body == html
    already = parse_http_response(_block("Content-Encoding: gzip", html), MAX)
    assert already.body == html


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (4 * MAX))
    assert len(bomb) < 10_000
    with pytest.raises(PayloadError) as info:
        parse_http_response(_block("Content-Encoding: gzip", bomb), MAX)
    assert info.value.reason == "payload_too_large"


def test_unsupported_encoding_and_missing_status_line() -> None:
    with pytest.raises(PayloadError) as info:
        parse_http_response(_block("Content-Encoding: compress", b"xx"), MAX)
    assert info.value.reason == "unsupported_content_encoding"
    with pytest.raises(PayloadError) as info:
        parse_http_response(b"garbage without headers", MAX)
    assert info.value.reason == "bad_http_headers"


def test_missing_or_vague_content_type_is_sniffed() -> None:
    assert parse_http_response(_block("X: y", b"  <!DOCTYPE html><html>"), MAX).is_html()
    assert not parse_http_response(_block("X: y", b"\x89PNG\r\n"), MAX).is_html()
    assert not parse_http_response(_block("Content-Type: image/png", b"<html>"), MAX).is_html()


def test_charset_order_header_then_meta_then_detection() -> None:
    russian = "<html><head></head><body><p>Привет, как дела? Это текст на русском языке.</p></body></html>"
    cp1251 = russian.encode("cp1251")
    assert decode_html(cp1251, "windows-1251") == (russian, "cp1251")
    meta = '<meta charset="windows-1251">' + russian
    assert decode_html(meta.encode("cp1251"), None)[1] == "cp1251"
    # A wrong header that cannot decode the bytes falls through to the meta tag.
    assert decode_html(meta.encode("cp1251"), "utf-8")[0] == meta
    # No header, no meta: uchardet has to recognise the bytes.
    text, _ = decode_html((russian * 5).encode("cp1251"), None)
    assert "Привет, как дела?" in text


def test_latin1_label_means_windows_1252() -> None:
    text = "\u201cquoted\u201d \u2013 ok"  # curly quotes and an en dash, 0x93 0x94 0x96 in cp1252
    assert decode_html(text.encode("cp1252"), "iso-8859-1")[0] == text


def test_binary_labelled_html_is_refused() -> None:
    with pytest.raises(PayloadError) as info:
        decode_html(b"\x00\x01\x02PK\x03\x04" * 100, "utf-8")
    assert info.value.reason == "binary_payload"
