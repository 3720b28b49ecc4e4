"""Bits per byte of many language models on the same chunks, cached per model.

A :class:`ChunkScorer` turns texts into (total loss in nats, predicted tokens) pairs. Bits per byte
of a chunk is ``nats / utf8_bytes / ln 2``: the loss summed over the chunk's tokens, so models with
different tokenizers compare on the same footing. The scores of one model on one chunk set are cached
in one ``.npz`` file named by the model's fingerprint and the chunk set's digest, so a model that
failed reruns alone and a finished one is never scored twice.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "LN2",
    "ChunkScorer",
    "ModelScores",
    "ModelSpec",
    "chunk_set_digest",
    "parse_model_spec",
    "score_cached",
]

LN2 = math.log(2.0)


@runtime_checkable
class ChunkScorer(Protocol):
    """A language model that scores texts: for each, the summed loss in nats and the tokens predicted.

    A text the model cannot score gives ``(nan, 0)``; scorers split texts longer than their context
    themselves. ``fingerprint`` changes whenever the scores could (model files, settings).
    """

    name: str

    def fingerprint(self) -> str: ...

    def score(self, texts: Sequence[str]) -> list[tuple[float, int]]: ...


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model of the zoo: ``kind`` is ``kenlm`` (a binary or ARPA file) or ``hf`` (a local folder
    holding a Hugging Face causal LM and its tokenizer)."""

    name: str
    kind: str
    path: str
    sha256: str | None = None  # kenlm: the file's sha256; hf: the folder's fingerprint

    def build(self, **options: object) -> ChunkScorer:
        """The scorer for this model (imports its family's libraries only now); with ``sha256`` set,
        a model whose file (folder) differs is refused with ModelFileError before it is loaded."""
        if self.kind == "kenlm":
            from filters.perplexity_correlations.kenlm_family import KenLMScorer

            return KenLMScorer(self.name, self.path, sha256=self.sha256)
        if self.kind == "hf":
            from filters.perplexity_correlations.hf_family import HFScorer

            scorer = HFScorer(self.name, self.path, **options)  # type: ignore[arg-type]
            if self.sha256 is not None and scorer.fingerprint() != self.sha256.lower():
                from filters.models import ModelFileError

                found = scorer.fingerprint()
                raise ModelFileError(f"{self.name}: {self.path} has fingerprint {found}, not {self.sha256}")
            return scorer
        raise ValueError(f"unknown model kind {self.kind!r} for {self.name!r}: use kenlm or hf")


def parse_model_spec(text: str) -> ModelSpec:
    """Parse ``[NAME=]KIND:PATH[#SHA256]``; the name defaults to the file or folder name without
    suffix. ``#SHA256`` pins the model: a KenLM file's sha256, or a Hugging Face folder's fingerprint
    (``jobs.bpb`` prints it for every model it scores)."""
    name = ""
    if "=" in text.split(":", 1)[0]:
        name, text = text.split("=", 1)
    digest = None
    if re.search(r"#[0-9a-fA-F]{64}$", text):
        text, digest = text[:-65], text[-64:].lower()
    kind, sep, path = text.partition(":")
    if not sep or kind not in ("kenlm", "hf") or not path:
        raise ValueError(f"model {text!r}: expected [NAME=]kenlm:PATH[#SHA256] or [NAME=]hf:DIR[#SHA256]")
    return ModelSpec(name or Path(path.rstrip("/")).stem, kind, path, digest)


@dataclass(frozen=True, slots=True)
class ModelScores:
    """One model's loss on every chunk: ``nats[i]`` summed over ``tokens[i]`` predicted tokens."""

    name: str
    nats: np.ndarray  # float64, nan where the model could not score the chunk
    tokens: np.ndarray  # int64


def chunk_set_digest(texts: Sequence[str]) -> str:
    """A digest of the chunk texts in order: a cache entry is valid only for the same chunks."""
    h = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _cache_path(cache_dir: Path, scorer: ChunkScorer, digest: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in scorer.name)
    return cache_dir / f"{safe}.{scorer.fingerprint()[:16]}.{digest[:16]}.npz"


def score_cached(
    scorer: ChunkScorer,
    texts: Sequence[str],
    cache_dir: str | Path | None,
    *,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> ModelScores:
    """Score every text with ``scorer``, or read the scores a previous run cached for the same model
    and chunks. The cache file is written whole (temporary name, then rename) once the model is done."""
    digest = chunk_set_digest(texts)
    path = _cache_path(Path(cache_dir), scorer, digest) if cache_dir is not None else None
    if path is not None and path.is_file():
        with np.load(path) as cached:
            return ModelScores(scorer.name, cached["nats"], cached["tokens"])
    nats = np.empty(len(texts), dtype=np.float64)
    tokens = np.empty(len(texts), dtype=np.int64)
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        results = scorer.score(batch)
        if len(results) != len(batch):
            raise RuntimeError(f"{scorer.name}: scored {len(results)} texts of {len(batch)}")
        for i, (loss, count) in enumerate(results):
            nats[start + i] = loss
            tokens[start + i] = count
        if progress is not None:
            progress(len(batch))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
        np.savez(tmp, nats=nats, tokens=tokens)
        os.replace(tmp, path)
    return ModelScores(scorer.name, nats, tokens)
