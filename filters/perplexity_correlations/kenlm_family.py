"""KenLM n-gram models as a cheap CPU family of the perplexity-correlation zoo."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from filters.models import file_sha256
from filters.perplexity import document_log10_prob, load_kenlm

__all__ = ["KenLMScorer"]

_LN10 = math.log(10.0)


class KenLMScorer:
    """Scores texts with a KenLM model after CCNet's normalisation (:func:`filters.perplexity.
    document_log10_prob`): the loss is ``-log10 p * ln 10`` nats over the words plus one ``</s>``
    per line. KenLM has no context limit, so nothing is split."""

    def __init__(self, name: str, path: str | Path, sha256: str | None = None) -> None:
        self.name = name
        self.path = Path(path)
        self._sha256 = sha256
        self._model: Any = None

    def pin(self) -> str:
        """The file's sha256: what ``kenlm:PATH#SHA256`` pins."""
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return self._sha256

    def fingerprint(self) -> str:
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return hashlib.sha256(f"kenlm:{self._sha256}".encode()).hexdigest()

    def score(self, texts: Sequence[str]) -> list[tuple[float, int]]:
        if self._model is None:
            self._model = load_kenlm(self.path, self._sha256)
        out: list[tuple[float, int]] = []
        for text in texts:
            if not text.strip():
                out.append((math.nan, 0))  # nothing to predict; CCNet's sum would still count </s>
                continue
            log10_prob, length = document_log10_prob(self._model, text)
            out.append((-log10_prob * _LN10, length))
        return out
