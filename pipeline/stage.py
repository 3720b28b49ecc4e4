"""The stage protocol: every step of a ccsieve pipeline is a :class:`Stage`.

A stage sees documents, never paths, ranks or executors. Three helpers cover nearly every case:

* :class:`Filter` -- ``check(doc)`` returns a drop reason or ``None``;
* :class:`Annotator` -- ``score(doc)`` returns a number, stored in ``doc.scores[stage name]``;
* :class:`Mapper` -- ``map(doc)`` returns the transformed document.

Any stage may raise :class:`Drop` to remove a document with a reason. Counting is done here, in
:meth:`Stage.run`, so that every stage reports seen, kept, dropped by reason, seconds and a histogram
of every score it wrote the same way; an exception on one document quarantines that document instead
of failing the batch.
"""

from __future__ import annotations

import inspect
import time
import traceback
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pipeline.document import Document, DropRecord
from pipeline.histogram import ScoreHistogram

__all__ = [
    "Annotator",
    "Drop",
    "Filter",
    "Mapper",
    "Resources",
    "ScoreHistogram",
    "Stage",
    "StageOutcome",
    "StageStats",
    "Verdict",
]


class Drop(Exception):
    """Raised by a stage to drop the current document with ``reason``.

    ``quarantine=True`` marks a failure (the record could not be processed) rather than a decision
    (the record was judged and rejected); quarantined records keep their payload for replay.
    """

    def __init__(self, reason: str, *, quarantine: bool = False, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.quarantine = quarantine
        self.detail = detail


# What a stage says of one document: None keeps it; a reason string or a Drop (with detail) drops it.
Verdict = str | Drop | None


@dataclass(frozen=True, slots=True)
class Resources:
    """What one instance of a stage needs; runners group stages with equal resources."""

    cpus: float = 1.0
    gpus: float = 0.0


@dataclass(slots=True)
class StageStats:
    """Counts for one stage; adding two gives the counts of both.

    ``scores`` holds one histogram per score the stage wrote (``doc.scores`` keys, and
    ``language_score``), over every document it saw -- the dropped ones included, so that a
    threshold can be read off a score-only run.
    """

    seen: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    scores: dict[str, ScoreHistogram] = field(default_factory=dict)

    def add(self, other: StageStats) -> None:
        self.seen += other.seen
        self.kept += other.kept
        self.dropped.update(other.dropped)
        self.seconds += other.seconds
        for key, hist in other.scores.items():
            self.score(key).add(hist)

    def score(self, key: str) -> ScoreHistogram:
        """The histogram of score ``key``, created empty on first use."""
        hist = self.scores.get(key)
        if hist is None:
            hist = self.scores[key] = ScoreHistogram()
        return hist

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        data = {
            "seen": self.seen,
            "kept": self.kept,
            "dropped": dict(sorted(self.dropped.items())),
            "seconds": round(self.seconds, 6),
        }
        # Only stages that score get the key: markers and stats of the others read as before.
        if self.scores:
            data["scores"] = {key: self.scores[key].to_dict() for key in sorted(self.scores)}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageStats:
        scores = {key: ScoreHistogram.from_dict(h) for key, h in data.get("scores", {}).items()}
        return cls(data["seen"], data["kept"], Counter(data["dropped"]), data["seconds"], scores)


@dataclass(slots=True)
class StageOutcome:
    """What :meth:`Stage.run` returns for one batch."""

    kept: list[Document]
    dropped: list[DropRecord]
    stats: StageStats


class Stage(ABC):
    """Base class of every stage.

    Subclasses set ``name`` (the registry name used in YAML configs) and implement :meth:`process`
    (or :meth:`process_batch` when the work vectorises). :meth:`setup` runs once per worker before
    the first batch: load models there, never in ``__init__``, so stages pickle cheaply.
    """

    name: ClassVar[str] = "stage"
    resources: ClassVar[Resources] = Resources()

    def __init__(self) -> None:
        self._ready = False
        self.label = self.name  # the stage's name in stats; a config may give two instances labels

    @classmethod
    def parameters(cls) -> dict[str, inspect.Parameter]:
        """The parameters a config may give this stage (names to ``inspect.Parameter``)."""
        params = dict(inspect.signature(cls.__init__).parameters)
        params.pop("self", None)
        return {k: p for k, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}

    def setup(self) -> None:  # noqa: B027 -- optional hook, most stages need no setup
        """Load models and other per-worker state. Called once, lazily."""

    @abstractmethod
    def process(self, doc: Document) -> Verdict:
        """Handle one document in place; return a drop reason (or Drop), or ``None`` to keep it."""

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        """Handle a batch; override when the work vectorises. Must return one result per document."""
        return [self.process(doc) for doc in docs]

    def run(self, docs: list[Document]) -> StageOutcome:
        """Run the stage over a batch and count what happened. Runners call this, nothing else."""
        if not self._ready:
            self.setup()
            self._ready = True
        stats = StageStats(seen=len(docs))
        # What each document carried before: the scores this stage writes are the ones that differ.
        before = [(doc.language_score, doc.scores.copy()) for doc in docs]
        start = time.perf_counter()
        results: list[str | Drop | BaseException | None]
        if type(self).process_batch is Stage.process_batch:
            results = [self._process_one(doc) for doc in docs]
        else:
            try:
                results = list(self.process_batch(docs))
                if len(results) != len(docs):
                    raise RuntimeError(f"{self.label}: {len(results)} results for {len(docs)} documents")
            except Exception:
                # One bad document must not take the batch with it: retry one by one to isolate it.
                results = [self._process_one(doc) for doc in docs]
        kept: list[Document] = []
        dropped: list[DropRecord] = []
        for doc, result in zip(docs, results, strict=True):
            if result is None:
                kept.append(doc)
            elif isinstance(result, Drop):
                dropped.append(
                    DropRecord.of(
                        doc, self.label, result.reason, quarantined=result.quarantine, detail=result.detail
                    )
                )
            elif isinstance(result, BaseException):
                detail = "".join(traceback.format_exception_only(result)).strip()[:2000]
                reason = f"error:{type(result).__name__}"
                dropped.append(DropRecord.of(doc, self.label, reason, quarantined=True, detail=detail))
            else:
                dropped.append(DropRecord.of(doc, self.label, result))
        stats.seconds = time.perf_counter() - start
        stats.kept = len(kept)
        stats.dropped.update(d.reason for d in dropped)
        for doc, (language_score, scores) in zip(docs, before, strict=True):
            _record_scores(stats, doc, language_score, scores)
        return StageOutcome(kept, dropped, stats)

    def _process_one(self, doc: Document) -> str | Drop | BaseException | None:
        try:
            return self.process(doc)
        except Drop as drop:
            return drop
        except Exception as exc:
            return exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}(label={self.label!r})"


