"""The signatures folder: one Parquet file per input shard with everything clustering needs.

``signatures/<file_index>.parquet`` holds, per kept document of input shard ``file_index`` and in its
row order: ``node`` (``file_index << 32 | row``), ``id``, ``score`` (the keep score, -inf when missing),
``fetched`` (WARC date as epoch seconds, -inf when missing), ``url_key`` and ``exact_key`` (uint64 hashes
of the normalised URL and text), one uint64 column per LSH band (``b00``, ``b01``, ...) and the MinHash
``signature``. Rows are written in fixed-size row groups, so the files do not depend on the batch size.

:class:`Lookup` fetches texts, signatures and attributes of arbitrary nodes back from the shards; both
backends use it, and it pickles as a few paths, so Ray workers use it too.
"""

from __future__ import annotations

import hashlib
import math
import os
import posixpath
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dedup.exact import exact_key, normalize_url
from dedup.lsh import band_keys
from dedup.minhash import MinHasher

__all__ = ["NODE_BITS", "ROW_GROUP", "Lookup", "SignatureParams", "band_columns", "sig_schema", "sign_shard"]

NODE_BITS = 32  # rows per input shard < 2**32
PINNED_BASE = 1 << 62  # nodes of an older run's index: above every node of this run
ROW_GROUP = 4096
INPUT_COLUMNS = ["id", "url", "warc_date", "text", "scores"]


@dataclass(frozen=True)
class SignatureParams:
    """MinHash and LSH parameters; an index is only comparable under equal parameters."""

    num_perm: int = 112
    seed: int = 1
    ngram: int = 5
    bands: int = 14
    rows: int = 8
    keep_score: str = "quality"

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")

    def comparable(self) -> dict[str, int]:
        """The parameters that must match between a run and an index."""
        return {
            "num_perm": self.num_perm,
            "seed": self.seed,
            "ngram": self.ngram,
            "bands": self.bands,
            "rows": self.rows,
        }


def band_columns(bands: int) -> list[str]:
    """Names of the band key columns."""
    return [f"b{i:02d}" for i in range(bands)]


