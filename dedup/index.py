"""The dedup index: the kept documents of a run, so a later dump is deduplicated without recomputing it.

``index/part-00000.parquet`` ... hold the signatures-file columns (:func:`dedup.signatures.sig_schema`:
band keys, exact and URL keys, scores, signature) of every document a run kept, plus ``cluster_id``
(the cluster the document keeps, or its own id). The MinHash parameters are stored in the schema
metadata; an index made with other parameters is refused, because its band keys would never collide.

An index is cumulative: a run given ``--index`` writes the old index's rows followed by its own kept
documents, so dump C can be deduplicated against A and B with B's index. Texts are not stored, so
verification against an index uses the signature estimate of the Jaccard similarity.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dedup.signatures import FixedRowGroupWriter, SignatureParams, sig_schema

__all__ = ["index_files", "index_schema", "write_index"]

_META_KEY = b"ccsieve.dedup_params"


def index_schema(params: SignatureParams) -> pa.Schema:
    """Schema of an index file: the signatures columns plus ``cluster_id``, parameters in metadata."""
    schema = sig_schema(params).append(pa.field("cluster_id", pa.string(), nullable=False))
    return schema.with_metadata({_META_KEY: json.dumps(params.comparable(), sort_keys=True).encode()})


def index_files(path: str, params: SignatureParams) -> list[str]:
    """The files of the index at ``path``, checked against ``params``."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"--index {path}: no such folder")
    files = sorted(posixpath.join(path, f) for f in os.listdir(path) if f.endswith(".parquet"))
    if not files:
        raise ValueError(f"--index {path}: no index files (part-*.parquet) in it")
    want = params.comparable()
    for file in files:
        meta = pq.read_schema(file).metadata or {}
        if _META_KEY not in meta:
            raise ValueError(f"{file}: not a ccsieve dedup index (no parameters in its metadata)")
        have = json.loads(meta[_META_KEY])
        if have != want:
            raise ValueError(f"{file}: index made with {have}, this run uses {want}; use the same parameters")
    return files


def write_index(
    path: str,
    params: SignatureParams,
    old_files: Sequence[str],
    sig_files: Sequence[str],
    removed: np.ndarray,
    keeper_clusters: dict[int, str],
) -> int:
    """Write the index of a run: the old index's rows, then every kept document of ``sig_files``.

    ``removed`` (sorted nodes) are left out; ``keeper_clusters`` maps a keeper's node to its cluster id
    (other kept documents are their own cluster). Returns the number of rows written.
    """
    os.makedirs(path, exist_ok=True)
    for stale in (f for f in os.listdir(path) if f.endswith(".parquet")):
        os.remove(posixpath.join(path, stale))
    schema = index_schema(params)
    writer = FixedRowGroupWriter(posixpath.join(path, "part-00000.parquet"), schema)
    for file in old_files:
        writer.write(pq.read_table(file).select(schema.names).cast(schema))
    for file in sig_files:
        table = pq.read_table(file)
        nodes = table.column("node").to_numpy()
        table = table.filter(pa.array(~np.isin(nodes, removed)))
        own = table.column("id").to_pylist()
        kept_nodes = table.column("node").to_numpy()
        cluster = [keeper_clusters.get(int(n), i) for n, i in zip(kept_nodes, own, strict=True)]
        writer.write(table.append_column("cluster_id", pa.array(cluster, pa.string())).cast(schema))
    writer.close()
    return writer.rows
