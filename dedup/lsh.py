"""Locality-sensitive hashing of MinHash signatures: band parameters and band keys.

A signature of ``bands * rows`` values is cut into ``bands`` slices of ``rows`` values; two documents
become a candidate pair when any band's slices are equal, which for Jaccard similarity ``s`` happens
with probability ``1 - (1 - s**rows)**bands``. FineWeb used 14 bands of 8 rows (112 permutations):
a pair is found with probability 21 % at s = 0.6, 56 % at 0.7, 92 % at 0.8 and 99.96 % at 0.9.

Turning keys into pairs and clusters (local and Ray) lives in the clustering modules of this package.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from datasketch.lsh import _optimal_param

__all__ = ["FINEWEB_PRESET", "band_keys", "collision_probability", "optimal_bands_rows"]

FINEWEB_PRESET: tuple[int, int] = (14, 8)  # (bands, rows): FineWeb's MinHash dedup, 112 permutations

_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(33), np.uint64(0xC4CEB9FE1A85EC53))
_BAND_SEED = 0x6A09E667F3BCC909  # arbitrary odd constants (SHA-512 IV words)
_ROW_MUL = np.uint64(0xBB67AE8584CAA73B)


def optimal_bands_rows(
    threshold: float,
    num_perm: int,
    false_positive_weight: float = 0.5,
    false_negative_weight: float = 0.5,
) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimising the weighted sum of the false
    positive and false negative probability mass around ``threshold``.

    This is datasketch's own optimiser (``datasketch.lsh._optimal_param``, what ``MinHashLSH`` uses),
    called rather than copied so both always agree. It searches all (b, r) pairs with numerical
    integration (tens of milliseconds for ``num_perm=112``): call it once per job, not per batch.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if num_perm < 2:
        raise ValueError(f"num_perm must be at least 2, got {num_perm}")
    if false_positive_weight < 0 or false_negative_weight < 0:
        raise ValueError("weights must be non-negative")
    bands, rows = _optimal_param(threshold, num_perm, false_positive_weight, false_negative_weight)
    return int(bands), int(rows)


@overload
def collision_probability(jaccard: float, bands: int, rows: int) -> float: ...
@overload
def collision_probability(jaccard: np.ndarray, bands: int, rows: int) -> np.ndarray: ...
def collision_probability(jaccard: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that two documents of Jaccard similarity ``jaccard`` share at least one band key:
    ``1 - (1 - s**rows)**bands``. Accepts a scalar or an array of similarities."""
    s = np.asarray(jaccard, dtype=np.float64)
    p = 1.0 - (1.0 - s**rows) ** bands
    return float(p) if p.ndim == 0 else p


def _mix(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2 = _FMIX64
    h = h ^ (h >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    return h ^ (h >> s1)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per document and band: uint64 array of shape ``(n, bands)``.

    Column ``i`` keys the slice ``signatures[:, i*rows:(i+1)*rows]``. The top
    ``ceil(log2(bands))`` bits hold the band index ``i``, so keys of different bands can never be
    equal, even if a job flattens them into one column. The remaining bits are a hash (fmix64 chain,
    seeded with the band index) of the slice: equal slices always give equal keys; different slices
    collide with probability about ``2**-(64 - band_bits)`` (2**-60 for 14 bands), far below the false
    positives LSH itself makes on purpose. Pure function of the values: stable across runs, machines,
    batch sizes and orders. Signature columns beyond ``bands * rows`` are ignored.
    """
    signatures = np.asarray(signatures)
    if signatures.ndim != 2:
        raise ValueError(f"signatures must be 2-D (documents x permutations), got shape {signatures.shape}")
    if bands < 1 or rows < 1:
        raise ValueError(f"bands and rows must be positive, got {bands}, {rows}")
    if bands * rows > signatures.shape[1]:
        have = signatures.shape[1]
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} values, have {have}")
    sig = signatures.astype(np.uint64, copy=False)
    band_bits = max(1, (bands - 1).bit_length())
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for i in range(bands):
        h = np.full(sig.shape[0], (_BAND_SEED + i) & ((1 << 64) - 1), dtype=np.uint64)
        for j in range(i * rows, (i + 1) * rows):
            # Mixing after every value makes the chain order-sensitive and spreads every input bit.
            h = _mix((h ^ sig[:, j]) * _ROW_MUL)
        keys[:, i] = (h >> np.uint64(band_bits)) | np.uint64(i << (64 - band_bits))
    return keys
