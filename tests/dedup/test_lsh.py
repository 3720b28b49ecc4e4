"""LSH parameters and band keys on real signatures."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHashLSH

from dedup.lsh import FINEWEB_PRESET, band_keys, collision_probability, optimal_bands_rows
from dedup.minhash import MinHasher
from dedup.normalize import shingles
from tests.dedup import gsm8k_pairs, web_texts


@pytest.mark.parametrize(
    ("threshold", "num_perm", "weights"),
    [(0.8, 112, (0.5, 0.5)), (0.7, 128, (0.5, 0.5)), (0.9, 64, (0.5, 0.5)), (0.75, 112, (0.3, 0.7))],
)
def test_optimal_bands_rows_match_datasketch(threshold, num_perm, weights):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    bands, rows = optimal_bands_rows(threshold, num_perm, *weights)
    assert (bands, rows) == (lsh.b, lsh.r)
    assert bands * rows <= num_perm


def test_fineweb_preset_and_collision_probability():
    bands, rows = FINEWEB_PRESET
    assert bands * rows == MinHasher().num_perm
    s = np.linspace(0, 1, 11)
    np.testing.assert_allclose(collision_probability(s, bands, rows), 1 - (1 - s**rows) ** bands)
    assert collision_probability(1.0, bands, rows) == 1.0 and collision_probability(0.0, bands, rows) == 0.0
    assert 0.9 < collision_probability(0.8, bands, rows) < 0.95
    assert isinstance(collision_probability(0.5, bands, rows), float)


def real_signatures() -> np.ndarray:
    # Real pages, some repeated verbatim and some with a changed ending, so bands agree and differ.
    pages = list(web_texts()[:200])
    texts = pages + pages[:20] + [p[: len(p) // 2] + " (edited)" for p in pages[20:60]]
    return MinHasher().signatures(texts)


def partition(labels: list[bytes] | np.ndarray) -> set[frozenset[int]]:
    groups: dict[object, set[int]] = {}
    for row, label in enumerate(labels):
        groups.setdefault(label, set()).add(row)
    return {frozenset(g) for g in groups.values()}


def test_band_keys_equal_iff_slices_equal():
    sigs = real_signatures()
    bands, rows = FINEWEB_PRESET
    keys = band_keys(sigs, bands, rows)
    assert keys.dtype == np.uint64 and keys.shape == (len(sigs), bands)
    shared = 0
    for i in range(bands):
        slices = [row.tobytes() for row in sigs[:, i * rows : (i + 1) * rows]]
        by_slice, by_key = partition(slices), partition(keys[:, i].tolist())
        assert by_slice == by_key
        shared += sum(len(g) > 1 for g in by_slice)
    assert shared > 20  # the check saw real equal slices, not only distinct ones


def test_band_keys_never_collide_across_bands():
    sigs = real_signatures()
    # Identical slices in every band: only the band index separates the keys.
    same = np.tile(sigs[:, :8], (1, 14))
    for matrix in (sigs, same):
        keys = band_keys(matrix, 14, 8)
        per_band = [set(keys[:, i].tolist()) for i in range(14)]
        assert sum(len(k) for k in per_band) == len(set().union(*per_band))
        assert ((keys >> np.uint64(60)) == np.arange(14, dtype=np.uint64)).all()


def test_band_keys_are_row_independent_and_stable():
    sigs = real_signatures()
    keys = band_keys(sigs, 9, 12)
    np.testing.assert_array_equal(keys, band_keys(sigs, 9, 12))
    np.testing.assert_array_equal(keys[::-1], band_keys(sigs[::-1], 9, 12))
    np.testing.assert_array_equal(keys[17:18], band_keys(sigs[17:18], 9, 12))
    np.testing.assert_array_equal(keys, band_keys(sigs.astype(np.uint32), 9, 12))  # values, not dtype
    with pytest.raises(ValueError):
        band_keys(sigs, 15, 8)  # 120 values from a 112-wide signature
    with pytest.raises(ValueError):
        band_keys(sigs[0], 14, 8)


def true_jaccard(a: str, b: str) -> float:
    sa, sb = set(shingles(a)), set(shingles(b))
    return len(sa & sb) / len(sa | sb)


def test_band_collisions_follow_the_s_curve_on_labelled_pairs():
    pairs = gsm8k_pairs()
    hasher = MinHasher()
    bands, rows = FINEWEB_PRESET
    left = band_keys(hasher.signatures([a for a, _ in pairs]), bands, rows)
    right = band_keys(hasher.signatures([b for _, b in pairs]), bands, rows)
    found = (left == right).any(axis=1)
    true = np.array([true_jaccard(a, b) for a, b in pairs])
    expected = collision_probability(true, bands, rows)
    # 1,319 independent Bernoulli draws: the observed rate is within a few standard errors of the mean.
    stderr = np.sqrt((expected * (1 - expected)).sum()) / len(pairs)
    assert abs(found.mean() - expected.mean()) < 4 * stderr
