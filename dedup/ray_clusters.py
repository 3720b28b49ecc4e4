"""The Ray Data backend of clustering: the same clusters and keepers as :mod:`dedup.clusters`, distributed.

Plan for one stage (``key_columns``: the LSH bands, or the exact / URL hash):

1. explode every document into ``(band, key, node)`` rows; hash-partition by ``(band, key)`` so a bucket
   lies within one block; star edges ``(hi, lo)`` per bucket (vectorised per block);
2. with verification: hash-partition by the edge to drop duplicates, score each distinct edge
   (:meth:`dedup.signatures.Lookup.similarity`), drop the edges below the threshold;
3. connected components by alternating *large-star* and *small-star* (Kiveris et al., "Connected
   Components in MapReduce and Beyond", 2014): each step is one hash partition by node and one vectorised
   pass; a component converges to a star around its smallest node in O(log² n) rounds. Every emitted edge
   carries a ``changed`` flag; the driver only sums them, and stops when a round changes nothing;
4. ``(node, root)`` rows, hash-partitioned by root, so each cluster lies within one block: keeper and
   similarity per cluster with :func:`dedup.clusters.select_keepers`, as the local backend does.

Neither the driver nor any one task ever holds all signatures or all edges. Blocks of a hash partition
are consumed whole (``batch_size=None``), the same guarantee ``GroupedData.map_groups`` relies on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from dedup.clusters import MEMBER_SCHEMA, members_table, select_keepers
from dedup.signatures import Lookup

if TYPE_CHECKING:
    import ray.data

__all__ = ["cluster_ray", "connected_components_ray"]

_EDGE = pa.schema([pa.field("hi", pa.int64()), pa.field("lo", pa.int64())])
_FLAGGED = _EDGE.append(pa.field("changed", pa.int64()))
_DIRECTED = pa.schema([pa.field("u", pa.int64()), pa.field("v", pa.int64())])
_ROOTED = pa.schema([pa.field("node", pa.int64()), pa.field("root", pa.int64())])


def _np(table: pa.Table, column: str) -> np.ndarray:
    return table.column(column).to_numpy()


def _explode(batch: pa.Table, key_columns: Sequence[str]) -> pa.Table:
    node = _np(batch, "node")
    n = len(node)
    return pa.table(
        {
            "band": pa.array(np.repeat(np.arange(len(key_columns), dtype=np.int32), n)),
            "key": pa.array(np.concatenate([_np(batch, c) for c in key_columns]) if n else [], pa.uint64()),
            "node": pa.array(np.tile(node, len(key_columns)), pa.int64()),
        }
    )


def _stars(batch: pa.Table) -> pa.Table:
    from dedup.clusters import star_edges

    band, key, node = _np(batch, "band"), _np(batch, "key"), _np(batch, "node")
    if len(node) == 0:
        return _EDGE.empty_table()
    order = np.lexsort((key, band))
    band, key = band[order], key[order]
    change = np.ones(len(key), bool)
    change[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    group = np.empty(len(key), np.int64)
    group[order] = np.cumsum(change) - 1
    center, member = star_edges(group, node)
    return pa.table({"hi": member, "lo": center}, schema=_EDGE)


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(a) == 0:
        return a, b
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    keep = np.ones(len(a), bool)
    keep[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[keep], b[keep]


def _distinct_verified(batch: pa.Table, lookup: Lookup, threshold: float, ngram: int) -> pa.Table:
    hi, lo = _unique_pairs(_np(batch, "hi"), _np(batch, "lo"))
    sims = lookup.similarity(lo, hi, ngram)
    keep = sims >= threshold
    return pa.table({"hi": hi[keep], "lo": lo[keep]}, schema=_EDGE)


def _both_directions(batch: pa.Table) -> pa.Table:
    hi, lo = _np(batch, "hi"), _np(batch, "lo")
    return pa.table({"u": np.concatenate([lo, hi]), "v": np.concatenate([hi, lo])}, schema=_DIRECTED)


def _as_directed(batch: pa.Table) -> pa.Table:
    return pa.table({"u": batch.column("hi"), "v": batch.column("lo")}, schema=_DIRECTED)


def _group_starts(u: np.ndarray) -> np.ndarray:
    start = np.ones(len(u), bool)
    start[1:] = u[1:] != u[:-1]
    return np.maximum.accumulate(np.where(start, np.arange(len(u)), 0))


def _large_star(batch: pa.Table) -> pa.Table:
    # For each node u: every larger neighbour v is re-attached to m = min(u, neighbours of u).
    u, v = _unique_pairs(_np(batch, "u"), _np(batch, "v"))
    if len(u) == 0:
        return _FLAGGED.empty_table()
    m = np.minimum(v[_group_starts(u)], u)  # rows sorted by (u, v): a group's first v is its smallest
    larger = v > u
    return pa.table(
        {"hi": v[larger], "lo": m[larger], "changed": (m[larger] < u[larger]).astype(np.int64)},
        schema=_FLAGGED,
    )


def _small_star(batch: pa.Table) -> pa.Table:
    # For each node u and its smaller neighbours N: u and all of N are attached to m = min(N).
    u, v = _unique_pairs(_np(batch, "u"), _np(batch, "v"))
    if len(u) == 0:
        return _FLAGGED.empty_table()
    first = _group_starts(u)
    m = v[first]
    is_first = first == np.arange(len(u))
    others = ~is_first  # (v, m) for each v in N other than m: edges that were not there before
    hi = np.concatenate([u[is_first], v[others]])
    lo = np.concatenate([m[is_first], m[others]])
    changed = np.concatenate([np.zeros(is_first.sum(), np.int64), np.ones(others.sum(), np.int64)])
    return pa.table({"hi": hi, "lo": lo, "changed": changed}, schema=_FLAGGED)


def _rooted(batch: pa.Table) -> pa.Table:
    hi, lo = _np(batch, "hi"), _np(batch, "lo")
    return pa.table({"node": np.concatenate([hi, lo]), "root": np.concatenate([lo, lo])}, schema=_ROOTED)


def _step(ds: ray.data.Dataset, prepare: object, fn: object, partitions: int) -> tuple[ray.data.Dataset, int]:
    flagged = (
        ds.map_batches(prepare, batch_format="pyarrow", batch_size=None)
        .repartition(partitions, keys=["u"], sort=True)
        .map_batches(fn, batch_format="pyarrow", batch_size=None)
        .materialize()
    )
    # One tiny task per materialised block, run where the block lives; a Dataset.sum() would start a
    # whole Ray Data execution (seconds) with a hash aggregation, for one number.
    import ray

    count = ray.remote(_count_changed)
    changed = sum(ray.get([count.remote(ref) for ref in flagged.to_arrow_refs()]))
    return flagged.drop_columns(["changed"]), int(changed)


def _count_changed(block: pa.Table) -> int:
    return int(np.sum(block.column("changed").to_numpy())) if block.num_rows else 0


def connected_components_ray(
    edges: ray.data.Dataset, partitions: int, max_rounds: int = 200
) -> tuple[ray.data.Dataset, list[tuple[int, int]]]:
    """Components of ``edges`` (``hi``, ``lo``) as ``(node, root)`` rows, root the smallest node.

    Returns the rows (a node may appear more than once) and the changed-edge counts of each round.
    """
    history: list[tuple[int, int]] = []
    ds = edges
    for _ in range(max_rounds):
        ds, large = _step(ds, _both_directions, _large_star, partitions)
        ds, small = _step(ds, _as_directed, _small_star, partitions)
        history.append((large, small))
        if large == 0 and small == 0:
            return ds.map_batches(_rooted, batch_format="pyarrow", batch_size=None), history
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds: {history[-3:]}")


def _keepers(batch: pa.Table, lookup: Lookup, priority: str, reason: str, ngram: int | None) -> pa.Table:
    """Keeper and similarity of every cluster in one block of ``(node, root)`` rows."""
    root, node = _unique_pairs(_np(batch, "root"), _np(batch, "node"))
    if len(node) == 0:
        return MEMBER_SCHEMA.empty_table()
    table = select_keepers(pa.table({"label": root, "node": node, **lookup.attributes(node, priority)}))
    nodes = _np(table, "node")
    keeper = nodes[_np(table, "keeper_row")]
    sim = np.ones(len(nodes))
    others = nodes != keeper
    sim[others] = lookup.similarity(nodes[others], keeper[others], ngram)
    return members_table(table, sim, reason)


def cluster_ray(
    nodes: ray.data.Dataset,
    key_columns: Sequence[str],
    reason: str,
    lookup: Lookup,
    *,
    priority: str = "score",
    verify: float | None = None,
    ngram: int = 5,
    partitions: int = 8,
) -> tuple[ray.data.Dataset, list[tuple[int, int]]]:
    """Clusters of ``nodes`` (columns ``node`` and ``key_columns``) as a dataset of
    :data:`~dedup.clusters.MEMBER_SCHEMA` rows, plus the per-round counts of the components loop."""
    import ray.data
    from ray.data.context import ShuffleStrategy

    ctx = ray.data.DataContext.get_current()
    if ctx.shuffle_strategy not in (ShuffleStrategy.HASH_SHUFFLE, ShuffleStrategy.SHUFFLE_V2):
        # Only a hash shuffle with sorted output puts each key in exactly one block.
        ctx.shuffle_strategy = ShuffleStrategy.HASH_SHUFFLE
    edges = (
        nodes.map_batches(_explode, batch_format="pyarrow", fn_kwargs={"key_columns": list(key_columns)})
        .repartition(partitions, keys=["band", "key"], sort=True)
        .map_batches(_stars, batch_format="pyarrow", batch_size=None)
    )
    if verify is not None:
        edges = edges.repartition(partitions, keys=["hi", "lo"], sort=True).map_batches(
            _distinct_verified,
            batch_format="pyarrow",
            batch_size=None,
            fn_kwargs={"lookup": lookup, "threshold": verify, "ngram": ngram},
        )
    rooted, history = connected_components_ray(edges, partitions)
    members = rooted.repartition(partitions, keys=["root"], sort=True).map_batches(
        _keepers,
        batch_format="pyarrow",
        batch_size=None,
        fn_kwargs={
            "lookup": lookup,
            "priority": priority,
            "reason": reason,
            "ngram": ngram if verify is not None else None,
        },
    )
    return members, history
