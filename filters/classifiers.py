"""fastText document classifiers: DCLM-style ``quality`` and OpenWebMath-style ``math_score``.

Both are :class:`FastTextClassifier` stages: a supervised fastText model whose score is the
probability of one *positive* label (``__label__hq`` for quality, as DCLM's released model names it;
``__label__math`` for math). They score only unless ``threshold`` is set, so a threshold can be
chosen on a scored sample first. Models are never bundled or downloaded: ``model_path`` and its
``model_sha256`` are required, and ``jobs/train_quality.py`` trains one from your own data.

The text a model sees is built by :func:`preprocess`, the one function that both training
(:mod:`filters.training`) and prediction call, so the two can never drift apart.
"""

from __future__ import annotations

import re
from typing import Any

from filters.models import ModelFileError, load_model
from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Annotator, Drop, Verdict

__all__ = [
    "DEFAULT_MAX_CHARS",
    "PREPROCESSING",
    "FastTextClassifier",
    "MathScore",
    "PerplexityCorrelationStudent",
    "QualityClassifier",
    "label_token",
    "positive_probabilities",
    "preprocess",
]

# Enough for any classifier decision; a 10 MB page would otherwise cost seconds for one score.
DEFAULT_MAX_CHARS = 100_000

_WHITESPACE = re.compile(r"\s+")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_TOKEN = re.compile(r"\\[A-Za-z]+|\w+|[^\w\s]")
PREPROCESSING = ("dclm", "tokens")


def preprocess(text: str, max_chars: int = DEFAULT_MAX_CHARS, scheme: str = "dclm") -> str:
    """The text a classifier sees; training (:mod:`filters.training`) calls this same function.

    ``dclm``: the first ``max_chars`` characters with every whitespace run (newlines included) made one
    space, case kept: the way DCLM feeds text to its fastText classifier (newlines to spaces), so a
    model of DCLM's such as ``fasttext_oh_eli5.bin`` is applied as DCLM applies it. ``tokens``: also
    lowercased, with LaTeX commands (``\\frac``), words and each punctuation mark as separate tokens;
    fastText splits on spaces only, so ``$x^2+\\alpha$`` would otherwise be one unseen word. It lifts
    math recall (docs/filters.md).
    """
    text = text[:max_chars]
    if scheme == "dclm":
        return _WHITESPACE.sub(" ", text).strip()
    if scheme == "tokens":
        return " ".join(_TOKEN.findall(text.lower()))
    raise ValueError(f"unknown preprocessing {scheme!r}; expected one of {', '.join(PREPROCESSING)}")


def label_token(label: str) -> str:
    """``hq`` or ``__label__hq`` → ``__label__hq`` (fastText's label prefix)."""
    return label if label.startswith("__label__") else f"__label__{label}"


def positive_probabilities(
    model: Any, texts: list[str], positive_label: str, max_chars: int, scheme: str = "dclm"
) -> list[float]:
    """P(``positive_label``) for each text, predicted in one call (fastText loops in C++)."""
    token = label_token(positive_label)
    prepared = [preprocess(t, max_chars, scheme) for t in texts]
    labels, probs = model.predict(prepared, k=-1, threshold=0.0)
    out: list[float] = []
    for labs, ps in zip(labels, probs, strict=True):
        found = dict(zip(labs, ps, strict=True)).get(token, 0.0)
        # fastText's softmax can come out a hair above 1.0 in float32.
        out.append(min(max(float(found), 0.0), 1.0))
    return out


def _load_fasttext(path: str) -> Any:
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load-time warning
    return fasttext.load_model(path)


