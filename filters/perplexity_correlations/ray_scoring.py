"""Scoring a zoo of models on Ray: one actor per model, all reading the same chunks.

The chunks go into the object store once. Each model gets its own actor (one GPU for a Hugging Face
model when the cluster has GPUs, else one CPU), which builds the scorer there and runs
:func:`~filters.perplexity_correlations.scoring.score_cached` against the shared cache folder: a model
that finished in an earlier run is read back instead of rescored, so a failed job reruns cheaply. A
model that raises is reported by name and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from filters.perplexity_correlations.scoring import ModelScores, ModelSpec, score_cached

__all__ = ["score_models_ray"]

log = logging.getLogger(__name__)


class _ModelActor:
    """Holds one model for its whole scoring run (wrapped with ``ray.remote`` at call time, so that
    importing this module does not import Ray)."""

    def run(
        self,
        spec: ModelSpec,
        texts: list[str],
        cache_dir: str,
        batch_size: int,
        hf_options: dict[str, object],
    ) -> ModelScores:
        scorer = spec.build(**hf_options) if spec.kind == "hf" else spec.build()
        return score_cached(scorer, texts, cache_dir, batch_size=batch_size)


def _message(exc: BaseException) -> str:
    # A RayTaskError wraps the actor's exception with a long remote traceback; the cause is the news.
    cause = getattr(exc, "cause", None) or exc
    return f"{type(cause).__name__}: {cause}"


def score_models_ray(
    specs: Sequence[ModelSpec],
    texts: Sequence[str],
    cache_dir: str | Path,
    *,
    batch_size: int = 64,
    hf_options: Mapping[str, object] | None = None,
) -> tuple[list[ModelScores], dict[str, str]]:
    """Score ``texts`` with every model of ``specs`` on the Ray cluster this process connects to
    (:func:`pipeline.ray_runner.init_ray`).

    ``batch_size`` is the number of texts per :meth:`score` call (and per cache progress step);
    ``hf_options`` go to :class:`~filters.perplexity_correlations.hf_family.HFScorer` (e.g. its own
    ``batch_size``, ``max_length``), never to KenLM models. Returns the scores of the models that
    finished, in the order of ``specs``, and ``{name: error message}`` for those that raised. Each actor
    is killed as soon as its model is done, freeing its GPU or CPU for the models still waiting.
    """
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be unique: {names}")
    if not specs:
        return [], {}
    import ray

    from pipeline.ray_runner import init_ray

    init_ray()
    texts_ref = ray.put(list(texts))
    has_gpu = ray.cluster_resources().get("GPU", 0) >= 1
    options = dict(hf_options or {})
    remote_class = ray.remote(_ModelActor)
    actors: dict[Any, Any] = {}  # result ref -> actor
    order: dict[Any, int] = {}  # result ref -> index in specs
    for i, spec in enumerate(specs):
        resources = {"num_gpus": 1} if spec.kind == "hf" and has_gpu else {"num_cpus": 1}
        actor = remote_class.options(**resources).remote()
        ref = actor.run.remote(spec, texts_ref, str(cache_dir), batch_size, options)
        actors[ref], order[ref] = actor, i
    results: dict[int, ModelScores] = {}
    failures: dict[str, str] = {}
    pending = list(actors)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            ref = ready[0]
            spec = specs[order[ref]]
            try:
                scores = ray.get(ref)
                # Arrays from the object store are read-only views; callers get their own copies.
                results[order[ref]] = ModelScores(scores.name, np.array(scores.nats), np.array(scores.tokens))
                log.info("scored %s", spec.name)
            except Exception as exc:  # one broken model must not lose the others' work
                failures[spec.name] = _message(exc)
                log.warning("model %s failed: %s", spec.name, failures[spec.name])
            # Idle actors keep their GPU or CPU reserved; models still queued need them.
            ray.kill(actors.pop(ref))
    finally:
        for actor in actors.values():
            ray.kill(actor)
    return [results[i] for i in sorted(results)], failures
