"""Atomic Parquet output, one input file at a time.

Layout of an output folder::

    data/<key>-00000.parquet        kept documents (ARROW_SCHEMA), zstd, ~shard_mb each
    dropped/<key>.parquet           one row per dropped record: stage, reason, detail
    quarantine/<key>.parquet        the failed records among them, with their payload
    _markers/<key>.json             written last: this input file is complete, with its stats
    _tmp/<key>/                     work in progress; never read, removed on commit or restart

Files are written under ``_tmp`` and renamed to their final names on commit; the marker comes last.
A crash at any point leaves either a marker (complete) or no marker, in which case the next run
removes whatever final files of that key exist and does the file again.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import SinkConfig
from pipeline.document import (
    ARROW_SCHEMA,
    DROP_SCHEMA,
    Document,
    DropRecord,
    drops_to_table,
    to_table,
)

__all__ = ["OutputLayout", "SourceWriter", "source_key"]


def source_key(source: str) -> str:
    """A file-name-safe key for an input: its stem plus a hash of the full path or URL."""
    stem = posixpath.basename(source.rstrip("/"))
    for suffix in (".gz", ".warc", ".arc"):
        stem = stem.removesuffix(suffix)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80] or "input"
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:10]
    return f"{stem}-{digest}"


@dataclass
class OutputLayout:
    """Where everything of one run lives; works for local paths and fsspec URLs."""

    root: str
    fs: fsspec.AbstractFileSystem = field(init=False)
    path: str = field(init=False)

    def __post_init__(self) -> None:
        self.fs, self.path = fsspec.core.url_to_fs(self.root)

    def join(self, *parts: str) -> str:
        return posixpath.join(self.path, *parts)

    def marker(self, key: str) -> str:
        return self.join("_markers", f"{key}.json")

    def read_marker(self, key: str) -> dict[str, Any] | None:
        path = self.marker(key)
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "r") as fh:
            return json.load(fh)

    def markers(self) -> list[dict[str, Any]]:
        folder = self.join("_markers")
        if not self.fs.exists(folder):
            return []
        result = []
        for path in sorted(self.fs.glob(posixpath.join(folder, "*.json"))):
            with self.fs.open(path, "r") as fh:
                result.append(json.load(fh))
        return result

    def shard_files(self) -> list[str]:
        return sorted(self.fs.glob(self.join("data", "*.parquet")))

    def clear_source(self, key: str) -> None:
        """Remove every trace of an unfinished input so it can be done again from scratch."""
        for pattern in (f"data/{key}-*.parquet", f"dropped/{key}.parquet", f"quarantine/{key}.parquet"):
            for path in self.fs.glob(self.join(pattern)):
                self.fs.rm(path)
        tmp = self.join("_tmp", key)
        if self.fs.exists(tmp):
            self.fs.rm(tmp, recursive=True)


class SourceWriter:
    """Writes the kept and dropped records of one input file; nothing is final before :meth:`commit`."""

    def __init__(self, layout: OutputLayout, key: str, config: SinkConfig) -> None:
        self.layout = layout
        self.key = key
        self.config = config
        self.rows = 0
        self._tmp = layout.join("_tmp", key)
        self._shards: list[str] = []
        self._writer: pq.ParquetWriter | None = None
        self._stream: Any = None
        self._shard_bytes = 0
        self._pending: list[Document] = []
        self._drops: list[DropRecord] = []
        layout.clear_source(key)
        layout.fs.makedirs(self._tmp, exist_ok=True)

    def _open_shard(self) -> None:
        name = f"{self.key}-{len(self._shards):05d}.parquet"
        self._shards.append(name)
        self._stream = self.layout.fs.open(posixpath.join(self._tmp, name), "wb")
        self._writer = pq.ParquetWriter(
            self._stream,
            ARROW_SCHEMA,
            compression=self.config.compression,
            compression_level=self.config.compression_level,
        )
        self._shard_bytes = 0

    def _close_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._stream.close()
            self._writer = None
            self._stream = None

    def _flush(self) -> None:
        if not self._pending:
            return
        table = to_table(self._pending)
        self._pending = []
        if self._writer is None:
            self._open_shard()
        assert self._writer is not None
        self._writer.write_table(table, row_group_size=self.config.row_group_rows)
        self._shard_bytes += table.nbytes
        if self._shard_bytes >= self.config.shard_mb * (1 << 20):
            self._close_shard()

    def write(self, docs: list[Document], drops: list[DropRecord]) -> None:
        self._pending.extend(docs)
        self._drops.extend(drops)
        self.rows += len(docs)
        if len(self._pending) >= self.config.row_group_rows:
            self._flush()

    def commit(self, marker: dict[str, Any]) -> dict[str, Any]:
        """Make the outputs final and write the completion marker (last)."""
        self._flush()
        self._close_shard()
        fs = self.layout.fs
        drops_table = drops_to_table(self._drops)
        self._write_small("dropped", drops_table.drop_columns(["payload"]))
        quarantined = drops_table.filter(pa.compute.field("quarantined"))
        if quarantined.num_rows:
            self._write_small("quarantine", quarantined)
        for name in self._shards:
            fs.makedirs(self.layout.join("data"), exist_ok=True)
            fs.mv(posixpath.join(self._tmp, name), self.layout.join("data", name))
        marker = {**marker, "key": self.key, "rows": self.rows, "shards": list(self._shards)}
        marker_tmp = posixpath.join(self._tmp, "marker.json")
        with fs.open(marker_tmp, "w") as fh:
            json.dump(marker, fh, indent=1, sort_keys=True)
        fs.makedirs(self.layout.join("_markers"), exist_ok=True)
        fs.mv(marker_tmp, self.layout.marker(self.key))
        fs.rm(self._tmp, recursive=True)
        return marker

    def _write_small(self, folder: str, table: pa.Table) -> None:
        name = f"{folder}.parquet"
        with self.layout.fs.open(posixpath.join(self._tmp, name), "wb") as fh:
            pq.write_table(table, fh, compression=self.config.compression)
        self.layout.fs.makedirs(self.layout.join(folder), exist_ok=True)
        self.layout.fs.mv(posixpath.join(self._tmp, name), self.layout.join(folder, f"{self.key}.parquet"))

    def abort(self) -> None:
        self._close_shard()
        self.layout.clear_source(self.key)


DROPPED_SCHEMA = DROP_SCHEMA.remove(DROP_SCHEMA.get_field_index("payload"))
