"""From a BPB matrix and benchmark errors to domain labels and a fastText student.

1. Estimate: one of :data:`ESTIMATORS` over the models present in both the matrix and the errors.
2. Project: caps ``tau_j = tokens_j / (keep_ratio * total tokens)`` from the pool's word counts, then
   :data:`PROJECTIONS`; domains with positive weight are "include".
3. Student: a fastText classifier (word bigrams, :mod:`filters.training`) trained on the pool's pages
   labelled by their domain, so that pages of domains the BPB sample never saw can be scored too.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filters.perplexity_correlations.bpb import BPBMatrix
from filters.perplexity_correlations.domains import PoolDocument
from filters.perplexity_correlations.estimators import ESTIMATORS
from filters.perplexity_correlations.projection import PROJECTIONS, token_caps
from filters.training import Metrics, TrainedModel, TrainSettings, evaluate, train_model
from filters.training_split import Example, dedupe, split_holdout

__all__ = ["DomainWeights", "estimate_weights", "train_student", "write_weights"]

INCLUDE, EXCLUDE = "include", "exclude"


@dataclass(slots=True)
class DomainWeights:
    """Per domain of the BPB matrix: the estimate, the cap, the projected weight."""

    domains: list[str]
    estimate: np.ndarray
    tau: np.ndarray
    weight: np.ndarray
    estimator: str
    projection: str
    models: list[str]

    @property
    def include(self) -> set[str]:
        return {d for d, w in zip(self.domains, self.weight, strict=True) if w > 0}


def estimate_weights(
    matrix: BPBMatrix,
    errors: Mapping[str, float],
    domain_tokens: Mapping[str, int],
    *,
    keep_ratio: float,
    estimator: str = "spearmanr",
    projection: str = "linear",
) -> DomainWeights:
    """Estimate and project (module docstring). ``domain_tokens`` are the pool's words per domain; the
    budget is ``keep_ratio`` of the tokens of the matrix's domains."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}: one of {', '.join(ESTIMATORS)}")
    if projection not in PROJECTIONS:
        raise ValueError(f"unknown projection {projection!r}: one of {', '.join(PROJECTIONS)}")
    if not 0.0 < keep_ratio <= 1.0:
        raise ValueError(f"keep ratio must be in (0, 1], not {keep_ratio}")
    rows = [k for k, m in enumerate(matrix.models) if m in errors]
    missing = sorted(set(matrix.models) - set(errors))
    if len(rows) < 3:
        raise ValueError(f"only {len(rows)} models have both BPB and an error (missing: {missing})")
    X = matrix.X[rows]
    y = np.array([errors[matrix.models[k]] for k in rows])
    if estimator == "product":
        X = X - X.mean(axis=0)  # its expectation argument assumes centred x; BPB columns are not
    estimate = ESTIMATORS[estimator](X, y)
    tokens = np.array([domain_tokens.get(d, 0) for d in matrix.domains], dtype=np.float64)
    if (tokens <= 0).any():
        empty = [d for d, t in zip(matrix.domains, tokens, strict=True) if t <= 0][:5]
        raise ValueError(f"domains of the BPB matrix without text in the pool: {empty}")
    tau = token_caps(tokens, keep_ratio * tokens.sum())
    weight = PROJECTIONS[projection](estimate, tau)
    return DomainWeights(
        matrix.domains, estimate, tau, weight, estimator, projection, [matrix.models[k] for k in rows]
    )


def write_weights(weights: DomainWeights, path: str | Path) -> None:
    """``domain,estimate,tau,weight,label`` per domain, best estimate first."""
    order = np.lexsort((np.array(weights.domains), -weights.estimate))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["domain", "estimate", "tau", "weight", "label"])
        for j in order:
            label = INCLUDE if weights.weight[j] > 0 else EXCLUDE
            writer.writerow(
                [weights.domains[j], f"{weights.estimate[j]:.6g}", f"{weights.tau[j]:.6g}",
                 f"{weights.weight[j]:.6g}", label]
            )  # fmt: skip


def train_student(
    docs: Sequence[PoolDocument],
    include: set[str],
    labelled: set[str],
    output: str | Path,
    *,
    settings: TrainSettings | None = None,
    holdout: float = 0.1,
    seed: int = 0,
) -> tuple[TrainedModel, Metrics | None]:
    """Train the fastText student on the pool's documents of the ``labelled`` domains (those of the
    BPB matrix), positive when their domain is in ``include``. The held-out split moves whole domains,
    so its precision and recall say how well the student generalises to unseen domains."""
    examples = [Example(d.text, d.domain in include, d.domain) for d in docs if d.domain in labelled]
    settings = settings or TrainSettings()
    examples, _ = dedupe(examples, settings.max_chars, settings.preprocessing)
    if {ex.positive for ex in examples} != {True, False}:
        raise ValueError("the student needs pages of both included and excluded domains")
    train, held = split_holdout(examples, holdout, seed=seed) if holdout > 0 else (examples, [])
    trained = train_model(train, output, INCLUDE, EXCLUDE, settings)
    metrics = evaluate(trained.load(), held, INCLUDE, scheme=settings.preprocessing) if held else None
    return trained, metrics
