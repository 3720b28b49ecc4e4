"""Estimate and project on a BPB matrix with a planted signal; the student trains on domain labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from filters.classifiers import positive_probabilities
from filters.perplexity_correlations.bpb import BPBMatrix
from filters.perplexity_correlations.domains import PoolDocument
from filters.perplexity_correlations.fit import estimate_weights, train_student
from filters.training import TrainSettings


def _matrix(seed: int = 0) -> tuple[BPBMatrix, dict[str, float]]:
    # 30 models; domains d0..d4 track the error, d5..d9 are noise around a common quality factor.
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.2, 0.8, size=30)
    quality = rng.normal(size=30)
    cols = [y * 2 + 0.05 * rng.normal(size=30) + 1 for _ in range(5)]
    cols += [1.5 + 0.1 * quality + 0.3 * rng.normal(size=30) for _ in range(5)]
    X = np.stack(cols, axis=1)
    names = [f"m{k}" for k in range(30)]
    domains = [f"d{j}.com" for j in range(10)]
    matrix = BPBMatrix(names, domains, X, np.ones(10, dtype=np.int64), np.ones(10))
    return matrix, dict(zip(names, y, strict=True))


@pytest.mark.parametrize("estimator", ["spearmanr", "sign_cdf", "sign", "sign_sign", "product"])
def test_planted_domains_are_included(estimator: str) -> None:
    matrix, errors = _matrix()
    tokens = {d: 1000 for d in matrix.domains}
    w = estimate_weights(matrix, errors, tokens, keep_ratio=0.5, estimator=estimator)
    assert w.include == {f"d{j}.com" for j in range(5)}
    assert w.weight.sum() == pytest.approx(1.0) and (w.weight <= w.tau + 1e-12).all()
    assert w.tau == pytest.approx(np.full(10, 0.2))  # 1,000 of a 5,000-token budget each


def test_refusals() -> None:
    matrix, errors = _matrix()
    tokens = {d: 1000 for d in matrix.domains}
    with pytest.raises(ValueError, match="only 2 models"):
        estimate_weights(matrix, {"m0": 0.1, "m1": 0.2}, tokens, keep_ratio=0.5)
    with pytest.raises(ValueError, match="unknown estimator"):
        estimate_weights(matrix, errors, tokens, keep_ratio=0.5, estimator="pearson")
    with pytest.raises(ValueError, match="without text"):
        estimate_weights(matrix, errors, {"d0.com": 10}, keep_ratio=0.5)


def test_student_learns_domain_labels(tmp_path: Path, testdata: Path) -> None:
    from tests.filters.perplexity_correlations._pool import SUBJECTS, subject_items

    docs = []
    for subject in SUBJECTS[:6]:
        for i, item in enumerate(subject_items(testdata, subject, "test")[:40]):
            docs.append(PoolDocument(f"{subject}-{i}", f"{subject}.org", item, len(item.split())))
    include = {"elementary_mathematics.org", "high_school_mathematics.org", "econometrics.org"}
    labelled = {d.domain for d in docs}
    trained, metrics = train_student(
        docs, include, labelled, tmp_path / "s.bin", settings=TrainSettings(epoch=10), holdout=0.0
    )
    assert metrics is None and trained.path.is_file()
    model = trained.load()
    # Items the student never saw: those of included subjects score higher on average.
    unseen = {s: subject_items(testdata, s, "test")[40:80] for s in SUBJECTS[:6]}
    mean = {s: float(np.mean(positive_probabilities(model, t, "include", 10**5))) for s, t in unseen.items()}
    inside = [v for s, v in mean.items() if f"{s}.org" in include]
    outside = [v for s, v in mean.items() if f"{s}.org" not in include]
    assert min(inside) > max(outside), mean
    with pytest.raises(ValueError, match="both"):
        train_student(docs, set(), labelled, tmp_path / "t.bin")
