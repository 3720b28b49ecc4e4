"""The dedup job: a barrier over written shards, on one machine or on Ray, with the same output.

Steps: resolve the input shards (sorted) → a signatures file per shard (:mod:`dedup.signatures`) →
the stages, each over the documents the previous ones kept: URL (latest fetch per normalised URL),
exact text (highest keep score, then lowest id), MinHash (the same rule, LSH candidates, optional
verification; with ``--index``, an older run's kept documents join as pinned keepers) → kept shards
``data/<input shard name>``, ``clusters.parquet``, ``dedup_stats.json``, ``dedup_report.md`` and
optionally an index.

Running the stages one after the other gives every removed document exactly one reason, and never
removes a document in favour of one that an earlier stage removed.
"""

from __future__ import annotations

import glob
import json
import os
import posixpath
import shutil
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from dedup.clusters import MEMBER_SCHEMA, NodeTable, cluster_local
from dedup.index import index_files, write_index
from dedup.report import write_report
from dedup.signatures import (
    INPUT_COLUMNS,
    NODE_BITS,
    PINNED_BASE,
    FixedRowGroupWriter,
    Lookup,
    SignatureParams,
    band_columns,
    sign_shard,
)
from pipeline.document import ARROW_SCHEMA, from_table, to_table

__all__ = ["DedupOptions", "resolve_inputs", "run_dedup"]


@dataclass
class DedupOptions:
    """Everything one dedup run needs (``python -m jobs.dedup --help`` documents each option)."""

    inputs: list[str]
    output: str
    params: SignatureParams = field(default_factory=SignatureParams)
    executor: str = "local"
    minhash: bool = True
    exact: bool = False
    url: bool = False
    verify: float | None = None
    index: str | None = None
    write_index: str | None = None
    batch_rows: int = 1024
    partitions: int | None = None
    progress: bool = True


@dataclass(frozen=True)
class _Stage:
    reason: str
    keys: list[str]
    priority: str  # "score" or "fetched"
    verify: float | None
    pinned: bool  # whether an older run's index takes part


def resolve_inputs(inputs: list[str]) -> list[str]:
    """Input shards: ccsieve output folders (their ``data/``), folders of Parquet files, or globs."""
    files: list[str] = []
    for item in inputs:
        if os.path.isdir(item):
            folder = posixpath.join(item, "data") if os.path.isdir(posixpath.join(item, "data")) else item
            found = sorted(glob.glob(posixpath.join(folder, "*.parquet")))
        else:
            found = sorted(glob.glob(item))
        if not found:
            raise FileNotFoundError(
                f"--input {item}: no Parquet shards found (a ccsieve output folder, a "
                "folder of .parquet files or a glob)"
            )
        files.extend(found)
    files = sorted(set(files))
    names = [posixpath.basename(f) for f in files]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"input shards with the same file name would overwrite each other: {dupes[:5]}")
    for file in files:
        try:
            schema = pq.read_schema(file)
        except Exception as exc:  # pyarrow raises several types for a non-Parquet file
            raise ValueError(f"{file}: not a readable Parquet file ({exc})") from exc
        missing = [c for c in INPUT_COLUMNS if c not in schema.names]
        if missing:
            raise ValueError(f"{file}: not a ccsieve shard, missing columns {missing}")
    return files


def _stages(opts: DedupOptions) -> list[_Stage]:
    stages = []
    if opts.url:
        # Latest fetch wins, so an old index (older fetches) must not pin URL groups.
        stages.append(_Stage("url", ["url_key"], "fetched", None, pinned=False))
    if opts.exact:
        stages.append(_Stage("exact", ["exact_key"], "score", None, pinned=True))
    if opts.minhash:
        stages.append(_Stage("minhash", band_columns(opts.params.bands), "score", opts.verify, pinned=True))
    return stages


