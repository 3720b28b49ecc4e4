"""Turning an estimate into a sampling distribution over domains, under per-domain caps.

Both projections solve, for an estimate ``theta`` (one value per domain) and caps ``tau``:

    find p with  sum_j p_j = 1  and  0 <= p_j <= tau_j,

``linear`` maximising ``<theta, p>``, ``l2`` minimising ``||p - theta||_2``. In the paper ``tau_j`` is
the most weight domain ``j`` can take without repeating its text: its token count over the target
token budget (:func:`token_caps`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PROJECTIONS", "l2", "linear", "token_caps"]


def _checked(estimate: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    estimate = np.asarray(estimate, dtype=np.float64)
    tau = np.asarray(tau, dtype=np.float64)
    if estimate.ndim != 1 or tau.shape != estimate.shape:
        raise ValueError(f"estimate and tau must be vectors of one length; got {estimate.shape}, {tau.shape}")
    if not np.isfinite(estimate).all():
        raise ValueError("the estimate has NaN or infinite values")
    if np.any(tau <= 0) or not np.isfinite(tau).all():
        raise ValueError("every cap tau must be positive and finite: leave domains without text out")
    if tau.sum() < 1.0:
        raise ValueError(
            f"infeasible: the caps sum to {tau.sum():.4f} < 1, so the domains cannot fill the budget "
            "without repeating text (lower the budget or add domains)"
        )
    return estimate, tau


def token_caps(domain_tokens: np.ndarray, budget_tokens: float) -> np.ndarray:
    """``tau_j = tokens_j / budget``: the weight at which domain ``j`` is used once, whole."""
    domain_tokens = np.asarray(domain_tokens, dtype=np.float64)
    if budget_tokens <= 0:
        raise ValueError(f"the token budget must be positive, not {budget_tokens}")
    return domain_tokens / float(budget_tokens)


def linear(estimate: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``argmax_p <theta, p>`` s.t. ``sum p = 1, 0 <= p <= tau``: fill domains to their caps in order
    of decreasing ``theta`` until the weights sum to 1 (the last one partly). Depends only on the
    ranks of ``theta``, so it suits the rank-based estimators; ties are broken by domain index."""
    estimate, tau = _checked(estimate, tau)
    order = np.lexsort((np.arange(len(estimate)), -estimate))
    p = np.zeros_like(estimate)
    filled = np.cumsum(tau[order])
    # the first position where the caps reach 1 (the last one when rounding leaves the sum a hair short)
    last = min(int(np.searchsorted(filled, 1.0)), len(filled) - 1)
    p[order[:last]] = tau[order[:last]]
    p[order[last]] = 1.0 - (filled[last - 1] if last > 0 else 0.0)
    return p


def l2(estimate: np.ndarray, tau: np.ndarray, atol: float = 1e-12) -> np.ndarray:
    """``argmin_p ||p - theta||_2`` s.t. ``sum p = 1, 0 <= p <= tau``. The solution is
    ``clip(theta + c, 0, tau)`` for the offset ``c`` at which it sums to 1; the sum is monotone in
    ``c``, so ``c`` is found by bisection. Depends on the values of ``theta``, not only their ranks."""
    estimate, tau = _checked(estimate, tau)
    lo = -float(estimate.max())  # every p_j = clip(<= 0) = 0: sum 0
    hi = float((tau - estimate).max())  # every p_j = tau_j: sum >= 1
    while hi - lo > atol:
        mid = (lo + hi) / 2.0
        if np.clip(estimate + mid, 0.0, tau).sum() > 1.0:
            hi = mid
        else:
            lo = mid
    p = np.clip(estimate + hi, 0.0, tau)
    return p / p.sum() if p.sum() > 0 else p


PROJECTIONS = {"linear": linear, "l2": l2}
