"""The estimators recover the ranking of known weights under the paper's single-index model, and each
equals its formula computed the slow way."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from filters.perplexity_correlations.estimators import (
    ESTIMATORS,
    product,
    sign,
    sign_cdf,
    sign_sign,
    spearmanr,
)

# The sizes the figures in docs/perplexity-correlations.md state: 2,000 models, 40 domains.
N_MODELS, N_DOMAINS = 2000, 40


def _single_index(seed: int, noise: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X ~ N(0, I); y = sigmoid(<w, x> + e): monotone in the index, bounded like an error rate."""
    rng = np.random.default_rng(seed)
    w = rng.permutation(np.linspace(-1.0, 1.0, N_DOMAINS))
    X = rng.standard_normal((N_MODELS, N_DOMAINS))
    index = X @ w / np.linalg.norm(w) + noise * rng.standard_normal(N_MODELS)
    return X, 1.0 / (1.0 + np.exp(-index)), w


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_the_ranking_of_the_true_weights(name: str, seed: int) -> None:
    X, y, w = _single_index(seed)
    estimate = ESTIMATORS[name](X, y)
    rho = stats.spearmanr(estimate, w).statistic
    assert rho >= 0.9, f"{name}: Spearman {rho:.3f} with the true weights"
    # The positive-weight domains come out on top: the half a linear projection would keep.
    top = set(np.argsort(-estimate)[: N_DOMAINS // 2])
    assert len(top & set(np.flatnonzero(w > 0))) >= 0.8 * (N_DOMAINS // 2)


def test_noise_only_gives_no_ranking() -> None:
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N_MODELS, N_DOMAINS))
    y = rng.uniform(size=N_MODELS)
    for name, fn in ESTIMATORS.items():
        est = fn(X, y)
        assert np.abs(est).max() < 0.12, name  # every correlation near 0 when y ignores X


def _small(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, size=(9, 5)), rng.uniform(0.1, 0.9, size=9)


def test_formulas_against_brute_force() -> None:
    X, y = _small()
    n = len(y)
    pairs = list(itertools.combinations(range(n), 2))
    cdf = stats.rankdata(X, axis=0) / n
    want_sign = sum(np.sign(y[g] - y[k]) * (X[g] - X[k]) for k, g in pairs) * 2 / (n * (n - 1))
    want_cdf = sum(np.sign(y[g] - y[k]) * (cdf[g] - cdf[k]) for k, g in pairs) * 2 / (n * (n - 1))
    want_ss = sum(np.sign(y[g] - y[k]) * np.sign(X[g] - X[k]) for k, g in pairs) * 2 / (n * (n - 1))
    np.testing.assert_allclose(sign(X, y), want_sign)
    np.testing.assert_allclose(sign_cdf(X, y), want_cdf, atol=1e-12)
    np.testing.assert_allclose(sign_sign(X, y), want_ss)
    np.testing.assert_allclose(product(X, y), (y[:, None] * X).mean(axis=0))
    # Without ties, Spearman's formula is the rank correlation and sign_sign is Kendall's tau.
    np.testing.assert_allclose(spearmanr(X, y), [stats.spearmanr(X[:, j], y).statistic for j in range(5)])
    np.testing.assert_allclose(sign_sign(X, y), [stats.kendalltau(X[:, j], y).statistic for j in range(5)])


def test_lower_loss_with_lower_error_is_a_positive_weight() -> None:
    # Domain 0's loss rises and falls with the error (a better model is better there), domain 1's
    # moves against it: the paper's sign convention. ``product`` assumes centred X, as the model's
    # Gaussian does, so it gets the centred matrix.
    y = np.linspace(0.2, 0.8, 10)
    X = np.stack([y + 1.0, 2.0 - y], axis=1)
    for name, fn in ESTIMATORS.items():
        est = fn(X - X.mean(axis=0) if name == "product" else X, y)
        assert est[0] > 0 > est[1], name


def test_bad_input_is_refused() -> None:
    X, y = _small()
    with pytest.raises(ValueError, match="models"):
        spearmanr(X, y[:-1])
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        sign_cdf(X, y)
    with pytest.raises(ValueError, match="N x D"):
        product(np.ones(3), np.ones(3))
