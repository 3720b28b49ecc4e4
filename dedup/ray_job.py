"""The Ray side of the dedup job: signatures, clustering and kept shards as Ray Data operators.

Signing and writing are one task per input shard (``TaskPoolStrategy``), each writing its own file under
its final name through ``<name>.tmp`` and a rename, exactly as the local loop does, so the files are the
same. Clustering is :func:`dedup.ray_clusters.cluster_ray`. The driver holds the sorted array of removed
nodes (8 bytes per removed document) and the member rows of the clusters, which it writes to
``clusters.parquet``; never the signatures, band keys or edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from dedup.clusters import MEMBER_SCHEMA
from dedup.ray_clusters import cluster_ray
from dedup.signatures import Lookup, SignatureParams, sign_shard
from pipeline.ray_runner import init_ray

if TYPE_CHECKING:
    from dedup.job import DedupOptions, _Stage

__all__ = ["RayBackend"]


def _sign(batch: pa.Table, params: SignatureParams, batch_rows: int) -> pa.Table:
    rows = [
        sign_shard(src, i, dst, params, batch_rows)
        for i, src, dst in zip(*(batch.column(c).to_pylist() for c in ("i", "src", "dst")), strict=True)
    ]
    return pa.table({"rows": pa.array(rows, pa.int64())})


def _keys(batch: pa.Table, columns: list[str], removed: np.ndarray) -> pa.Table:
    from dedup.job import _read_keys

    tables = [
        _read_keys(path, None if base < 0 else base, ["node", *columns], removed).select(["node", *columns])
        for path, base in zip(batch.column("path").to_pylist(), batch.column("base").to_pylist(), strict=True)
    ]
    return pa.concat_tables(tables)


def _write(batch: pa.Table) -> pa.Table:
    from dedup.job import _write_kept

    rows = [
        _write_kept(src, dst, i, np.asarray(removed, np.int64))
        for i, src, dst, removed in zip(
            *(batch.column(c).to_pylist() for c in ("i", "src", "dst", "removed")), strict=True
        )
    ]
    return pa.table({"rows": pa.array(rows, pa.int64())})


class RayBackend:
    """Runs the heavy steps of :func:`dedup.job.run_dedup` on the Ray cluster this process connects to."""

    def __init__(self, opts: DedupOptions) -> None:
        import ray
        import ray.data

        init_ray()
        self.opts = opts
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = opts.progress
        ctx.verbose_progress = False
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.partitions = opts.partitions or max(2, self.workers)

    def _per_file(self, rows: list[dict[str, Any]], fn: Any, **kwargs: Any) -> int:
        import ray.data

        if not rows:
            return 0
        ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            fn,
            batch_size=1,
            batch_format="pyarrow",
            fn_kwargs=kwargs,
            compute=ray.data.TaskPoolStrategy(size=self.workers),
        )
        return int(sum(row["rows"] for row in ds.take_all()))

    def sign(self, files: list[str], sig_files: list[str]) -> int:
        """Write every signatures file; returns the number of documents."""
        rows = [{"i": i, "src": s, "dst": d} for i, (s, d) in enumerate(zip(files, sig_files, strict=True))]
        return self._per_file(rows, _sign, params=self.opts.params, batch_rows=self.opts.batch_rows)

    def cluster(
        self, stage: _Stage, sources: list[tuple[str, int | None]], lookup: Lookup, removed: np.ndarray
    ) -> tuple[pa.Table, list[tuple[int, int]]]:
        """Member rows of one stage's clusters and the components loop's per-round counts."""
        import ray.data

        items = [{"path": p, "base": -1 if b is None else b} for p, b in sources]
        nodes = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            _keys,
            batch_size=1,
            batch_format="pyarrow",
            fn_kwargs={"columns": stage.keys, "removed": removed},
            compute=ray.data.TaskPoolStrategy(size=self.workers),
        )
        members, history = cluster_ray(
            nodes,
            stage.keys,
            stage.reason,
            lookup,
            priority=stage.priority,
            verify=stage.verify,
            ngram=self.opts.params.ngram,
            partitions=self.partitions,
        )
        batches = [b for b in members.iter_batches(batch_format="pyarrow", batch_size=None) if b.num_rows]
        table = (
            pa.concat_tables([b.cast(MEMBER_SCHEMA) for b in batches])
            if batches
            else MEMBER_SCHEMA.empty_table()
        )
        return table, history

    def write_kept(self, files: list[str], data_files: list[str], removed: list[np.ndarray]) -> int:
        """Write every kept shard; returns the number of kept documents."""
        rows = [
            {"i": i, "src": s, "dst": d, "removed": r.tolist()}
            for i, (s, d, r) in enumerate(zip(files, data_files, removed, strict=True))
        ]
        return self._per_file(rows, _write)
