"""Exact-text and URL deduplication: keys, and which document of a group is kept.

Pure functions over Python sequences or pyarrow arrays: no Ray, no paths. A distributed job can
compute keys per shard, then keep, per key, the row whose *preference* tuple (:func:`url_preference`,
:func:`exact_preference`) is smallest; the ``*_keep_mask`` functions do exactly that for one table.

Exact key. :func:`exact_key` hashes :func:`dedup.normalize.normalize_text` of the text (NFKC,
lowercase, punctuation and symbols removed, whitespace collapsed, digits kept), not the raw text.
Two pages that differ only in case, punctuation, spacing or Unicode form are the same document for
training, and with this choice an exact duplicate is always also a MinHash duplicate (equal
normalised text gives equal shingles, hence equal signatures): the exact stage is a cheap first pass
of the near-duplicate one, never a contradiction of it.

URL key. :func:`normalize_url` maps the spellings of one resource to one string; the rules are listed
on the function. Within a URL group the latest fetch is kept (newest ``warc_date``; ties and missing
dates resolved by the lowest id): a page recrawled later is the fresher copy of the same resource.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np

from dedup.normalize import normalize_text

__all__ = [
    "TRACKING_PARAMS",
    "exact_keep_mask",
    "exact_key",
    "exact_preference",
    "normalize_url",
    "url_keep_mask",
    "url_preference",
]

# Query parameters that identify a click or a campaign, never the resource. ``utm_*`` is matched by
# prefix. Kept short on purpose: dropping a parameter that selects content would merge distinct pages.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga"}
)
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def exact_key(text: str) -> str:
    """The exact-dedup key of a text: blake2b-128 (hex) of its dedup-normalised form.

    Texts that differ only in case, punctuation, whitespace or Unicode normal form share a key; every
    text without words shares the key of ``""``.
    """
    return hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=16).hexdigest()


def _percent(match: re.Match[str]) -> str:
    # RFC 3986 6.2.2: decode escapes of unreserved characters, upper-case the hex of the others.
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 5.2.4, enough for real URLs: "." disappears, ".." removes the previous segment.
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out)


def normalize_url(url: str) -> str:
    """The URL-dedup key: one string for the usual spellings of one resource.

    Rules: surrounding whitespace stripped; scheme lowercased, ``http`` folded into ``https`` (Common
    Crawl holds both captures of sites that moved, and they serve the same page); host lowercased,
    trailing dot and one leading ``www.`` removed; default ports (80/443 for http(s)) removed; user
    info kept; path percent-escapes normalised (unreserved characters decoded, hex upper-cased),
    ``.``/``..`` segments resolved, trailing slash removed (an empty path becomes ``/``), case kept
    (servers are case-sensitive); query parameters sorted (stable, by key then raw value), empty ones
    and tracking ones (``utm_*`` and :data:`TRACKING_PARAMS`, matched case-insensitively) dropped,
    the others kept byte for byte apart from escape normalisation; fragment dropped. A string that is
    not an absolute URL with a host is returned stripped and otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    scheme = parts.scheme.lower()
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal: the port follows the closing bracket
        host, _, rest = hostport.partition("]")
        host += "]"
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    host = host.lower().rstrip(".")
    host = host.removeprefix("www.") if host.count(".") >= 2 else host
    if port == _DEFAULT_PORTS.get(scheme) or port == "":
        port = ""
    netloc = (userinfo + "@" if userinfo else "") + host + (":" + port if port else "")
    if scheme == "http":
        scheme = "https"

    path = _remove_dot_segments(_PERCENT.sub(_percent, parts.path)) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"

    params = []
    for piece in parts.query.split("&"):
        if not piece:
            continue
        piece = _PERCENT.sub(_percent, piece)
        key = unquote(piece.partition("=")[0]).lower()
        if key.startswith("utm_") or key in TRACKING_PARAMS:
            continue
        params.append(piece)
    params.sort(key=lambda p: (p.partition("=")[0], p))
    query = "?" + "&".join(params) if params else ""
    return f"{scheme}://{netloc}{path}{query}"