@register
class FastTextClassifier(Annotator):
    """Scores each document with P(``positive_label``) from any supervised fastText model.

    ``doc.scores[label]`` gets the probability; with ``threshold`` set, documents below it (above
    it when ``keep_above=False``) are dropped with reason ``below_threshold`` (``above_threshold``)
    and the score in the drop record's detail. ``model_sha256`` is required: the file is checked
    before it is loaded, once per worker process, and a different file stops the run with
    :class:`~filters.models.ModelFileError`. Texts are cut to ``max_chars`` and prepared by
    :func:`preprocess` with the ``preprocessing`` scheme the model was trained with (the training
    job prints it in the config snippet): a mismatch gives scores, but meaningless ones.
    """

    name = "fasttext_classifier"

    def __init__(
        self,
        model_path: str,
        model_sha256: str,
        positive_label: str,
        threshold: float | None = None,
        keep_above: bool = True,
        max_chars: int = DEFAULT_MAX_CHARS,
        preprocessing: str = "dclm",
    ) -> None:
        super().__init__(threshold=threshold, keep_above=keep_above)
        if not model_path:
            raise ValueError("model_path is required (a fastText .bin trained with jobs/train_quality.py)")
        if not model_sha256 or not _SHA256.fullmatch(str(model_sha256)):
            # A config without the digest could silently score with whatever file sits at the path.
            raise ValueError(
                f"model_sha256 must be the 64-hex-digit sha256 of {model_path} "
                "(sha256sum prints it; jobs/train_quality.py writes it beside the model)"
            )
        if not positive_label:
            raise ValueError("positive_label is required, e.g. 'hq' for __label__hq")
        if max_chars <= 0:
            raise ValueError(f"max_chars must be positive, not {max_chars}")
        if preprocessing not in PREPROCESSING:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING}, not {preprocessing!r}")
        self.model_path = str(model_path)
        self.model_sha256 = str(model_sha256).lower()
        self.positive_label = label_token(positive_label)
        self.max_chars = max_chars
        self.preprocessing = preprocessing
        self._model: Any = None

    def setup(self) -> None:
        try:
            model = load_model(self.model_path, self.model_sha256, _load_fasttext)
        except ModelFileError as exc:
            raise ModelFileError(f"stage {self.label!r}: {exc}; refusing to score with this file") from None
        labels = list(model.get_labels())
        if self.positive_label not in labels:
            raise ModelFileError(
                f"stage {self.label!r}: {self.model_path} has labels {labels}, "
                f"not the positive label {self.positive_label!r}; set positive_label"
            )
        self._model = model

    def __getstate__(self) -> dict[str, Any]:
        # Workers load the model themselves (once per process, via load_model's cache).
        state = self.__dict__.copy()
        state["_model"] = None
        state["_ready"] = False
        return state

    def predict(self, texts: list[str]) -> list[float]:
        """P(positive label) for each text; loads the model on first use."""
        if self._model is None:
            self.setup()
            self._ready = True
        return positive_probabilities(
            self._model, texts, self.positive_label, self.max_chars, self.preprocessing
        )

    def score(self, doc: Document) -> float:
        return self.predict([doc.text])[0]

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        results: list[Verdict] = []
        for doc, value in zip(docs, self.predict([d.text for d in docs]), strict=True):
            doc.scores[self.label] = value
            results.append(self._decide(value))
        return results

    def process(self, doc: Document) -> Verdict:
        # The one-by-one path (a batch that raised is retried this way) must decide as the batch does.
        return self.process_batch([doc])[0]

    def _decide(self, value: float) -> Drop | None:
        if self.threshold is None:
            return None
        if self.keep_above and value < self.threshold:
            return Drop("below_threshold", detail=f"{value:.4f} < {self.threshold}")
        if not self.keep_above and value > self.threshold:
            return Drop("above_threshold", detail=f"{value:.4f} > {self.threshold}")
        return None


@register
class QualityClassifier(FastTextClassifier):
    """DCLM-style quality score: P(``__label__hq``) from a fastText model trained on high-quality text
    (positives) against ordinary web text (negatives).

    DCLM kept the top 10 % of its pool by this score; pick a threshold from the score distribution of
    a sample of your own output (score-only mode, the default) rather than copying a number.
    """

    name = "quality"

    def __init__(
        self,
        model_path: str,
        model_sha256: str,
        positive_label: str = "hq",
        threshold: float | None = None,
        keep_above: bool = True,
        max_chars: int = DEFAULT_MAX_CHARS,
        preprocessing: str = "dclm",
    ) -> None:
        super().__init__(
            model_path, model_sha256, positive_label, threshold, keep_above, max_chars, preprocessing
        )


@register
class MathScore(FastTextClassifier):
    """OpenWebMath-style MathScore: P(``__label__math``) from a fastText math vs non-math model.

    OpenWebMath set a lower MathScore bar for documents that hold LaTeX than for those that do not;
    thresholds belong to one model, so calibrate on a scored sample when you train your own. Its
    default ``preprocessing`` is ``tokens``: LaTeX commands and symbols become separate tokens.
    """

    name = "math_score"

    def __init__(
        self,
        model_path: str,
        model_sha256: str,
        positive_label: str = "math",
        threshold: float | None = None,
        keep_above: bool = True,
        max_chars: int = DEFAULT_MAX_CHARS,
        preprocessing: str = "tokens",
    ) -> None:
        super().__init__(
            model_path, model_sha256, positive_label, threshold, keep_above, max_chars, preprocessing
        )


@register
class PerplexityCorrelationStudent(FastTextClassifier):
    """The perplexity-correlation student (docs/perplexity-correlations.md): P(``__label__include``)
    from the fastText model ``jobs/pplcorr_fit.py`` trains on pages labelled by their domain's
    projected weight. Score-only by default: the selection is a token budget over the written shards
    (``jobs/pplcorr_select.py``), not a per-document threshold."""

    name = "pplcorr"

    def __init__(
        self,
        model_path: str,
        model_sha256: str,
        positive_label: str = "include",
        threshold: float | None = None,
        keep_above: bool = True,
        max_chars: int = DEFAULT_MAX_CHARS,
        preprocessing: str = "dclm",
    ) -> None:
        super().__init__(
            model_path, model_sha256, positive_label, threshold, keep_above, max_chars, preprocessing
        )