def _record_scores(
    stats: StageStats, doc: Document, language_score: float | None, scores: dict[str, float]
) -> None:
    """Count the scores this stage wrote to ``doc``, found by comparing with what it carried before.

    Compared by identity, not value: a stage that computes a score stores a new object even when
    the value is the one the document already had (a rerun over written shards), and that run
    must be counted too; a score merely carried along is the same object and is not.
    """
    if doc.language_score is not None and doc.language_score is not language_score:
        stats.score("language_score").record(doc.language_score)
    for key, value in doc.scores.items():
        if value is not scores.get(key):
            stats.score(key).record(value)


class Filter(Stage):
    """A stage that keeps or drops documents: implement :meth:`check`."""

    @abstractmethod
    def check(self, doc: Document) -> Verdict:
        """Return a drop reason (or a :class:`Drop` with detail), or ``None`` to keep the document."""

    def process(self, doc: Document) -> Verdict:
        return self.check(doc)


class Annotator(Stage):
    """A stage that writes one score per document into ``doc.scores[self.label]``.

    With ``threshold`` set, documents scoring below it (above it when ``keep_above=False``) are
    dropped with reason ``below_threshold``/``above_threshold``; without it the stage only scores,
    so thresholds can be tuned on a sample before any document is removed.
    """

    def __init__(self, threshold: float | None = None, keep_above: bool = True) -> None:
        super().__init__()
        self.threshold = threshold
        self.keep_above = keep_above

    @abstractmethod
    def score(self, doc: Document) -> float:
        """Return this stage's score for the document."""

    def process(self, doc: Document) -> str | None:
        value = self.score(doc)
        doc.scores[self.label] = value
        if self.threshold is None:
            return None
        if self.keep_above and value < self.threshold:
            return "below_threshold"
        if not self.keep_above and value > self.threshold:
            return "above_threshold"
        return None


class Mapper(Stage):
    """A stage that transforms documents: implement :meth:`map` (raise :class:`Drop` to drop)."""

    @abstractmethod
    def map(self, doc: Document) -> Document:
        """Return the transformed document (it may be the same object)."""

    def process(self, doc: Document) -> str | None:
        result = self.map(doc)
        if result is not doc:
            for name in doc.__slots__:
                setattr(doc, name, getattr(result, name))
        return None