def _as_list(values: Sequence[Any] | Any) -> list[Any]:
    # pyarrow arrays and chunked arrays convert with to_pylist; numpy arrays and sequences with list().
    to_pylist = getattr(values, "to_pylist", None)
    return to_pylist() if to_pylist is not None else list(values)


def url_preference(warc_date: dt.datetime | None, doc_id: str) -> tuple[int, int, str]:
    """Sort key within a URL group; the smallest is kept: latest ``warc_date``, then lowest id.

    A missing date ranks after every dated fetch; a naive datetime is taken as UTC.
    """
    if warc_date is None:
        return (1, 0, doc_id)
    if warc_date.tzinfo is None:
        warc_date = warc_date.replace(tzinfo=dt.UTC)
    delta = warc_date - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds  # exact, unlike floats
    return (0, -micros, doc_id)


def exact_preference(quality: float | None, doc_id: str) -> tuple[float, str]:
    """Sort key within an exact-text group; the smallest is kept: highest quality, then lowest id.

    ``quality`` is whatever score the job ranks by (e.g. a ``scores`` entry); missing or NaN ranks
    after every real score.
    """
    if quality is None or math.isnan(quality):
        return (math.inf, doc_id)
    return (-float(quality), doc_id)


def _keep_mask(keys: list[Any], preferences: list[Any]) -> np.ndarray:
    best: dict[Any, tuple[Any, int]] = {}
    for row, (key, pref) in enumerate(zip(keys, preferences, strict=True)):
        held = best.get(key)
        # Strictly smaller wins, so among identical preferences (the same record twice) the first row
        # is kept: one keeper per group, always.
        if held is None or pref < held[0]:
            best[key] = (pref, row)
    mask = np.zeros(len(keys), dtype=bool)
    mask[[row for _, row in best.values()]] = True
    return mask


def url_keep_mask(
    ids: Sequence[str] | Any, urls: Sequence[str] | Any, warc_dates: Sequence[dt.datetime | None] | Any
) -> np.ndarray:
    """Boolean mask over rows: True for the one row kept per :func:`normalize_url` key.

    The keeper is the latest fetch (:func:`url_preference`). Accepts sequences or pyarrow arrays
    (e.g. the ``id``, ``url`` and ``warc_date`` columns of a shard).
    """
    ids_, urls_, dates = _as_list(ids), _as_list(urls), _as_list(warc_dates)
    if not len(ids_) == len(urls_) == len(dates):
        raise ValueError("ids, urls and warc_dates must have the same length")
    keys = [normalize_url(u) for u in urls_]
    return _keep_mask(keys, [url_preference(d, i) for d, i in zip(dates, ids_, strict=True)])


def exact_keep_mask(
    ids: Sequence[str] | Any,
    texts: Sequence[str] | Any | None = None,
    quality: Sequence[float | None] | Any | None = None,
    *,
    keys: Sequence[str] | Any | None = None,
) -> np.ndarray:
    """Boolean mask over rows: True for the one row kept per :func:`exact_key`.

    The keeper has the highest ``quality`` (when given), then the lowest id (:func:`exact_preference`).
    Pass ``texts`` or precomputed ``keys`` (e.g. from a column written by an earlier pass).
    """
    ids_ = _as_list(ids)
    if keys is not None:
        keys_ = _as_list(keys)
    elif texts is not None:
        keys_ = [exact_key(t) for t in _as_list(texts)]
    else:
        raise ValueError("give texts or keys")
    scores = _as_list(quality) if quality is not None else [None] * len(ids_)
    if not len(ids_) == len(keys_) == len(scores):
        raise ValueError("ids, texts/keys and quality must have the same length")
    return _keep_mask(keys_, [exact_preference(q, i) for q, i in zip(scores, ids_, strict=True)])
