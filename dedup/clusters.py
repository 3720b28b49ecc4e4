"""Candidate pairs → connected components → one keeper per cluster: the local (numpy) backend.

Every dedup stage is the same computation over different bucket keys: MinHash (one key column per LSH
band), exact text (one column: a hash of the normalised text) and URL (one column: a hash of the
normalised URL). Documents sharing a key in any column are candidates; each bucket contributes *star*
edges (its smallest node to each other member), so a bucket of ``k`` documents gives ``k - 1`` edges
instead of ``k (k - 1) / 2``. Connected components of those edges are the clusters. A star connects a
bucket exactly as all its pairs would, so the clusters are those of the all-pairs graph.

Optional verification computes the real Jaccard similarity of each distinct candidate edge and drops the
edges below the threshold *before* components are formed (LSH false positives never merge two clusters).
It needs the texts of every document that has a candidate edge.

The keeper of a cluster: pinned documents first (those of an older run's index, see :mod:`dedup.index`),
then the highest ``priority`` (a quality score, or the fetch time for URL dedup; missing = -inf), then the
lowest ``id``, then the lowest node. :func:`select_keepers` is shared with the Ray backend
(:mod:`dedup.ray_clusters`) so both pick the same keeper.

Nodes are int64 document numbers, ``file_index << 32 | row`` over the sorted input shards: unique,
independent of batch sizes and worker counts, and cheap to sort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from dedup.normalize import shingles

__all__ = [
    "MEMBER_SCHEMA",
    "NodeTable",
    "SimilarityFn",
    "cluster_local",
    "connect",
    "jaccard",
    "pair_similarity",
    "select_keepers",
    "signature_similarity",
    "star_edges",
]

# One row per document of a cluster with at least two members (singletons are implicit).
MEMBER_SCHEMA = pa.schema(
    [
        pa.field("node", pa.int64(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("cluster_id", pa.string(), nullable=False),  # the keeper's id (or an old run's cluster)
        pa.field("is_keeper", pa.bool_(), nullable=False),
        pa.field("similarity", pa.float64(), nullable=False),  # Jaccard to the keeper (1.0 for it)
        pa.field("reason", pa.string(), nullable=False),  # minhash | exact | url | index
    ]
)

# Maps (node array, node array) to the similarity of each pair.
SimilarityFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

_KEEPER_ORDER = [
    ("label", "ascending"),
    ("pinned", "descending"),
    ("priority", "descending"),
    ("id", "ascending"),
    ("node", "ascending"),
]


def star_edges(keys: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Star edges of the buckets of one key column: ``(center, member)`` with ``center < member``.

    ``keys[i]`` is the bucket of ``nodes[i]``; the center of a bucket is its smallest node.
    """
    if len(keys) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty
    order = np.lexsort((nodes, keys))
    k, nd = keys[order], nodes[order]
    start = np.empty(len(k), bool)
    start[0] = True
    np.not_equal(k[1:], k[:-1], out=start[1:])
    first = np.maximum.accumulate(np.where(start, np.arange(len(k)), 0))
    member = ~start
    return nd[first][member], nd[member]


def _compress(label: np.ndarray) -> None:
    # Pointer jumping: labels only ever point to smaller indices, so this ends at the roots.
    while True:
        nxt = label[label]
        if np.array_equal(nxt, label):
            return
        label[:] = nxt


