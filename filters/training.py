"""Training and evaluating the fastText classifiers of :mod:`filters.classifiers`.

Used by ``jobs/train_quality.py`` and ``benchmarks/train_classifiers.py``. Inputs are positive and
negative documents from Parquet (a ``text`` column, as ccsieve writes it), JSONL (a ``text`` field)
or plain text. Every document belongs to a *group* (its site, when known): the held-out split and
the cross-validation folds move whole groups, so a site's template or a page cut into passages
never sits on both sides and inflates the held-out figures.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filters.classifiers import DEFAULT_MAX_CHARS, label_token, positive_probabilities, preprocess
from filters.models import file_sha256
from filters.training_split import Example, dedupe, fold_groups, oversample, split_holdout

__all__ = [
    "Example",
    "Metrics",
    "TrainSettings",
    "TrainedModel",
    "cross_validate",
    "dedupe",
    "evaluate",
    "fold_groups",
    "oversample",
    "split_holdout",
    "train_model",
]


@dataclass(frozen=True, slots=True)
class TrainSettings:
    """fastText supervised settings. DCLM's quality model used bigrams (``word_ngrams=2``) with a
    large vocabulary; these defaults are smaller (``dim``, ``bucket``) and train longer (``epoch``)
    so that a few hundred documents still give a usable model of a few tens of MB."""

    dim: int = 64
    epoch: int = 25
    lr: float = 0.2
    word_ngrams: int = 2
    min_count: int = 1
    bucket: int = 200_000
    loss: str = "softmax"
    threads: int = 1  # one thread makes training reproducible; fastText's parallel SGD is not
    seed: int = 0
    max_chars: int = DEFAULT_MAX_CHARS
    # Repeat the rarer class's training documents (whole copies) up to the other class's count: a
    # softmax trained 1:5 seldom gives the rare class 0.5, and recall at 0.5 collapses.
    balance: bool = True
    preprocessing: str = "dclm"  # the stage's `preprocessing` must name the same scheme


@dataclass(frozen=True, slots=True)
class Metrics:
    """Confusion counts for the positive class at one threshold."""

    tp: int
    fp: int
    fn: int
    tn: int
    threshold: float = 0.5

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Metrics) -> Metrics:
        return Metrics(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn, self.threshold
        )

    def summary(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn}; threshold {self.threshold})"
        )


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """What :func:`train_model` wrote: the .bin, its sha256, and the labels it predicts."""

    path: Path
    sha256: str
    positive_label: str
    negative_label: str
    settings: TrainSettings

    def load(self) -> Any:
        import fasttext

        fasttext.FastText.eprint = lambda *args, **kwargs: None
        return fasttext.load_model(str(self.path))


# --- training and evaluation --------------------------------------------------------------------


def write_fasttext_input(
    examples: Iterable[Example],
    path: Path,
    positive_label: str,
    negative_label: str,
    max_chars: int,
    scheme: str = "dclm",
) -> int:
    """Write fastText's ``__label__x text`` lines, with the same :func:`preprocess` as prediction."""
    pos, neg = label_token(positive_label), label_token(negative_label)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for ex in examples:
            text = preprocess(ex.text, max_chars, scheme)
            if text:
                fh.write(f"{pos if ex.positive else neg} {text}\n")
                n += 1
    return n


_NAN_RETRIES = 3


def train_model(
    train: Sequence[Example],
    output: str | Path,
    positive_label: str = "hq",
    negative_label: str = "cc",
    settings: TrainSettings | None = None,
) -> TrainedModel:
    """Train a fastText supervised model on ``train`` and save it to ``output`` (a .bin), with its
    sha256 beside it in ``<output>.sha256`` (``sha256sum -c`` reads it)."""
    settings = settings or TrainSettings()
    classes = {ex.positive for ex in train}
    if classes != {True, False}:
        raise ValueError("training needs both positive and negative documents")
    if settings.balance:
        train = oversample(train, settings.seed)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccsieve-train-") as tmp:
        data = Path(tmp) / "train.txt"
        write_fasttext_input(
            train, data, positive_label, negative_label, settings.max_chars, settings.preprocessing
        )
        model = None
        for attempt in range(_NAN_RETRIES + 1):
            try:
                model = _train(data, settings)
                break
            except RuntimeError as exc:
                if "NaN" not in str(exc):
                    raise
                if attempt == _NAN_RETRIES:
                    raise ValueError(
                        f"fastText training diverged (NaN) with {settings}, also at lower learning rates; "
                        "fastText 0.9.2 does this on some inputs at some settings: try another --lr, "
                        "--dim or --seed"
                    ) from None
                settings = _calmer(settings)
                print(
                    f"warning: fastText diverged (NaN); retrying with lr={settings.lr:g}, "
                    f"epoch={settings.epoch}",
                    file=sys.stderr,
                )
        assert model is not None
    model.save_model(str(output))
    digest = file_sha256(output)
    output.with_name(output.name + ".sha256").write_text(f"{digest}  {output.name}\n", encoding="utf-8")
    return TrainedModel(output, digest, label_token(positive_label), label_token(negative_label), settings)