def _node_sources(sig_files: list[str], pinned: list[str]) -> list[tuple[str, int | None]]:
    """(file, base): signatures files carry their nodes (base None); index files number theirs from base."""
    sources: list[tuple[str, int | None]] = [(f, None) for f in sig_files]
    base = PINNED_BASE
    for file in pinned:
        sources.append((file, base))
        base += pq.read_metadata(file).num_rows
    return sources


def _read_keys(path: str, base: int | None, columns: list[str], removed: np.ndarray) -> pa.Table:
    """``node`` and ``columns`` of one signatures or index file, without the ``removed`` nodes."""
    table = pq.read_table(path, columns=[c for c in columns if c != "node"])
    node = base + np.arange(table.num_rows, dtype=np.int64) if base is not None else None
    if node is None:
        node = pq.read_table(path, columns=["node"]).column("node").to_numpy()
    table = table.append_column("node", pa.array(node, pa.int64()))
    return table.filter(pa.array(~np.isin(node, removed))) if len(removed) else table


def _cluster_local(
    stage: _Stage,
    sources: list[tuple[str, int | None]],
    lookup: Lookup,
    removed: np.ndarray,
    opts: DedupOptions,
) -> pa.Table:
    base = pa.concat_tables([_read_keys(f, b, ["id", stage.priority], removed) for f, b in sources])
    node = base.column("node").to_numpy()
    pinned = node >= PINNED_BASE
    clusters: list[Any] = [None] * len(node)
    if pinned.any():
        clusters = lookup.attributes(node, stage.priority)["cluster_id"].to_pylist()

    def keys(column: str) -> np.ndarray:
        # One key column at a time: only one band of keys is in memory.
        parts = [_read_keys(f, b, [column], removed).column(column) for f, b in sources]
        return pa.chunked_array([c for p in parts for c in p.chunks], type=pa.uint64()).to_numpy()

    nodes = NodeTable(
        node=node,
        id=base.column("id").combine_chunks(),
        priority=base.column(stage.priority).to_numpy(),
        pinned=pinned,
        cluster_id=pa.array(clusters, pa.string()),
        keys=keys,
    )
    ngram = opts.params.ngram if stage.verify is not None else None
    return cluster_local(
        nodes,
        stage.keys,
        stage.reason,
        lambda a, b: lookup.similarity(a, b, ngram),
        verify=stage.verify,
        progress=opts.progress,
    )


def _write_kept(path: str, out_path: str, file_index: int, removed: np.ndarray) -> int:
    """Copy one input shard without its removed rows, through the Document conversions."""
    writer = FixedRowGroupWriter(out_path, ARROW_SCHEMA)
    row = 0
    for rb in pq.ParquetFile(path).iter_batches(batch_size=1024):
        nodes = (file_index << NODE_BITS) + row + np.arange(rb.num_rows, dtype=np.int64)
        row += rb.num_rows
        batch = pa.Table.from_batches([rb]).filter(pa.array(~np.isin(nodes, removed)))
        writer.write(to_table(from_table(batch)))
    writer.close()
    return writer.rows


