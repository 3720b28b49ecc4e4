"""Exact-text keys, URL normalisation and the keeper rules."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from dedup.exact import (
    exact_keep_mask,
    exact_key,
    exact_preference,
    normalize_url,
    url_keep_mask,
    url_preference,
)
from dedup.minhash import MinHasher
from pipeline.document import Document, to_table
from tests.dedup import BENCH_WARC, web_texts


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTP://WWW.Example.COM/a", "https://example.com/a"),  # case of scheme/host, http == https, www.
        ("https://example.com:443/a", "https://example.com/a"),  # default ports
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),  # other ports kept
        ("https://example.com/a/", "https://example.com/a"),  # trailing slash
        ("https://example.com", "https://example.com/"),  # empty path
        ("https://example.com/#top", "https://example.com/"),  # fragment
        ("https://example.com/A/b", "https://example.com/A/b"),  # path case kept
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),  # dot segments
        ("https://example.com/%7euser/%2f%e2%82%ac", "https://example.com/~user/%2F%E2%82%AC"),  # escapes
        ("https://example.com/?b=2&a=1&a=0", "https://example.com/?a=0&a=1&b=2"),  # sorted query
        (
            "https://example.com/p?utm_source=x&UTM_Medium=y&id=3&fbclid=z&gclid=w",
            "https://example.com/p?id=3",
        ),
        ("https://example.com/p?&&", "https://example.com/p"),  # empty parameters
        ("https://example.com./p", "https://example.com/p"),  # trailing dot of the host
        ("https://www.com/p", "https://www.com/p"),  # "www." is only removed before a domain
        ("https://www2.example.com/p", "https://www2.example.com/p"),
        ("https://user@WWW.example.com:443/p", "https://user@example.com/p"),
        ("https://[2001:DB8::1]:443/p/", "https://[2001:db8::1]/p"),
        ("ftp://example.com:21/f", "ftp://example.com/f"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("not a url", "not a url"),
        ("https://[broken/x", "https://[broken/x"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected
    assert normalize_url(expected) == expected  # idempotent


def test_normalize_url_on_real_urls_is_idempotent_and_keeps_pages_apart():
    with open(BENCH_WARC.with_name("pages.tsv"), encoding="utf-8") as f:
        urls = [line.split("\t")[2] for line in f.read().splitlines()[1:]]
    keys = [normalize_url(u) for u in urls]
    assert [normalize_url(k) for k in keys] == keys
    # Distinct real pages stay distinct (the bench pages are all different documents).
    assert len(set(keys)) == len(set(urls))
    assert any("?" in k for k in keys)  # content-selecting query parameters survive


def ts(day: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2024, 4, day, 12, 0, second, tzinfo=dt.UTC)


def test_url_keeper_is_the_latest_fetch_then_lowest_id():
    rows = [
        ("<urn:uuid:b>", "http://www.example.com/page", ts(1)),
        ("<urn:uuid:c>", "https://example.com/page/", ts(3)),  # latest fetch of the page: kept
        ("<urn:uuid:a>", "https://example.com/page#x", ts(2)),
        ("<urn:uuid:z>", "https://example.com/other", ts(2)),  # alone: kept
        ("<urn:uuid:e>", "https://example.com/tie", ts(5)),
        ("<urn:uuid:d>", "https://example.com/tie?utm_source=feed", ts(5)),  # same date: lowest id kept
        ("<urn:uuid:f>", "https://example.com/nodate", None),
        ("<urn:uuid:g>", "https://example.com/nodate/", ts(1)),  # a dated fetch beats a missing date
        ("<urn:uuid:h>", "https://example.com/onlynull", None),
        ("<urn:uuid:i>", "https://example.com/onlynull", None),
    ]
    ids, urls, dates = zip(*rows, strict=True)
    mask = url_keep_mask(ids, urls, dates)
    kept = {i for i, keep in zip(ids, mask, strict=True) if keep}
    assert kept == {"<urn:uuid:c>", "<urn:uuid:z>", "<urn:uuid:d>", "<urn:uuid:g>", "<urn:uuid:h>"}
    # Independent of row order.
    order = np.random.default_rng(0).permutation(len(rows))
    shuffled = url_keep_mask([ids[k] for k in order], [urls[k] for k in order], [dates[k] for k in order])
    assert {ids[k] for k, keep in zip(order, shuffled, strict=True) if keep} == kept


def test_url_keeper_on_shard_columns():
    # Columns as a shard stores them (pyarrow, timestamp[us, UTC]); microseconds decide.
    docs = [
        Document(id="<urn:uuid:1>", url="https://a.example/x", source="s", offset=0, warc_date=ts(1, 1)),
        Document(id="<urn:uuid:2>", url="https://a.example/x/", source="s", offset=1, warc_date=ts(1, 1)),
        Document(
            id="<urn:uuid:3>",
            url="https://a.example/x",
            source="s",
            offset=2,
            warc_date=ts(1, 1) + dt.timedelta(microseconds=1),
        ),
        Document(id="<urn:uuid:4>", url="https://a.example/y", source="s", offset=3, warc_date=None),
    ]
    table = to_table(docs)
    mask = url_keep_mask(table.column("id"), table.column("url"), table.column("warc_date"))
    assert mask.tolist() == [False, False, True, True]
    naive = dt.datetime(2024, 4, 1, 12, 0, 1)  # a naive datetime is UTC
    assert url_preference(naive, "x") == url_preference(ts(1, 1), "x")


def test_exact_key_uses_the_dedup_normalisation():
    page = web_texts()[3]
    variants = [page, page.upper(), page.replace(" ", "  \n"), page.replace(".", " . ,"), "\ufeff" + page]
    assert len({exact_key(v) for v in variants}) == 1
    assert exact_key(page) != exact_key(page + " more")
    assert exact_key("3 apples") != exact_key("4 apples")  # digits are kept
    # An exact duplicate is always a MinHash duplicate too: equal keys, equal signatures.
    sigs = MinHasher().signatures(variants)
    assert (sigs == sigs[0]).all()
    texts = web_texts()
    assert len({exact_key(t) for t in texts}) == len({" ".join(t.lower().split()) for t in texts})


def test_exact_keeper_prefers_quality_then_lowest_id():
    page, other = web_texts()[5], web_texts()[6]
    ids = ["d3", "d1", "d2", "d4", "d5", "d6"]
    texts = [page, page.lower(), page + "!", other, other, other]
    quality = [0.4, 0.2, 0.9, None, math.nan, None]
    mask = exact_keep_mask(ids, texts, quality)
    assert mask.tolist() == [False, False, True, True, False, False]  # 0.9 wins; missing scores: lowest id
    assert exact_keep_mask(ids, texts).tolist() == [False, True, False, True, False, False]  # no scores: id
    keys = [exact_key(t) for t in texts]
    assert exact_keep_mask(ids, quality=quality, keys=keys).tolist() == mask.tolist()
    assert exact_preference(None, "a") > exact_preference(-1e9, "z")
    with pytest.raises(ValueError):
        exact_keep_mask(ids)
    with pytest.raises(ValueError):
        exact_keep_mask(ids, texts[:2])


def test_one_keeper_per_group_even_for_identical_rows():
    mask = url_keep_mask(["a", "a"], ["https://x.example/", "https://x.example/"], [ts(1), ts(1)])
    assert mask.tolist() == [True, False]
