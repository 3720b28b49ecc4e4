"""Deduplication: exact (normalised text), URL, and MinHash-LSH near-duplicates.

The public API of the signature side; clustering (band keys -> candidate pairs -> components) and the
barrier job build on it.
"""

from dedup.exact import (
    TRACKING_PARAMS,
    exact_keep_mask,
    exact_key,
    exact_preference,
    normalize_url,
    url_keep_mask,
    url_preference,
)
from dedup.lsh import FINEWEB_PRESET, band_keys, collision_probability, optimal_bands_rows
from dedup.minhash import EMPTY_HASH, MinHasher, shingle_hash32
from dedup.normalize import normalize_text, shingles

__all__ = [
    "EMPTY_HASH",
    "FINEWEB_PRESET",
    "TRACKING_PARAMS",
    "MinHasher",
    "band_keys",
    "collision_probability",
    "exact_keep_mask",
    "exact_key",
    "exact_preference",
    "normalize_text",
    "normalize_url",
    "optimal_bands_rows",
    "shingle_hash32",
    "shingles",
    "url_keep_mask",
    "url_preference",
]
