"""KenLM perplexity, computed per document as CCNet does, and CCNet's head/middle/tail buckets.

CCNet (Wenzek et al. 2020) scores each document with a 5-gram KenLM model trained on Wikipedia: every
line (paragraph) is normalised (:mod:`filters.text_normalize`) and tokenised, KenLM gives its log10
probability with sentence boundaries, and the document's perplexity is
``10 ** (-sum of log10 probs / sum of (tokens + 1))`` (the +1 is each line's ``</s>``). The 33rd and
66th percentiles of perplexity over a sample of the crawl split documents into head, middle and tail.

Differences from CCNet: no SentencePiece model is available, so tokens are the whitespace-separated
words of the normalised line; the model is whatever ``jobs.train_kenlm`` trained (see
docs/filters.md), not CCNet's Wikipedia model, so its perplexities are not on CCNet's scale.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from filters.models import load_model
from filters.text_normalize import normalize_lines
from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Annotator

__all__ = [
    "BUCKETS",
    "PerplexityAnnotator",
    "bucket_of",
    "compute_cutoffs",
    "document_log10_prob",
    "load_kenlm",
    "perplexity",
]

BUCKETS = ("head", "middle", "tail")
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


def _load_kenlm(path: str) -> Any:
    import kenlm

    return kenlm.Model(path)


def load_kenlm(path: str | Path, sha256: str | None) -> Any:
    """A ``kenlm.Model``, sha256-checked and loaded once per process (:func:`filters.models.load_model`)."""
    return load_model(path, sha256, _load_kenlm)


def document_log10_prob(model: Any, text: str, max_chars: int | None = None) -> tuple[float, int]:
    """Sum of KenLM log10 probabilities over the document's normalised lines, and the number of tokens
    scored (words plus one ``</s>`` per line). A document with no words is scored as one empty line,
    which is what CCNet's sum gives for it."""
    if max_chars is not None:
        text = text[:max_chars]
    lines = normalize_lines(text) or [""]
    log_prob = 0.0
    length = 0
    for line in lines:
        log_prob += model.score(line, bos=True, eos=True)
        length += (line.count(" ") + 1 if line else 0) + 1
    return log_prob, length


def perplexity(log10_prob: float, length: int) -> float:
    """CCNet's ``pp``: ``10 ** (-log10_prob / length)``."""
    return 10.0 ** (-log10_prob / length)


def compute_cutoffs(perplexities: Iterable[float], percentiles: Sequence[float] = (33, 66)) -> list[float]:
    """The perplexities at ``percentiles`` of a sample (CCNet: 33 and 66), for the stage's ``buckets``.

    CCNet computed them per language on a sample of the crawl being processed, not on the model's
    training text, which scores lower than anything else the model will see.
    """
    values = np.asarray([v for v in perplexities if math.isfinite(v)], dtype=np.float64)
    if values.size == 0:
        raise ValueError("no finite perplexities to compute bucket cut-offs from")
    if list(percentiles) != sorted(percentiles) or not all(0 < p < 100 for p in percentiles):
        raise ValueError(f"percentiles must increase within (0, 100), got {list(percentiles)}")
    return [float(v) for v in np.percentile(values, list(percentiles))]


def bucket_of(value: float, cutoffs: Sequence[float]) -> str:
    """``head`` up to the first cut-off, ``middle`` up to the second, ``tail`` above (as CCNet)."""
    head, tail = cutoffs
    if value > tail:
        return "tail"
    if value > head:
        return "middle"
    return "head"


@register
class PerplexityAnnotator(Annotator):
    """Scores ``doc.scores[label]`` with a KenLM model's perplexity, computed as CCNet does.

    ``model_path`` is a KenLM model (binary or ARPA) trained on text normalised the same way, e.g. by
    ``python -m jobs.train_kenlm``, which prints the ``model_sha256`` to give here; the file is
    refused when its sha256 differs. Only scores by default; ``max_perplexity`` drops documents above
    it (reason ``above_threshold``). ``buckets: [p33, p66]`` (from ``jobs.train_kenlm --sample``)
    also writes ``doc.metadata["<label>_bucket"]`` = head | middle | tail. Lower is more like the
    model's training text.
    """

    name = "perplexity"

    def __init__(
        self,
        model_path: str,
        model_sha256: str,
        max_perplexity: float | None = None,
        buckets: list[float] | None = None,
        max_chars: int = 100_000,
    ) -> None:
        super().__init__(threshold=max_perplexity, keep_above=False)
        # A user model has no built-in checksum to fall back on, so the config must pin one: a
        # silently swapped model would change every score and bucket without any other sign.
        if not isinstance(model_sha256, str) or not _SHA256_RE.fullmatch(model_sha256):
            raise ValueError(
                f"model_sha256 must be the 64-hex-digit sha256 of {model_path} "
                f"(jobs.train_kenlm prints it; or `sha256sum {model_path}`), got {model_sha256!r}"
            )
        if buckets is not None:
            if len(buckets) != 2 or not buckets[0] <= buckets[1]:
                raise ValueError(f"buckets must be two increasing perplexities [p33, p66], got {buckets!r}")
            buckets = [float(b) for b in buckets]
        if max_perplexity is not None and max_perplexity <= 0:
            raise ValueError(f"max_perplexity must be positive, got {max_perplexity}")
        self.model_path = model_path
        self.model_sha256 = model_sha256.lower()
        self.max_perplexity = max_perplexity
        self.buckets = buckets
        self.max_chars = max_chars
        self._model: Any = None

    def setup(self) -> None:
        self._model = load_kenlm(self.model_path, self.model_sha256)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None
        state["_ready"] = False
        return state

    def score(self, doc: Document) -> float:
        value = perplexity(*document_log10_prob(self._model, doc.text, self.max_chars))
        if self.buckets is not None:
            doc.metadata[f"{self.label}_bucket"] = bucket_of(value, self.buckets)
        return value
