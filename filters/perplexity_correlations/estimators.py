"""The single-index estimators of Thrush, Potts and Hashimoto (2024), written from their definitions.

The model: ``N`` language models, ``D`` text domains; ``X[k, j]`` is model ``k``'s bits per byte on
domain ``j`` and ``y[k]`` its benchmark error (lower is better for both). The paper assumes

    y_k = f(<w, x_k> + e_k),   f monotonically increasing, e zero-mean noise,

and wants the direction of ``w``: a domain with a large positive ``w_j`` is one where a lower loss goes
with a lower benchmark error, i.e. text worth pretraining on. Each estimator returns a ``D``-vector
whose ranks match those of ``w`` in expectation (``product`` and ``sign`` are also proportional to
``w`` when ``x`` is Gaussian). They take the matrices as they are; the package of the paper pins numpy
1.26, which cannot be installed beside datatrove, hence this numpy rewrite.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["ESTIMATORS", "product", "sign", "sign_cdf", "sign_sign", "spearmanr"]


def _checked(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"X must be N x D and y length N; got shapes {X.shape} and {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} models (rows) but y has {y.shape[0]}")
    if X.shape[0] < 2:
        raise ValueError("the estimators need at least 2 models")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("X and y must be finite: drop the NaN chunks (the BPB job does) first")
    return X, y


def _ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..N along axis 0; ties share their mean rank."""
    from scipy.stats import rankdata

    return rankdata(a, axis=0)


def _pairwise_sign_sum(y: np.ndarray, Z: np.ndarray, sign_z: bool) -> np.ndarray:
    """``2 / (N (N-1)) * sum_{k<g} sign(y_g - y_k) * h(z_g - z_k)`` with ``h`` identity or sign."""
    n = y.shape[0]
    total = np.zeros(Z.shape[1])
    for k in range(n - 1):
        dy = np.sign(y[k + 1 :] - y[k])
        dz = Z[k + 1 :] - Z[k]
        if sign_z:
            dz = np.sign(dz)
        total += dy @ dz
    return 2.0 * total / (n * (n - 1))


def product(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Plan et al. (2016): ``w_hat = (1/N) * sum_k y_k * x_k``.

    Proportional to ``w`` in expectation for centred Gaussian ``x``: on raw BPB, whose columns have
    different means, centre the columns first. Not robust to outliers in ``X`` or ``y``.
    """
    X, y = _checked(X, y)
    return (y @ X) / X.shape[0]


def sign(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Chen and Banerjee (2017): the U-statistic
    ``w_hat = 2 / (N (N-1)) * sum_{k<g} sign(y_g - y_k) * (x_g - x_k)``.

    Robust to outliers in ``y``, not in ``X``.
    """
    X, y = _checked(X, y)
    return _pairwise_sign_sum(y, X, sign_z=False)


def sign_cdf(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Thrush et al. (2024): ``w_hat = 2 / (N (N-1)) * sum_{k<g} sign(y_g - y_k) * (F(x_g) - F(x_k))``
    with ``F`` the empirical CDF of each domain's column (rank / N).

    Ranks of ``w`` in expectation; robust to outliers in ``X`` and ``y``.
    """
    X, y = _checked(X, y)
    return _pairwise_sign_sum(y, _ranks(X) / X.shape[0], sign_z=False)


def sign_sign(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``w_hat = 2 / (N (N-1)) * sum_{k<g} sign(y_g - y_k) * sign(x_g - x_k)``: Kendall's tau between
    each domain's BPB and the error (without tie correction).

    Ranks of ``w`` in expectation; robust to outliers in ``X`` and ``y``.
    """
    X, y = _checked(X, y)
    return _pairwise_sign_sum(y, X, sign_z=True)


def spearmanr(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Thrush et al. (2024), the paper's default: Spearman's rank correlation per domain,
    ``rho_j = 1 - 6 * sum_k (R(y)_k - R(x_j)_k)^2 / (N (N^2 - 1))`` with ``R`` the ranks over models.

    Ranks of ``w`` in expectation; robust to outliers in ``X`` and ``y``. Ties take average ranks,
    for which the formula is the usual approximation.
    """
    X, y = _checked(X, y)
    n = X.shape[0]
    diff = _ranks(y)[:, None] - _ranks(X)
    return 1.0 - 6.0 * np.sum(diff**2, axis=0) / (n * (n * n - 1))


ESTIMATORS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "spearmanr": spearmanr,
    "sign_cdf": sign_cdf,
    "sign": sign,
    "sign_sign": sign_sign,
    "product": product,
}
