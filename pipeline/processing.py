"""What both runners share: running a chain of stages over a batch, and one input file end to end."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from extractors.warc import READ_STAGE, SourceError, WarcReader
from pipeline.config import PipelineConfig
from pipeline.document import Document, DropRecord
from pipeline.sinks import OutputLayout, SourceWriter, source_key
from pipeline.stage import Stage, StageStats

__all__ = [
    "Chain",
    "ChainOutcome",
    "StageChain",
    "build_chain",
    "config_fingerprint",
    "process_source",
    "read_batches",
]


@dataclass(slots=True)
class ChainOutcome:
    kept: list[Document]
    dropped: list[DropRecord]
    stats: dict[str, StageStats]
    restarts: int = 0  # worker (isolation child) restarts this batch cost; see pipeline/isolation.py


class Chain(Protocol):
    """What runners call: :class:`StageChain`, or its isolated form (``pipeline.isolation``)."""

    stages: list[Stage]

    def run(self, docs: list[Document]) -> ChainOutcome: ...


def _vectorised(stage: Stage) -> bool:
    return type(stage).process_batch is not Stage.process_batch


@dataclass
class StageChain:
    """Consecutive stages run on each batch, inside one worker.

    A stage that vectorises (overrides ``process_batch``) sees the whole batch at once. A run of
    per-document stages instead takes one document through all of them before the next: caches keyed
    on the current document then hit (datatrove's filters share a 5-entry word-split cache; batch
    order would split every text once per filter).
    """

    stages: list[Stage]
    _segments: list[tuple[bool, list[tuple[int, Stage]]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._segments = []
        for index, stage in enumerate(self.stages):
            per_doc = not _vectorised(stage)
            if self._segments and self._segments[-1][0] and per_doc:
                self._segments[-1][1].append((index, stage))
            else:
                self._segments.append((per_doc, [(index, stage)]))

    def run(self, docs: list[Document], probe: Callable[[int], None] | None = None) -> ChainOutcome:
        """Run every stage over ``docs``; ``probe(i)``, when given, is told before stage ``i`` runs."""
        dropped: list[DropRecord] = []
        stats = {stage.label: StageStats() for stage in self.stages}
        for per_doc, stages in self._segments:
            if per_doc and len(stages) > 1:
                kept: list[Document] = []
                for doc in docs:
                    alive = [doc]
                    for index, stage in stages:
                        if probe is not None:
                            probe(index)
                        outcome = stage.run(alive)
                        stats[stage.label].add(outcome.stats)
                        dropped.extend(outcome.dropped)
                        alive = outcome.kept
                        if not alive:
                            break
                    kept.extend(alive)
                docs = kept
            else:
                for index, stage in stages:
                    if probe is not None:
                        probe(index)
                    outcome = stage.run(docs)
                    stats[stage.label].add(outcome.stats)
                    dropped.extend(outcome.dropped)
                    docs = outcome.kept
        return ChainOutcome(docs, dropped, stats)


@dataclass(slots=True)
class ReadBatch:
    """Up to ``batch_size`` records of one file; ``error`` is set on the last batch of a broken file."""

    docs: list[Document]
    drops: list[DropRecord]
    stats: StageStats
    error: str | None = None
    responses_read: int = 0
    final: bool = False


def read_batches(source: str, config: PipelineConfig) -> Iterator[ReadBatch]:
    """Stream one WARC as bounded batches; the last batch has ``final=True`` and the totals."""
    reader = WarcReader(max_payload_bytes=int(config.reader.max_payload_mb * (1 << 20)))
    batch = ReadBatch([], [], StageStats())
    start = time.perf_counter()
    error = None
    try:
        for item in reader.read(source):
            batch.stats.seen += 1
            if isinstance(item, DropRecord):
                batch.drops.append(item)
                batch.stats.dropped[item.reason] += 1
            else:
                batch.docs.append(item)
                batch.stats.kept += 1
            if len(batch.docs) + len(batch.drops) >= config.reader.batch_size:
                batch.stats.seconds = time.perf_counter() - start
                yield batch
                batch = ReadBatch([], [], StageStats())
                start = time.perf_counter()
    except SourceError as exc:
        error = str(exc)
    batch.stats.seconds = time.perf_counter() - start
    batch.error = error
    batch.responses_read = reader.responses_read
    batch.final = True
    yield batch


def select_stages(config: PipelineConfig, labels: list[str] | None = None) -> list[Stage]:
    """The config's stages, or those of them with the given labels (a Ray stage group), in order."""
    stages = config.build_stages()
    if labels is None:
        return stages
    wanted = set(labels)
    return [s for s in stages if s.label in wanted]


def build_chain(config: PipelineConfig, labels: list[str] | None = None) -> Chain:
    """The chain a worker runs: in this process, or in an isolation child when the config says so."""
    if config.isolation.enabled:
        from pipeline.isolation import IsolatedChain

        return IsolatedChain(config, labels)
    return StageChain(select_stages(config, labels))


def config_fingerprint(config: PipelineConfig) -> str:
    """Outputs of different configs must not be mixed in one folder; this tells them apart."""
    canonical = json.dumps({"stages": config.stages, "reader": config.to_dict()["reader"]}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def new_marker(source: str, config: PipelineConfig, stage_order: list[str]) -> dict[str, Any]:
    return {
        "source": source,
        "status": "ok",
        "error": None,
        "responses_read": 0,
        "worker_restarts": 0,
        "config": config_fingerprint(config),
        "stages": {label: StageStats().to_dict() for label in [READ_STAGE, *stage_order]},
    }


def add_stats(marker: dict[str, Any], stats: dict[str, StageStats]) -> None:
    for label, delta in stats.items():
        total = StageStats.from_dict(marker["stages"][label])
        total.add(delta)
        marker["stages"][label] = total.to_dict()


def process_source(source: str, config: PipelineConfig, chain: Chain, layout: OutputLayout) -> dict[str, Any]:
    """Read, process and commit one input file; returns its completion marker."""
    key = source_key(source)
    marker = new_marker(source, config, [s.label for s in chain.stages])
    writer = SourceWriter(layout, key, config.sink)
    try:
        for batch in read_batches(source, config):
            outcome = chain.run(batch.docs)
            writer.write(outcome.kept, batch.drops + outcome.dropped)
            add_stats(marker, {READ_STAGE: batch.stats, **outcome.stats})
            marker["worker_restarts"] += outcome.restarts
            if batch.final:
                marker["responses_read"] = batch.responses_read
                if batch.error:
                    marker["status"], marker["error"] = "failed", batch.error
    except BaseException:
        writer.abort()
        raise
    marker["finished_at"] = time.time()
    return writer.commit(marker)
