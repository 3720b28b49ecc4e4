"""MinHash signatures of many documents at once, equal to datasketch's, several times faster.

A signature row is what ``datasketch.MinHash`` gives for the document's shingles
(:func:`dedup.normalize.shingles`) hashed with :func:`shingle_hash32`::

    m = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32, scheme=scheme)
    m.update_batch([s.encode("utf-8") for s in shingles(text, ngram)])
    m.hashvalues  # == MinHasher(num_perm, seed, ngram, scheme=scheme).signatures([text])[0]

Permutation scheme. datasketch 2.0 made ``"affine32"`` its default (fmix32 pre-mix, then
``a * h + b mod 2**32`` with odd ``a``: a bijection, so the permutation adds no collisions); before 2.0
the only scheme was ``"legacy"`` (``(a * h + b) mod (2**61 - 1)``, cut to 32 bits). ccsieve uses
``"affine32"`` by default and can compute ``"legacy"`` for comparison with older sketches. The
permutation parameters are taken from a datasketch ``MinHash`` of the same seed, so they cannot drift.
Rows are uint64 in both schemes (values below ``2**32``); a document without shingles gets a row of
``2**32 - 1``, datasketch's empty value.

Why it is fast. datasketch calls a Python hash function once per shingle. Here a whole batch of
documents is hashed with numpy: each *word* is hashed once (a polynomial hash of its UTF-8 bytes,
computed for all words of the batch with one prefix sum), word hashes are combined into n-gram hashes
with a few vector operations, and the permutations run as one (shingles x num_perm) computation in
bounded chunks, reduced per document with ``np.minimum.reduceat``. :func:`shingle_hash32` is the same
function written for one shingle's bytes, so datasketch with it gives identical signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
from datasketch import MinHash

from dedup.normalize import normalize_text

__all__ = ["EMPTY_HASH", "MinHasher", "Scheme", "shingle_hash32"]

Scheme = Literal["affine32", "legacy"]

EMPTY_HASH = np.uint64((1 << 32) - 1)  # datasketch's initial (empty) hash value in both schemes

_MASK64 = (1 << 64) - 1
# Polynomial base of the word hash (the 64-bit FNV prime; any odd constant works, odd so that it has an
# inverse modulo 2**64, which the prefix-sum formulation needs).
_BASE = 0x100000001B3
_BASE_INV = pow(_BASE, -1, 1 << 64)
_LEN_MIX = 0x9E3779B97F4A7C15  # golden-ratio constant: adds the word length before the final mix
_NGRAM_SEED = 0xC2B2AE3D27D4EB4F
_NGRAM_MUL = 0xFF51AFD7ED558CCD  # odd: (h ^ w) * M is a bijection in h for each w, order-sensitive

_U64 = np.uint64
_FMIX64 = (_U64(33), _U64(0xFF51AFD7ED558CCD), _U64(33), _U64(0xC4CEB9FE1A85EC53), _U64(33))
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
_MERSENNE = _U64((1 << 61) - 1)

# Bounds on the work arrays: bytes of normalised text hashed at once (each byte becomes a few uint64s),
# and rows of the (shingles x num_perm) permutation block.
_MAX_BATCH_BYTES = 1 << 20
_PERM_ROWS = 4096


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


@lru_cache(maxsize=1 << 16)
def _word_hash_int(word: bytes) -> int:
    poly = 0
    for byte in word:
        poly = (poly * _BASE + byte) & _MASK64
    return _fmix64_int((poly + len(word) * _LEN_MIX) & _MASK64)


def shingle_hash32(data: bytes) -> int:
    """The 32-bit hash of one shingle (its words joined by single spaces, UTF-8), as MinHasher uses it.

    Each word is hashed as ``fmix64(poly(bytes) + len * C)`` where ``poly`` is the polynomial of its
    bytes in base ``0x100000001B3`` modulo ``2**64``; word hashes ``w`` are folded as
    ``h = (h ^ w) * M mod 2**64`` from a fixed seed; the result is the high 32 bits of
    ``fmix64(h + number_of_words)``. Not cryptographic: adversarial collisions are easy to build, which
    for dedup only means an adversary can get a page dropped that they could have duplicated anyway.
    This pure-Python version exists for interoperability (pass it as datasketch's ``hashfunc``); the
    batch code in :class:`MinHasher` computes the same values with numpy.
    """
    words = data.split(b" ")
    h = _NGRAM_SEED
    for word in words:
        h = ((h ^ _word_hash_int(word)) * _NGRAM_MUL) & _MASK64
    return _fmix64_int((h + len(words)) & _MASK64) >> 32


def _fmix64(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX64
    h = h ^ (h >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    h = h ^ (h >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


class _Powers:
    """``base**k mod 2**64`` for k = 0, 1, ..., grown on demand and shared by all hashers of a process."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.values = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> np.ndarray:
        if len(self.values) < n:
            size = max(n, 2 * len(self.values))
            steps = np.full(size, self.base, dtype=np.uint64)
            steps[0] = 1
            self.values = np.cumprod(steps, dtype=np.uint64)  # uint64 products wrap: mod 2**64
        return self.values[:n]


_POW = _Powers(_BASE)
_POW_INV = _Powers(_BASE_INV)


def _word_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``_word_hash_int`` of every word ``data[starts[i]:ends[i]]`` of a uint8 buffer, vectorised.

    With ``S[k] = sum_{j<k} c_j * BASE**-j``, a word's polynomial ``sum c_j * BASE**(e-1-j)`` is
    ``(S[e] - S[s]) * BASE**(e-1)``: one prefix sum serves every word (all mod 2**64).
    """
    n = len(data)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(data.astype(np.uint64) * _POW_INV.upto(n), out=prefix[1:])
    poly = (prefix[ends] - prefix[starts]) * _POW.upto(n)[ends - 1]
    lengths = (ends - starts).astype(np.uint64)
    return _fmix64(poly + lengths * _U64(_LEN_MIX))


class MinHasher:
    """Computes MinHash signatures of whole batches of texts (see the module docstring).

    ``num_perm`` permutations from ``seed``; shingles are word ``ngram``-grams of
    :func:`dedup.normalize.normalize_text`. FineWeb's setting is 112 permutations (14 bands x 8 rows)
    of word 5-grams, the default here. Instances are cheap to pickle (a few arrays) and reusable.
    """

    def __init__(
        self, num_perm: int = 112, seed: int = 1, ngram: int = 5, scheme: Scheme = "affine32"
    ) -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be positive, got {num_perm}")
        if ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {ngram}")
        if scheme not in ("affine32", "legacy"):
            raise ValueError(f"scheme must be 'affine32' or 'legacy', got {scheme!r}")
        self.num_perm = num_perm
        self.seed = seed
        self.ngram = ngram
        self.scheme: Scheme = scheme
        # datasketch's own parameters for this seed: compatibility by construction, not by copy.
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
        dtype = np.uint32 if scheme == "affine32" else np.uint64
        self._a = np.asarray(a, dtype=dtype)[None, :]
        self._b = np.asarray(b, dtype=dtype)[None, :]

    def __repr__(self) -> str:
        params = f"num_perm={self.num_perm}, seed={self.seed}, ngram={self.ngram}, scheme={self.scheme!r}"
        return f"MinHasher({params})"

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """Signatures of ``texts``: uint64 array of shape ``(len(texts), num_perm)``.

        Row ``i`` depends only on ``texts[i]``: batch size and order never change it.
        """
        out = np.full((len(texts), self.num_perm), EMPTY_HASH, dtype=np.uint64)
        batch: list[tuple[int, str]] = []
        batch_bytes = 0
        for i, text in enumerate(texts):
            norm = normalize_text(text)
            if not norm:
                continue
            batch.append((i, norm))
            batch_bytes += len(norm) + 1
            if batch_bytes >= _MAX_BATCH_BYTES:
                self._fill(batch, out)
                batch, batch_bytes = [], 0
        if batch:
            self._fill(batch, out)
        return out

    def shingle_hashes(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The :func:`shingle_hash32` value of every shingle of each text (uint64, shingle order)."""
        norms = [normalize_text(t) for t in texts]
        kept = [(i, n) for i, n in enumerate(norms) if n]
        result = [np.zeros(0, dtype=np.uint64) for _ in texts]
        if kept:
            hashes, counts = self._batch_shingle_hashes([n for _, n in kept])
            for (i, _), part in zip(kept, np.split(hashes, np.cumsum(counts)[:-1]), strict=True):
                result[i] = part
        return result

    def _batch_shingle_hashes(self, norms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle hashes of non-empty normalised texts, concatenated, and the count per text."""
        joined = " ".join(norms).encode("utf-8")
        data = np.frombuffer(joined, dtype=np.uint8)
        spaces = np.flatnonzero(data == 32)
        starts = np.concatenate(([0], spaces + 1))
        ends = np.concatenate((spaces, [len(data)]))
        words = _word_hashes(data, starts, ends)
        # Words per text: normalised texts are words joined by single spaces.
        n_words = np.fromiter((n.count(" ") + 1 for n in norms), dtype=np.int64, count=len(norms))
        first_word = np.concatenate(([0], np.cumsum(n_words)[:-1]))

        n = self.ngram
        # folds[t - 1][g] = fold of words g .. g + t - 1 (valid where they exist); t words per shingle.
        folds = []
        h = np.full(len(words), _NGRAM_SEED, dtype=np.uint64)
        for t in range(min(n, int(n_words.max()))):
            h = (h[: len(words) - t] ^ words[t:]) * _U64(_NGRAM_MUL)
            folds.append(h)

        counts = np.where(n_words >= n, n_words - n + 1, 1)
        owner = np.repeat(np.arange(len(norms)), counts)
        # Position of each shingle's first word: the text's first word plus its rank within the text.
        rank = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        first = first_word[owner] + rank
        size = np.minimum(n_words, n)[owner]  # words per shingle: n, or all words of a short text
        folded = np.empty(len(first), dtype=np.uint64)
        for t in np.unique(size):
            sel = size == t
            folded[sel] = folds[t - 1][first[sel]]
        return _fmix64(folded + size.astype(np.uint64)) >> _U64(32), counts

    def _fill(self, batch: list[tuple[int, str]], out: np.ndarray) -> None:
        hashes, counts = self._batch_shingle_hashes([norm for _, norm in batch])
        rows = np.asarray([i for i, _ in batch], dtype=np.int64)
        doc_starts = np.cumsum(counts) - counts  # first shingle of each document
        if self.scheme == "affine32":
            hv = _fmix32(hashes.astype(np.uint32))[:, None]
        else:
            hv = hashes[:, None]
        for lo in range(0, len(hv), _PERM_ROWS):
            block = hv[lo : lo + _PERM_ROWS] * self._a
            block += self._b  # affine32: uint32 wraparound is the scheme's mod 2**32
            if self.scheme == "legacy":
                # uint64 products wrap mod 2**64 before the modulo, exactly as datasketch computes them.
                block %= _MERSENNE
                block &= EMPTY_HASH
            # A block may start or end inside a document: reduce per document run, then merge into out.
            first = np.searchsorted(doc_starts, lo, side="right") - 1  # the document holding row lo
            end = np.searchsorted(doc_starts, lo + len(block), side="left")  # documents starting in block
            docs = np.arange(first, end)
            mins = np.minimum.reduceat(block, np.maximum(doc_starts[docs] - lo, 0), axis=0)
            targets = rows[docs]
            out[targets] = np.minimum(out[targets], mins)