def _calmer(settings: TrainSettings) -> TrainSettings:
    """The settings for a retry after NaN: half the learning rate, twice the epochs.

    A lower rate is the usual cure for an overflowing softmax, but fastText decays the rate
    linearly to zero over the run, so halving it alone leaves a small corpus undertrained (on the
    quality test set, lr 0.2 -> 0.1 at 20 epochs moved the mean held-out scores from 0.76/0.18 to
    0.50/0.49). Keeping lr x epoch constant gives the same model quality (0.77/0.18).
    """
    return dataclasses.replace(settings, lr=settings.lr / 2, epoch=settings.epoch * 2)


def _train(data: Path, settings: TrainSettings) -> Any:
    import fasttext

    return fasttext.train_supervised(
        input=str(data),
        dim=settings.dim,
        epoch=settings.epoch,
        lr=settings.lr,
        wordNgrams=settings.word_ngrams,
        minCount=settings.min_count,
        bucket=settings.bucket,
        loss=settings.loss,
        thread=settings.threads,
        seed=settings.seed,
        verbose=0,
    )


def evaluate(
    model: Any,
    examples: Sequence[Example],
    positive_label: str,
    threshold: float = 0.5,
    max_chars: int = DEFAULT_MAX_CHARS,
    scheme: str = "dclm",
) -> Metrics:
    """Confusion counts for the positive class, scoring exactly as the pipeline stage does."""
    texts = [ex.text for ex in examples]
    scores = positive_probabilities(model, texts, positive_label, max_chars, scheme)
    tp = fp = fn = tn = 0
    for ex, score in zip(examples, scores, strict=True):
        predicted = score >= threshold
        tp += predicted and ex.positive
        fp += predicted and not ex.positive
        fn += (not predicted) and ex.positive
        tn += (not predicted) and not ex.positive
    return Metrics(tp, fp, fn, tn, threshold)


def cross_validate(
    examples: Sequence[Example],
    folds: int = 5,
    positive_label: str = "hq",
    negative_label: str = "cc",
    settings: TrainSettings | None = None,
    seed: int = 0,
) -> list[Metrics]:
    """Group k-fold: train on all folds but one, evaluate on that one; one :class:`Metrics` per fold
    (add them up for pooled figures)."""
    settings = settings or TrainSettings()
    results = []
    with tempfile.TemporaryDirectory(prefix="ccsieve-cv-") as tmp:
        for i, held in enumerate(fold_groups(examples, folds, seed)):
            train = [ex for ex in examples if ex.group not in held]
            test = [ex for ex in examples if ex.group in held]
            random.Random(seed + i).shuffle(train)
            trained = train_model(train, Path(tmp) / f"fold{i}.bin", positive_label, negative_label, settings)
            model = trained.load()
            results.append(
                evaluate(model, test, positive_label, 0.5, settings.max_chars, settings.preprocessing)
            )
    return results


# --- the job ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Task:
    """What differs between the quality and the math classifier: labels, stage, preprocessing."""

    stage: str
    positive_label: str
    negative_label: str
    preprocessing: str


TASKS = {
    "quality": Task("quality", "hq", "cc", "dclm"),  # DCLM's label names
    "math": Task("math_score", "math", "other", "tokens"),
}


@dataclass(frozen=True, slots=True)
class TrainingReport:
    """Everything the training job prints: counts, held-out figures, and the model written."""

    model: TrainedModel
    stage: str
    train_positive: int
    train_negative: int
    held_out: list[Example]
    metrics: Metrics | None
    duplicates_removed: int

    def yaml_snippet(self) -> str:
        """The config entry that scores with this model (score-only: no threshold)."""
        return (
            f"  - stage: {self.stage}\n"
            f"    model_path: {self.model.path}\n"
            f"    model_sha256: {self.model.sha256}\n"
            f"    positive_label: {self.model.positive_label.removeprefix('__label__')}\n"
            f"    preprocessing: {self.model.settings.preprocessing}\n"
            f"    # threshold: 0.5   # set after looking at the scores of a sample\n"
        )


def train_and_evaluate(
    positives: Iterable[tuple[str, str]],
    negatives: Iterable[tuple[str, str]],
    output: str | Path,
    task: Task,
    settings: TrainSettings,
    holdout: float = 0.1,
    threshold: float = 0.5,
) -> TrainingReport:
    """Dedupe, split off ``holdout`` of the groups, train on the rest, evaluate on the held-out part."""
    examples = [Example(t, True, g) for t, g in positives] + [Example(t, False, g) for t, g in negatives]
    examples, removed = dedupe(examples, settings.max_chars, settings.preprocessing)
    train, held = split_holdout(examples, holdout, settings.seed)
    trained = train_model(train, output, task.positive_label, task.negative_label, settings)
    metrics = None
    if held:
        model = trained.load()
        metrics = evaluate(
            model, held, task.positive_label, threshold, settings.max_chars, settings.preprocessing
        )
    n_pos = sum(ex.positive for ex in train)
    return TrainingReport(trained, task.stage, n_pos, len(train) - n_pos, held, metrics, removed)
