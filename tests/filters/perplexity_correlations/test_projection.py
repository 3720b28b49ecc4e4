"""The projections give a distribution within the caps, and the optimum of their objective."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from filters.perplexity_correlations.projection import l2, linear, token_caps


def _case(seed: int, d: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(100, 10_000, size=d).astype(float)
    return rng.normal(size=d), token_caps(tokens, 0.4 * tokens.sum())


@pytest.mark.parametrize("seed", range(5))
def test_linear_is_the_lp_optimum_within_caps(seed: int) -> None:
    theta, tau = _case(seed)
    p = linear(theta, tau)
    assert p.sum() == pytest.approx(1.0)
    assert (p >= 0).all() and (p <= tau + 1e-12).all()
    bounds = [(0.0, t) for t in tau]
    lp = linprog(-theta, A_eq=np.ones((1, len(theta))), b_eq=[1.0], bounds=bounds)
    assert theta @ p == pytest.approx(-lp.fun, rel=1e-9)
    # Only the ranks matter: a monotone transform of the estimate gives the same weights.
    np.testing.assert_allclose(linear(np.tanh(theta) * 3 + 1, tau), p)
    # At most one domain is partly used; the rest are full or empty.
    partial = ~(np.isclose(p, 0) | np.isclose(p, tau))
    assert partial.sum() <= 1


@pytest.mark.parametrize("seed", range(5))
def test_l2_is_the_closest_point_within_caps(seed: int) -> None:
    theta, tau = _case(seed)
    theta = np.abs(theta) / 10
    p = l2(theta, tau)
    assert p.sum() == pytest.approx(1.0)
    assert (p >= -1e-12).all() and (p <= tau + 1e-12).all()
    cons = {"type": "eq", "fun": lambda q: q.sum() - 1.0}
    ref = minimize(lambda q: ((q - theta) ** 2).sum(), np.full_like(theta, 1 / len(theta)),
                   bounds=[(0.0, t) for t in tau], constraints=[cons], method="SLSQP",
                   options={"ftol": 1e-14, "maxiter": 500})  # fmt: skip
    assert ((p - theta) ** 2).sum() <= ((ref.x - theta) ** 2).sum() + 1e-9


def test_caps_that_cannot_fill_the_budget_are_refused() -> None:
    with pytest.raises(ValueError, match="infeasible"):
        linear(np.ones(3), np.array([0.2, 0.3, 0.4]))
    with pytest.raises(ValueError, match="positive"):
        l2(np.ones(2), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="budget"):
        token_caps(np.ones(2), 0)


def test_one_domain_big_enough_takes_everything() -> None:
    p = linear(np.array([0.1, 0.9, 0.5]), np.array([0.5, 3.0, 0.5]))
    np.testing.assert_allclose(p, [0.0, 1.0, 0.0])
