"""Per-domain BPB from per-chunk losses: token weighting, NaN chunks dropped for every model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from filters.perplexity_correlations.bpb import (
    benchmark_bpb,
    domain_bpb,
    read_bpb,
    read_error_csv,
    write_bpb,
    write_error_csv,
)
from filters.perplexity_correlations.domains import Chunk
from filters.perplexity_correlations.scoring import ModelScores

CHUNKS = [
    Chunk("a.com", "a1", 0, "x" * 100),
    Chunk("a.com", "a2", 0, "y" * 300),
    Chunk("b.com", "b1", 0, "z" * 200),
    Chunk("c.com", "c1", 0, "w" * 50),
]


def _scores(name: str, nats: list[float], tokens: list[int]) -> ModelScores:
    return ModelScores(name, np.array(nats, dtype=float), np.array(tokens, dtype=np.int64))


def test_token_weighted_domain_bpb_and_nan_chunks() -> None:
    m1 = _scores("m1", [70.0, 420.0, 100.0, 10.0], [10, 30, 20, 5])
    m2 = _scores("m2", [35.0, 210.0, math.nan, 20.0], [12, 36, 0, 5])  # b1 unscorable by m2
    matrix = domain_bpb([m1, m2], CHUNKS)
    assert matrix.domains == ["a.com", "c.com"]  # b.com's only chunk is dropped for both models
    assert matrix.dropped_chunks == 1 and matrix.nan_by_model == {"m1": 0, "m2": 1}
    ln2 = math.log(2)
    bpb = lambda nats, size: nats / size / ln2  # noqa: E731
    want_a1 = (10 * bpb(70, 100) + 30 * bpb(420, 300)) / 40
    want_a2 = (12 * bpb(35, 100) + 36 * bpb(210, 300)) / 48
    np.testing.assert_allclose(matrix.X, [[want_a1, bpb(10, 50)], [want_a2, bpb(20, 50)]])
    assert matrix.chunks.tolist() == [2, 1] and matrix.utf8_bytes.tolist() == [400, 50]


def test_round_trip_and_errors(tmp_path: Path) -> None:
    matrix = domain_bpb([_scores("m1", [1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4])], CHUNKS)
    write_bpb(matrix, tmp_path / "bpb.parquet")
    back = read_bpb(tmp_path / "bpb.parquet")
    assert back.models == ["m1"] and back.domains == matrix.domains
    np.testing.assert_array_equal(back.X, matrix.X)
    write_error_csv({"m1": 0.25, "m2": 0.5}, tmp_path / "e.csv")
    assert read_error_csv(tmp_path / "e.csv") == {"m1": 0.25, "m2": 0.5}
    (tmp_path / "bad.csv").write_text("model,error\nm1,abc\n")
    with pytest.raises(ValueError, match="line 2"):
        read_error_csv(tmp_path / "bad.csv")
    (tmp_path / "nohdr.csv").write_text("m1,0.2\n")
    with pytest.raises(ValueError, match="header"):
        read_error_csv(tmp_path / "nohdr.csv")
    with pytest.raises(ValueError, match="clashes"):
        write_bpb(domain_bpb([_scores("domain", [1.0] * 4, [1] * 4)], CHUNKS), tmp_path / "x.parquet")


def test_benchmark_bpb_is_bytes_weighted() -> None:
    texts = ["ab", "cdef", ""]
    s = _scores("m", [2.0, 6.0, math.nan], [1, 3, 0])
    assert benchmark_bpb(s, texts) == pytest.approx(8.0 / 6 / math.log(2))
