"""The Ray Data runner: the same config and the same output as the local runner, on a cluster.

Plan: one row per input file → one ``map_batches`` actor pool per group of consecutive stages with
equal resources (models load once per actor) → the driver, which commits each input file through the
same :class:`~pipeline.sinks.SourceWriter` as the local runner once every record of that file is
accounted for. With at least as many files as workers, the first group's actors read their files
themselves (a file per call, streamed as bounded record batches): the HTML never enters Ray's object
store, and extraction shrinks a WARC about twentyfold, so only text moves. With fewer files, a
zero-CPU reading operator streams the record batches out, so that one file still spreads over every
worker.

Batches between operators carry documents, drop records and per-source statistics together; the
encoding is private to this module.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from tqdm import tqdm

from extractors.warc import READ_STAGE
from pipeline.config import PipelineConfig
from pipeline.document import Document, DropRecord, from_table, to_table
from pipeline.processing import ReadBatch, add_stats, build_chain, new_marker, read_batches
from pipeline.sinks import SourceWriter, source_key
from pipeline.stage import Resources, Stage, StageStats

if TYPE_CHECKING:
    from pipeline.run import RunPlan

__all__ = ["init_ray", "run_ray", "stage_groups"]

_KIND = "_kind"  # "doc", "drop" or "meta"
_PAYLOAD = "_payload"  # JSON of a DropRecord, or of {"source", "stats", "eof"}


def stage_groups(stages: list[Stage]) -> list[list[Stage]]:
    """Consecutive stages with equal resources, each group to run inside one ``map_batches``."""
    groups: list[list[Stage]] = []
    for stage in stages:
        if groups and groups[-1][0].resources == stage.resources:
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups


def _pack(docs: list[Document], drops: list[DropRecord], metas: list[dict[str, Any]]) -> pa.Table:
    placeholders = [Document(d.id, d.url, d.source, d.offset) for d in drops]
    placeholders += [Document("", "", m["source"], -1) for m in metas]
    table = to_table(docs + placeholders, in_flight=True)
    kinds = ["doc"] * len(docs) + ["drop"] * len(drops) + ["meta"] * len(metas)
    payloads = [None] * len(docs) + [json.dumps(asdict(d)) for d in drops] + [json.dumps(m) for m in metas]
    table = table.append_column(_KIND, pa.array(kinds, pa.string()))
    return table.append_column(_PAYLOAD, pa.array(payloads, pa.string()))


def _unpack(table: pa.Table) -> tuple[list[Document], list[DropRecord], list[dict[str, Any]]]:
    kinds = table.column(_KIND).to_pylist()
    payloads = table.column(_PAYLOAD).to_pylist()
    doc_rows = [i for i, k in enumerate(kinds) if k == "doc"]
    docs = from_table(table.take(doc_rows)) if doc_rows else []
    drops = [DropRecord(**json.loads(p)) for k, p in zip(kinds, payloads, strict=True) if k == "drop"]
    metas = [json.loads(p) for k, p in zip(kinds, payloads, strict=True) if k == "meta"]
    return docs, drops, metas


def _read_meta(source: str, rb: ReadBatch) -> dict[str, Any]:
    eof = {"responses_read": rb.responses_read, "error": rb.error} if rb.final else None
    return {"source": source, "stats": {READ_STAGE: rb.stats.to_dict()}, "eof": eof}


def _read_files(batch: pa.Table, config: PipelineConfig) -> Iterator[pa.Table]:
    for source in batch.column("source").to_pylist():
        for rb in read_batches(source, config):
            yield _pack(rb.docs, rb.drops, [_read_meta(source, rb)])


class _StageGroup:
    """An actor running some consecutive stages; built once per actor, so models load once."""

    def __init__(self, config: PipelineConfig, labels: list[str]) -> None:
        self.config = config
        self.chain = build_chain(config, labels)

    def _run(
        self,
        source: str,
        docs: list[Document],
        kept: list[Document],
        drops: list[DropRecord],
        metas: list[dict[str, Any]],
    ) -> None:
        outcome = self.chain.run(docs)
        kept.extend(outcome.kept)
        drops.extend(outcome.dropped)
        stats = {label: s.to_dict() for label, s in outcome.stats.items()}
        metas.append({"source": source, "stats": stats, "eof": None, "restarts": outcome.restarts})

    def __call__(self, table: pa.Table) -> pa.Table:
        docs, drops, metas = _unpack(table)
        by_source: dict[str, list[Document]] = {}
        for doc in docs:
            by_source.setdefault(doc.source, []).append(doc)
        kept: list[Document] = []
        for source, group in by_source.items():
            self._run(source, group, kept, drops, metas)
        return _pack(kept, drops, metas)


class _ReadingStageGroup(_StageGroup):
    """The first stage group when every worker reads its own files: fed file names, it reads each
    file here and runs the stages on each record batch as it comes, so no HTML crosses processes."""

    def __call__(self, table: pa.Table) -> Iterator[pa.Table]:  # type: ignore[override]
        for source in table.column("source").to_pylist():
            for rb in read_batches(source, self.config):
                kept: list[Document] = []
                drops, metas = list(rb.drops), [_read_meta(source, rb)]
                if rb.docs:
                    self._run(source, rb.docs, kept, drops, metas)
                yield _pack(kept, drops, metas)


class _OpenSource:
    """Driver-side state of one input file until all of its records have arrived."""

    def __init__(self, source: str, plan: RunPlan, labels: list[str]) -> None:
        self.writer = SourceWriter(plan.layout, source_key(source), plan.config.sink)
        self.marker = new_marker(source, plan.config, labels)
        self.offsets: set[int] = set()
        self.expected: int | None = None

    def add(self, docs: list[Document], drops: list[DropRecord]) -> None:
        # A retried upstream task may send records again: count each record (offset) once.
        fresh_docs = [d for d in docs if d.offset not in self.offsets]
        self.offsets.update(d.offset for d in fresh_docs)
        fresh_drops = [d for d in drops if d.offset not in self.offsets]
        self.offsets.update(d.offset for d in fresh_drops)
        self.writer.write(fresh_docs, fresh_drops)

    @property
    def complete(self) -> bool:
        """Every record has arrived and so have the statistics of every stage that saw them.

        Statistics travel in their own rows, which Ray may deliver after the records they describe;
        the funnel closes only when each stage has seen exactly what the stage before it kept.
        """
        if self.expected is None or len(self.offsets) != self.expected:
            return False
        funnel = list(self.marker["stages"].values())
        if funnel[0]["seen"] != self.expected:
            return False
        return all(nxt["seen"] == prev["kept"] for prev, nxt in pairwise(funnel))


def init_ray() -> None:
    """Connect to ``RAY_ADDRESS`` when set, else start a private single-node Ray (once per process)."""
    import ray

    if ray.is_initialized():
        return
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if os.environ.get("RAY_ADDRESS"):
        ray.init(**quiet)
    else:
        # A private single-node Ray: no dashboard, nothing listening beyond this machine. ray.init
        # replaces _node_ip_address="127.0.0.1" by the machine's network address, and then the GCS,
        # raylet, workers and agents (the job agent included) listen on every interface; only in Ray's
        # single-machine mode (its default on macOS and Windows) does loopback stay loopback. The flag
        # is read while the node starts; the processes started get their address on the command line.
        from ray._private import ray_constants

        cluster_mode = ray_constants.ENABLE_RAY_CLUSTER
        ray_constants.ENABLE_RAY_CLUSTER = False
        try:
            ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
        finally:
            ray_constants.ENABLE_RAY_CLUSTER = cluster_mode


def run_ray(plan: RunPlan, workers: int | None = None, progress: bool = True) -> None:
    """Process every pending input of ``plan`` on the Ray cluster this process connects to."""
    if not plan.pending:
        return
    import ray
    import ray.data

    init_ray()
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress
    ctx.verbose_progress = False
    workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    config = plan.config
    stages = config.build_stages()
    labels = [s.label for s in stages]

    ds = ray.data.from_items([{"source": s} for s in plan.pending], override_num_blocks=len(plan.pending))
    groups = stage_groups(stages)
    fused = bool(groups) and len(plan.pending) >= workers and groups[0][0].resources.gpus == 0
    if not fused:
        # Reading is a small share of the work; zero CPUs lets it run beside full actor pools.
        ds = ds.map_batches(
            _read_files,
            batch_size=1,
            batch_format="pyarrow",
            fn_kwargs={"config": config},
            num_cpus=0,
            compute=ray.data.TaskPoolStrategy(size=workers),
        )
    for index, group in enumerate(groups):
        resources: Resources = group[0].resources
        reads = fused and index == 0
        ds = ds.map_batches(
            _ReadingStageGroup if reads else _StageGroup,
            batch_size=1 if reads else config.reader.batch_size,
            batch_format="pyarrow",
            fn_constructor_kwargs={"config": config, "labels": [s.label for s in group]},
            num_cpus=resources.cpus,
            num_gpus=resources.gpus or None,
            # A reading actor takes its next file only when free: files differ in size, and a file
            # queued behind a long one would wait while another actor idles.
            compute=ray.data.ActorPoolStrategy(
                size=workers, max_tasks_in_flight_per_actor=1 if reads else None
            ),
        )

    open_sources: dict[str, _OpenSource] = {}
    committed: set[str] = set()
    bar = tqdm(total=len(plan.pending), unit="file", desc="ccsieve[ray]", disable=not progress)
    try:
        for table in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            docs, drops, metas = _unpack(table)
            docs_by_source: dict[str, list[Document]] = {}
            drops_by_source: dict[str, list[DropRecord]] = {}
            for doc in docs:
                docs_by_source.setdefault(doc.source, []).append(doc)
            for drop in drops:
                drops_by_source.setdefault(drop.source, []).append(drop)
            for source in docs_by_source.keys() | drops_by_source.keys() | {m["source"] for m in metas}:
                if source in committed:
                    raise RuntimeError(f"{source}: records arrived after the file was committed")
                if source not in open_sources:
                    open_sources[source] = _OpenSource(source, plan, labels)
                open_sources[source].add(docs_by_source.get(source, []), drops_by_source.get(source, []))
            for meta in metas:
                state = open_sources[meta["source"]]
                add_stats(state.marker, {k: StageStats.from_dict(v) for k, v in meta["stats"].items()})
                state.marker["worker_restarts"] += meta.get("restarts", 0)
                if meta["eof"] is not None:
                    state.expected = meta["eof"]["responses_read"]
                    state.marker["responses_read"] = state.expected
                    if meta["eof"]["error"]:
                        state.marker["status"], state.marker["error"] = "failed", meta["eof"]["error"]
            for source in [s for s, st in open_sources.items() if st.complete]:
                state = open_sources.pop(source)
                marker = state.writer.commit(state.marker)
                committed.add(source)
                if marker["status"] != "ok":
                    tqdm.write(f"error: {marker['error']}")
                bar.update()
    except BaseException:
        for state in open_sources.values():
            state.writer.abort()
        raise
    finally:
        bar.close()
    if open_sources:
        lost = {s: (len(st.offsets), st.expected) for s, st in open_sources.items()}
        for state in open_sources.values():
            state.writer.abort()
        raise RuntimeError(f"records missing at the end of the Ray run (received, expected): {lost}")
