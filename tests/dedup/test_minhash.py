"""MinHasher: equal to datasketch on real texts, accurate on labelled near-duplicates, deterministic."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash

import dedup.minhash as minhash_module
from dedup.minhash import EMPTY_HASH, MinHasher, shingle_hash32
from dedup.normalize import normalize_text, shingles
from tests.conftest import ROOT
from tests.dedup import gsm8k_pairs, web_texts


def datasketch_row(text: str, num_perm: int, seed: int, ngram: int, scheme: str) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32, scheme=scheme)
    m.update_batch([s.encode("utf-8") for s in shingles(text, ngram)])
    return m.hashvalues.astype(np.uint64)


@pytest.mark.parametrize(
    ("num_perm", "seed", "ngram", "scheme", "limit"),
    [
        (112, 1, 5, "affine32", 300),
        (64, 7, 3, "affine32", 120),
        (128, 42, 1, "affine32", 60),
        (112, 1, 5, "legacy", 120),
        (32, 3, 2, "legacy", 60),
    ],
)
def test_rows_equal_datasketch_on_real_pages(num_perm, seed, ngram, scheme, limit):
    texts = list(web_texts()[:limit])
    sigs = MinHasher(num_perm=num_perm, seed=seed, ngram=ngram, scheme=scheme).signatures(texts)
    assert sigs.dtype == np.uint64 and sigs.shape == (len(texts), num_perm)
    for text, row in zip(texts, sigs, strict=True):
        np.testing.assert_array_equal(row, datasketch_row(text, num_perm, seed, ngram, scheme))


def test_rows_equal_datasketch_on_gsm8k():
    texts = [q for pair in gsm8k_pairs()[:200] for q in pair]
    sigs = MinHasher().signatures(texts)
    for text, row in zip(texts, sigs, strict=True):
        np.testing.assert_array_equal(row, datasketch_row(text, 112, 1, 5, "affine32"))


def test_empty_and_short_texts_match_datasketch():
    page = web_texts()[0]
    texts = ["", "   \n\t", "!!! --- ???", "Hello", "Two words.", "a b c d", "a b c d e", page[:40], page]
    hasher = MinHasher(num_perm=16, seed=5, ngram=5)
    sigs = hasher.signatures(texts)
    for text, row in zip(texts, sigs, strict=True):
        np.testing.assert_array_equal(row, datasketch_row(text, 16, 5, 5, "affine32"))
    # No shingles: datasketch's empty MinHash, all 2**32 - 1.
    assert (sigs[:3] == EMPTY_HASH).all()
    assert (MinHash(num_perm=16, seed=5).hashvalues == EMPTY_HASH).all()
    assert hasher.signatures([]).shape == (0, 16)


def test_vectorised_shingle_hashes_equal_shingle_hash32():
    texts = [*web_texts()[:40], "x", "one two", ""]
    for ngram in (1, 3, 5):
        batch = MinHasher(ngram=ngram).shingle_hashes(texts)
        for text, hashes in zip(texts, batch, strict=True):
            expected = [shingle_hash32(s.encode("utf-8")) for s in shingles(text, ngram)]
            assert hashes.tolist() == expected


def test_shingles_rules():
    assert shingles("", 5) == []
    assert shingles("?!", 5) == []
    assert shingles("The  CAT, sat.", 5) == ["the cat sat"]  # shorter than n: one shingle of all words
    assert shingles("a b c d e f", 5) == ["a b c d e", "b c d e f"]
    assert shingles("a b a b a b", 2) == ["a b", "b a", "a b", "b a", "a b"]  # duplicates kept, in order
    with pytest.raises(ValueError):
        shingles("a", 0)


def test_normalize_text_rules():
    # NFKC (full-width letters, ligature), lowercase, punctuation/symbols/controls to spaces, digits kept.
    assert (
        normalize_text("\uff28\uff45\uff4c\uff4c\uff4f,  World! \ufb01ne\u200bprint\x00")
        == "hello world fine print"
    )
    assert normalize_text("Costs $3.50 (or 4,00 €)") == "costs 3 50 or 4 00"
    assert normalize_text("Résumé — naïve") == "résumé naïve"  # diacritics kept
    assert normalize_text("Re\u0301sume\u0301") == normalize_text("Résumé")  # NFKC unifies the spellings
    assert normalize_text("") == normalize_text(" \n ") == ""
    for text in web_texts()[:100]:
        norm = normalize_text(text)
        assert norm == " ".join(norm.split()) and norm == normalize_text(norm)


def test_independent_of_batch_size_order_and_chunking(monkeypatch):
    texts = [*web_texts()[:120], "", "short text"]
    hasher = MinHasher(num_perm=48, seed=11)
    whole = hasher.signatures(texts)
    np.testing.assert_array_equal(whole, hasher.signatures(texts))  # same output twice
    np.testing.assert_array_equal(whole[::-1], hasher.signatures(texts[::-1]))
    singles = np.vstack([hasher.signatures([t]) for t in texts[:30]])
    np.testing.assert_array_equal(whole[:30], singles)
    # Tiny internal batches and permutation blocks: documents straddle every boundary.
    monkeypatch.setattr(minhash_module, "_MAX_BATCH_BYTES", 5000)
    monkeypatch.setattr(minhash_module, "_PERM_ROWS", 97)
    np.testing.assert_array_equal(whole, hasher.signatures(texts))
    # Documents of exactly 10 shingles: with blocks of 10 or 20 rows, documents start on block edges.
    words = normalize_text(web_texts()[0]).split()
    tens = [" ".join(words[i : i + 14]) for i in range(0, 300, 7)]
    expected = np.vstack([hasher.signatures([t]) for t in tens])
    for rows in (10, 20, 7):
        monkeypatch.setattr(minhash_module, "_PERM_ROWS", rows)
        np.testing.assert_array_equal(hasher.signatures(tens), expected)


def test_same_signatures_in_a_fresh_process():
    # Nothing may depend on the process (hash randomisation, caches): recompute in a new interpreter.
    texts = [pair[0] for pair in gsm8k_pairs()[:50]]
    here = MinHasher(num_perm=24, seed=3).signatures(texts)
    code = (
        "import sys, json; from dedup.minhash import MinHasher; "
        "texts = json.load(sys.stdin); "
        "print(MinHasher(num_perm=24, seed=3).signatures(texts).tobytes().hex())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert bytes.fromhex(result.stdout.strip()) == here.tobytes()


def true_jaccard(a: str, b: str, ngram: int = 5) -> float:
    sa, sb = set(shingles(a, ngram)), set(shingles(b, ngram))
    return len(sa & sb) / len(sa | sb)


def test_estimated_jaccard_tracks_true_jaccard_on_labelled_near_duplicates():
    pairs = gsm8k_pairs()
    num_perm = 112
    hasher = MinHasher(num_perm=num_perm)
    left = hasher.signatures([a for a, _ in pairs])
    right = hasher.signatures([b for _, b in pairs])
    estimated = (left == right).mean(axis=1)
    true = np.array([true_jaccard(a, b) for a, b in pairs])
    assert 0.4 < np.median(true) < 0.8  # the labelled pairs really are near-duplicates, not copies
    error = estimated - true
    # The estimator is unbiased with standard deviation sqrt(J(1-J)/k).
    assert abs(error.mean()) < 0.01
    assert np.abs(error).mean() < 0.05
    sigma = np.sqrt(true * (1 - true) / num_perm)
    assert (np.abs(error) <= 4 * sigma + 1 / num_perm).mean() > 0.995
    # Cross pairs (different problems) are labelled non-duplicates: estimates stay near zero.
    cross = (left == np.roll(right, 1, axis=0)).mean(axis=1)
    assert cross.mean() < 0.02 and cross.max() < 0.2


def test_parameter_validation():
    for kwargs in ({"num_perm": 0}, {"ngram": 0}, {"scheme": "affine64"}):
        with pytest.raises(ValueError):
            MinHasher(**kwargs)