def run_dedup(opts: DedupOptions) -> dict[str, Any]:
    """Run the dedup job described by ``opts``; returns the statistics written to ``dedup_stats.json``."""
    files = resolve_inputs(opts.inputs)
    params = opts.params
    pinned = index_files(opts.index, params) if opts.index else []
    out = opts.output
    os.makedirs(out, exist_ok=True)
    for stale in ("data", "signatures"):
        shutil.rmtree(posixpath.join(out, stale), ignore_errors=True)
    sig_files = [posixpath.join(out, "signatures", f"{i:05d}.parquet") for i in range(len(files))]
    data_files = [posixpath.join(out, "data", posixpath.basename(f)) for f in files]
    ray_backend = None
    if opts.executor == "ray":
        from dedup import ray_job

        ray_backend = ray_job.RayBackend(opts)
        docs_in = ray_backend.sign(files, sig_files)
    elif opts.executor == "local":
        docs_in = 0
        for i, (src, dst) in enumerate(
            tqdm(
                list(zip(files, sig_files, strict=True)),
                desc="dedup signatures",
                unit="shard",
                disable=not opts.progress,
            )
        ):
            docs_in += sign_shard(src, i, dst, params, opts.batch_rows)
    else:
        raise ValueError(f"unknown executor {opts.executor!r}: local or ray")

    lookup = Lookup(files, sig_files, pinned)
    removed = np.empty(0, np.int64)
    members: list[pa.Table] = []
    history: dict[str, list[tuple[int, int]]] = {}
    for stage in _stages(opts):
        sources = _node_sources(sig_files, pinned if stage.pinned else [])
        if ray_backend is not None:
            table, history[stage.reason] = ray_backend.cluster(stage, sources, lookup, removed)
            if opts.progress:
                tqdm.write(
                    f"dedup[{stage.reason}] components rounds (changed edges): {history[stage.reason]}"
                )
        else:
            table = _cluster_local(stage, sources, lookup, removed, opts)
        members.append(table)
        gone = table.filter(pc.invert(table.column("is_keeper"))).column("node").to_numpy()
        removed = np.union1d(removed, gone)

    clusters = pa.concat_tables(members) if members else MEMBER_SCHEMA.empty_table()
    order = [
        ("reason", "ascending"),
        ("cluster_id", "ascending"),
        ("is_keeper", "descending"),
        ("id", "ascending"),
    ]
    clusters = clusters.take(pc.sort_indices(clusters, sort_keys=order))
    writer = FixedRowGroupWriter(posixpath.join(out, "clusters.parquet"), MEMBER_SCHEMA.remove(0))
    writer.write(clusters.drop_columns(["node"]))
    writer.close()

    per_file = [removed[(removed >> NODE_BITS) == i] for i in range(len(files))]
    if ray_backend is not None:
        docs_out = ray_backend.write_kept(files, data_files, per_file)
    else:
        docs_out = sum(
            _write_kept(f, d, i, r)
            for i, (f, d, r) in enumerate(zip(files, data_files, per_file, strict=True))
        )

    index_rows = None
    if opts.write_index:
        keepers = clusters.filter(clusters.column("is_keeper"))
        keeper_clusters = dict(
            zip(keepers.column("node").to_pylist(), keepers.column("cluster_id").to_pylist(), strict=True)
        )
        index_rows = write_index(opts.write_index, params, pinned, sig_files, removed, keeper_clusters)

    stats = _stats(opts, files, docs_in, docs_out, clusters, index_rows)
    with open(posixpath.join(out, "dedup_stats.json"), "w") as fh:
        json.dump(stats, fh, indent=1, sort_keys=True)
    write_report(posixpath.join(out, "dedup_report.md"), stats, clusters, lookup)
    return stats


def _stats(
    opts: DedupOptions,
    files: list[str],
    docs_in: int,
    docs_out: int,
    clusters: pa.Table,
    index_rows: int | None,
) -> dict[str, Any]:
    # Counts only (no timings, no executor): two runs, local or Ray, give the same file.
    removed = clusters.filter(pc.invert(clusters.column("is_keeper")))
    by_reason = {r: 0 for r in ("url", "exact", "minhash", "index")}
    for reason in removed.column("reason").to_pylist():
        by_reason[reason] += 1
    sizes: dict[str, dict[str, int]] = {}
    for reason in sorted(set(clusters.column("reason").to_pylist())):
        part = clusters.filter(pc.equal(clusters.column("reason"), reason))
        counts = pc.value_counts(part.column("cluster_id")).field("counts").to_numpy()
        hist = np.bincount(counts)
        sizes[reason] = {str(size): int(n) for size, n in enumerate(hist) if n}
    return {
        "inputs": files,
        "params": {
            **asdict(opts.params),
            "verify_jaccard": opts.verify,
            "exact": opts.exact,
            "url": opts.url,
            "index": opts.index,
        },
        "docs_in": docs_in,
        "docs_out": docs_out,
        "removed": sum(by_reason.values()),
        "removed_by_reason": by_reason,
        "cluster_sizes": sizes,
        "index_rows": index_rows,
    }
