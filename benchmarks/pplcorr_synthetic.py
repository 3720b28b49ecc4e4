"""How well each perplexity-correlation estimator recovers known weights under the paper's model.

Draws ``X ~ N(0, I)`` (N models x D domains), weights ``w`` evenly spaced in [-1, 1] (shuffled) and
``y = sigmoid(<w, x> / |w| + e)``, ``e ~ N(0, noise^2)``; prints the Spearman correlation between
each estimate and ``w``, mean and minimum over seeds, for several numbers of models. Usage::

    .venv/bin/python benchmarks/pplcorr_synthetic.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from filters.perplexity_correlations.estimators import ESTIMATORS  # noqa: E402


def main() -> int:
    domains, seeds, noise = 40, 5, 0.5
    print(f"D = {domains} domains, noise sd {noise}, {seeds} seeds: Spearman(estimate, w) mean (min)")
    print("models | " + " | ".join(ESTIMATORS))
    for models in (50, 100, 500, 2000):
        row = []
        for fn in ESTIMATORS.values():
            values = []
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                w = rng.permutation(np.linspace(-1.0, 1.0, domains))
                X = rng.standard_normal((models, domains))
                y = 1.0 / (1.0 + np.exp(-(X @ w / np.linalg.norm(w) + noise * rng.standard_normal(models))))
                values.append(stats.spearmanr(fn(X, y), w).statistic)
            row.append(f"{np.mean(values):.3f} ({min(values):.3f})")
        print(f"{models} | " + " | ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