def sig_schema(params: SignatureParams) -> pa.Schema:
    """Schema of a signatures file."""
    fields = [
        pa.field("node", pa.int64(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("fetched", pa.float64(), nullable=False),
        pa.field("url_key", pa.uint64(), nullable=False),
        pa.field("exact_key", pa.uint64(), nullable=False),
        *(pa.field(c, pa.uint64(), nullable=False) for c in band_columns(params.bands)),
        pa.field("signature", pa.list_(pa.uint64(), params.num_perm), nullable=False),
    ]
    return pa.schema(fields)


def hash64(value: Any) -> int:
    """A stable uint64 of a key (an int is taken as is, modulo 2**64; anything else is hashed)."""
    if isinstance(value, (int, np.integer)):
        return int(value) & 0xFFFFFFFFFFFFFFFF
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _score(pairs: list[tuple[str, float]] | None, name: str) -> float:
    for key, value in pairs or []:
        if key == name and value is not None and not math.isnan(value):
            return float(value)
    return -math.inf


def sign_batch(
    batch: pa.Table, first_row: int, file_index: int, params: SignatureParams, hasher: MinHasher
) -> pa.Table:
    """Signature rows of one batch of an input shard whose first row is ``first_row``."""
    texts = batch.column("text").to_pylist()
    sigs = hasher.signatures(texts)
    keys = (
        band_keys(sigs, params.bands, params.rows) if len(texts) else np.empty((0, params.bands), np.uint64)
    )
    dates = pc.cast(batch.column("warc_date"), pa.timestamp("us", tz="UTC")).cast(pa.int64())
    fetched = np.where(
        pc.is_null(dates).to_numpy(zero_copy_only=False),
        -math.inf,
        dates.fill_null(0).to_numpy().astype(np.float64) / 1e6,
    )
    columns: dict[str, Any] = {
        "node": pa.array((file_index << NODE_BITS) + first_row + np.arange(len(texts)), pa.int64()),
        "id": batch.column("id"),
        "score": pa.array([_score(s, params.keep_score) for s in batch.column("scores").to_pylist()]),
        "fetched": pa.array(fetched, pa.float64()),
        "url_key": pa.array([hash64(normalize_url(u)) for u in batch.column("url").to_pylist()], pa.uint64()),
        "exact_key": pa.array([hash64(exact_key(t)) for t in texts], pa.uint64()),
    }
    for i, name in enumerate(band_columns(params.bands)):
        columns[name] = pa.array(keys[:, i], pa.uint64())
    flat = pa.array(sigs.reshape(-1), pa.uint64())
    columns["signature"] = pa.FixedSizeListArray.from_arrays(flat, params.num_perm)
    return pa.table(columns, schema=sig_schema(params))


class FixedRowGroupWriter:
    """A Parquet writer that cuts row groups at fixed row counts, so output bytes never depend on how
    the rows were batched; commits by renaming ``<path>.tmp`` to ``path``."""

    def __init__(self, path: str, schema: pa.Schema, row_group: int = ROW_GROUP) -> None:
        self.path = path
        self.row_group = row_group
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self.rows = 0
        os.makedirs(posixpath.dirname(path) or ".", exist_ok=True)
        self._writer = pq.ParquetWriter(path + ".tmp", schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._buffer.append(table)
        self._buffered += table.num_rows
        self.rows += table.num_rows
        if self._buffered >= self.row_group:
            self._drain(final=False)

    def _drain(self, final: bool) -> None:
        table = pa.concat_tables(self._buffer) if self._buffer else None
        self._buffer, self._buffered = [], 0
        if table is None:
            return
        cut = table.num_rows if final else table.num_rows - table.num_rows % self.row_group
        if cut:
            self._writer.write_table(table.slice(0, cut), row_group_size=self.row_group)
        if cut < table.num_rows:
            self._buffer, self._buffered = [table.slice(cut)], table.num_rows - cut

    def close(self) -> None:
        self._drain(final=True)
        self._writer.close()
        os.replace(self.path + ".tmp", self.path)


def sign_shard(
    path: str, file_index: int, out_path: str, params: SignatureParams, batch_rows: int = 1024
) -> int:
    """Write the signatures file of one input shard; returns its row count."""
    hasher = MinHasher(num_perm=params.num_perm, seed=params.seed, ngram=params.ngram)
    shard = pq.ParquetFile(path)
    if shard.metadata.num_rows >= 1 << NODE_BITS:
        raise ValueError(f"{path}: more than 2**{NODE_BITS} rows in one shard")
    writer = FixedRowGroupWriter(out_path, sig_schema(params))
    row = 0
    for rb in shard.iter_batches(batch_size=batch_rows, columns=INPUT_COLUMNS):
        batch = pa.Table.from_batches([rb])
        writer.write(sign_batch(batch, row, file_index, params, hasher))
        row += batch.num_rows
    writer.close()
    return row


class Lookup:
    """Reads texts, signatures and attributes of given nodes back from the shards.

    ``sources`` and ``signatures`` are the input shards and their signatures files by file index;
    ``pinned`` is an older run's index (nodes ``PINNED_BASE + row``). Recently read columns are cached,
    so lookups sorted by node read each file about once.
    """

    def __init__(
        self,
        sources: Sequence[str],
        signatures: Sequence[str],
        pinned: Sequence[str] = (),
        cache_files: int = 4,
    ) -> None:
        self.sources = list(sources)
        self.signatures = list(signatures)
        self.pinned = list(pinned)
        self.cache_files = cache_files
        self._cache: OrderedDict[tuple[str, str], pa.Array] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": OrderedDict()}

    def _column(self, path: str, column: str) -> pa.Array:
        key = (path, column)
        if key not in self._cache:
            self._cache[key] = pq.read_table(path, columns=[column]).column(column).combine_chunks()
            while len(self._cache) > self.cache_files:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    def _pinned_column(self, column: str) -> pa.Array:
        key = ("<pinned>", column)
        if key not in self._cache:
            tables = [pq.read_table(p, columns=[column]) for p in self.pinned]
            self._cache[key] = pa.concat_tables(tables).column(column).combine_chunks()
        return self._cache[key]

    def _gather(
        self, nodes: np.ndarray, files: Sequence[str], column: str, pinned_column: str | None
    ) -> list:
        nodes = np.asarray(nodes, np.int64)
        out: list[Any] = [None] * len(nodes)
        pinned = nodes >= PINNED_BASE
        if pinned.any() and pinned_column is not None:
            values = self._pinned_column(pinned_column)
            idx = np.flatnonzero(pinned)
            for i, v in zip(idx, values.take(pa.array(nodes[idx] - PINNED_BASE)).to_pylist(), strict=True):
                out[i] = v
        local = np.flatnonzero(~pinned)
        file_of = nodes[local] >> NODE_BITS
        for f in np.unique(file_of):
            idx = local[file_of == f]
            rows = nodes[idx] & ((1 << NODE_BITS) - 1)
            values = self._column(files[int(f)], column).take(pa.array(rows)).to_pylist()
            for i, v in zip(idx, values, strict=True):
                out[i] = v
        return out

    def texts(self, nodes: np.ndarray) -> list[str | None]:
        """Texts of ``nodes``; ``None`` for an older run's documents (an index keeps no texts)."""
        return self._gather(nodes, self.sources, "text", None)

    def urls(self, nodes: np.ndarray) -> list[str | None]:
        """URLs of ``nodes``; ``None`` for an older run's documents."""
        return self._gather(nodes, self.sources, "url", None)

    def signature_array(self, nodes: np.ndarray) -> np.ndarray:
        """Signatures of ``nodes`` as a uint64 array ``(len(nodes), num_perm)``."""
        rows = self._gather(nodes, self.signatures, "signature", "signature")
        return np.array(rows, dtype=np.uint64).reshape(len(rows), -1)

    def similarity(self, a: np.ndarray, b: np.ndarray, ngram: int | None) -> np.ndarray:
        """Exact shingle Jaccard of node pairs when ``ngram`` is set (signature estimate where a text is
        unknown), else the signature estimate."""
        from dedup.clusters import pair_similarity

        if len(a) == 0:
            return np.empty(0, np.float64)
        texts_a = self.texts(a) if ngram else [None] * len(a)
        texts_b = self.texts(b) if ngram else [None] * len(b)
        return pair_similarity(texts_a, texts_b, self.signature_array(a), self.signature_array(b), ngram)

    def attributes(self, nodes: np.ndarray, priority: str) -> dict[str, pa.Array]:
        """``id``, ``priority`` (the ``score`` or ``fetched`` column), ``pinned`` and ``cluster_id`` (an
        older run's, else null) of ``nodes``: the columns :func:`dedup.clusters.select_keepers` reads."""
        nodes = np.asarray(nodes, np.int64)
        pinned = nodes >= PINNED_BASE
        cluster: list[str | None] = [None] * len(nodes)
        if pinned.any():
            idx = np.flatnonzero(pinned)
            values = self._pinned_column("cluster_id").take(pa.array(nodes[idx] - PINNED_BASE)).to_pylist()
            for i, v in zip(idx, values, strict=True):
                cluster[i] = v
        return {
            "id": pa.array(self._gather(nodes, self.signatures, "id", "id"), pa.string()),
            "priority": pa.array(self._gather(nodes, self.signatures, priority, priority), pa.float64()),
            "pinned": pa.array(pinned),
            "cluster_id": pa.array(cluster, pa.string()),
        }