def connect(label: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Merge the components of edges ``a[i] — b[i]`` into ``label`` (dense indices), in place.

    Hook-and-compress: every root is hooked under the smallest root it shares an edge with, then all
    labels jump to their roots; repeated until every edge joins equal labels. Afterwards each label is
    the smallest index of its component, whatever the order of the edges.
    """
    _compress(label)
    while len(a):
        la, lb = label[a], label[b]
        differ = la != lb
        if not differ.any():
            return
        a, b, la, lb = a[differ], b[differ], la[differ], lb[differ]
        np.minimum.at(label, np.maximum(la, lb), np.minimum(la, lb))
        _compress(label)


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    """Jaccard similarity of two shingle lists as sets (two empty texts are identical)."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def signature_similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """The MinHash estimate of Jaccard similarity: the share of equal permutations, row by row."""
    if len(sig_a) == 0:
        return np.empty(0, np.float64)
    return (np.asarray(sig_a) == np.asarray(sig_b)).mean(axis=1)


def pair_similarity(
    texts_a: Sequence[str | None],
    texts_b: Sequence[str | None],
    sig_a: np.ndarray,
    sig_b: np.ndarray,
    ngram: int | None,
) -> np.ndarray:
    """Similarity of each pair: exact shingle Jaccard when ``ngram`` is set and both texts are known,
    else the signature estimate (an older run's index keeps signatures, not texts)."""
    result = signature_similarity(sig_a, sig_b)
    if ngram is None:
        return result
    cache: dict[str, list[str]] = {}

    def sh(text: str) -> list[str]:
        if text not in cache:
            cache[text] = shingles(text, ngram)
        return cache[text]

    for i, (ta, tb) in enumerate(zip(texts_a, texts_b, strict=True)):
        if ta is not None and tb is not None:
            result[i] = jaccard(sh(ta), sh(tb))
    return result


def select_keepers(table: pa.Table) -> pa.Table:
    """Keeper of each cluster of ``table`` (columns label, node, id, priority, pinned, cluster_id).

    Returns the rows sorted by (label, keeper order) with ``is_keeper``, ``keeper_row`` (the row of the
    cluster's keeper in the returned table) and the final ``cluster_id``: the keeper's own cluster id when
    it is pinned (an older run's), else the keeper's document id.
    """
    table = table.take(pc.sort_indices(table, sort_keys=_KEEPER_ORDER))
    label = table.column("label").to_numpy()
    n = len(label)
    start = np.ones(n, bool)
    if n:
        np.not_equal(label[1:], label[:-1], out=start[1:])
    keeper_row = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    ids = table.column("id")
    old = table.column("cluster_id")
    own = pc.if_else(pc.is_null(old), ids, old).take(pa.array(keeper_row))
    table = table.drop_columns(["cluster_id"])
    table = table.append_column("is_keeper", pa.array(start))
    table = table.append_column("keeper_row", pa.array(keeper_row, pa.int64()))
    return table.append_column("cluster_id", own)


@dataclass
class NodeTable:
    """The documents of one local clustering, sorted by node.

    ``keys(column)`` returns that key column aligned with ``node``; it is called once per column so
    only one band's keys are in memory at a time.
    """

    node: np.ndarray  # int64, ascending, unique
    id: pa.Array  # string
    priority: np.ndarray  # float64, -inf when missing
    pinned: np.ndarray  # bool: documents of an older run's index
    cluster_id: pa.Array  # string, null except for pinned documents
    keys: Callable[[str], np.ndarray]

    def __post_init__(self) -> None:
        if len(self.node) > 1 and not (np.diff(self.node) > 0).all():
            raise ValueError("nodes must be unique and sorted")


def cluster_local(
    nodes: NodeTable,
    key_columns: Sequence[str],
    reason: str,
    similarity: SimilarityFn,
    *,
    verify: float | None = None,
    progress: bool = True,
) -> pa.Table:
    """Clusters of ``nodes`` over ``key_columns``, as rows of :data:`MEMBER_SCHEMA`.

    ``similarity(a, b)`` gives the similarity of node pairs: it verifies candidate edges when ``verify``
    is set (edges below it are dropped before components are formed) and fills ``similarity`` (to the
    keeper). Members of a cluster kept by a pinned document get reason ``index``; pinned documents
    themselves are not returned.
    """
    n = len(nodes.node)
    label = np.arange(n, dtype=np.int64)
    dense = np.arange(n, dtype=np.int64)
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    for column in tqdm(key_columns, desc=f"dedup[{reason}] buckets", unit="key", disable=not progress):
        center, member = star_edges(nodes.keys(column), dense)
        if verify is None:
            connect(label, center, member)
        else:
            pending.append((center, member))
    if verify is not None and pending:
        # Each distinct candidate edge is verified once, whatever number of bands proposed it.
        edges = np.unique(np.stack([np.concatenate(p) for p in zip(*pending, strict=True)], axis=1), axis=0)
        sims = similarity(nodes.node[edges[:, 0]], nodes.node[edges[:, 1]]) if len(edges) else []
        keep = np.asarray(sims) >= verify
        connect(label, edges[keep, 0], edges[keep, 1])
    _compress(label)
    sizes = np.bincount(label, minlength=n)
    rows = np.flatnonzero(sizes[label] > 1)
    table = pa.table(
        {
            "label": pa.array(label[rows]),
            "node": pa.array(nodes.node[rows]),
            "id": nodes.id.take(pa.array(rows)),
            "priority": pa.array(nodes.priority[rows]),
            "pinned": pa.array(nodes.pinned[rows]),
            "cluster_id": nodes.cluster_id.take(pa.array(rows)),
        }
    )
    table = select_keepers(table)
    node = table.column("node").to_numpy()
    keeper = node[table.column("keeper_row").to_numpy()]
    sim = np.ones(len(node))
    others = node != keeper
    if others.any():
        sim[others] = similarity(node[others], keeper[others])
    return members_table(table, sim, reason)


def members_table(table: pa.Table, similarity: np.ndarray, reason: str) -> pa.Table:
    """The :data:`MEMBER_SCHEMA` rows of a :func:`select_keepers` result, pinned rows left out."""
    pinned = table.column("pinned").to_numpy(zero_copy_only=False)
    keeper_pinned = pinned[table.column("keeper_row").to_numpy()]
    reasons = np.where(keeper_pinned, "index", reason)
    out = pa.table(
        {
            "node": table.column("node"),
            "id": table.column("id"),
            "cluster_id": table.column("cluster_id"),
            "is_keeper": table.column("is_keeper"),
            "similarity": pa.array(similarity, pa.float64()),
            "reason": pa.array(reasons, pa.string()),
        },
        schema=MEMBER_SCHEMA,
    )
    return out.filter(pa.array(~pinned))
