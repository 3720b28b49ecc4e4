"""Checks of written shards (pyarrow only): schema, ids, texts; and reading their texts for training.

Every problem names the shard file and, where it is about one row, the row number within that file,
so that a bad shard can be found and opened::

    data/x-00000.parquet row 17: duplicate id <urn:uuid:...> (first seen in data/y-00000.parquet row 3)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.document import ARROW_SCHEMA

__all__ = ["ShardCheckError", "ShardReport", "check_shards", "find_shards", "read_shard_texts"]

_WORD = re.compile(r"\S+")
# A shard with thousands of bad rows is reported by its first few; the count says how many there were.
MAX_PROBLEMS = 50


class ShardCheckError(Exception):
    """One or more shards failed the checks; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        more = f"\n... and {self.total - len(self.problems)} more" if self.total > len(self.problems) else ""
        super().__init__("\n".join(self.problems) + more)


@dataclass
class ShardReport:
    """What the checks counted over a set of shards (all of which passed)."""

    files: list[str] = field(default_factory=list)
    rows: int = 0
    words: int = 0
    utf8_bytes: int = 0
    tokens: int | None = None  # filled in once a tokenizer has run over the texts

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "rows": self.rows,
            "words": self.words,
            "utf8_bytes": self.utf8_bytes,
            "tokens": self.tokens,
        }


def find_shards(paths: Iterable[str | Path]) -> list[Path]:
    """The Parquet files named by ``paths``: files as given; a folder's ``data/*.parquet`` when it is a
    ccsieve output folder, else its ``*.parquet``. Sorted within each folder, so the order is stable."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            folder = path / "data" if (path / "data").is_dir() else path
            shards = sorted(folder.glob("*.parquet"))
            if not shards:
                raise ShardCheckError([f"{path}: no .parquet files"])
            found.extend(shards)
        elif path.exists():
            found.append(path)
        else:
            raise ShardCheckError([f"{path}: no such file or folder"])
    return found


def _schema_problems(name: str, schema: pa.Schema) -> list[str]:
    """Differences from ARROW_SCHEMA in field names, order and types (metadata and nullability aside:
    Parquet does not keep non-null flags on every writer)."""
    want = [(f.name, f.type) for f in ARROW_SCHEMA]
    have = [(f.name, f.type) for f in schema]
    if [n for n, _ in have] != [n for n, _ in want]:
        return [f"{name}: columns {[n for n, _ in have]} differ from the shard schema {[n for n, _ in want]}"]
    return [
        f"{name}: column {n!r} has type {t} (schema: {w})"
        for (n, t), (_, w) in zip(have, want, strict=True)
        if not t.equals(w)
    ]


def check_shards(paths: Iterable[str | Path]) -> ShardReport:
    """Check every shard under ``paths``; return the counts, or raise :class:`ShardCheckError` listing
    every problem (unreadable file, schema, null/empty/duplicate id, empty text) by shard and row."""
    files = find_shards(paths)
    report = ShardReport(files=[str(f) for f in files])
    problems: list[str] = []
    total = 0
    seen: dict[str, tuple[str, int]] = {}  # id -> (shard, row) where it first appeared, across shards

    def problem(line: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(line)

    for path in files:
        name = str(path)
        try:
            parquet = pq.ParquetFile(path)
            schema_problems = _schema_problems(name, parquet.schema_arrow)
        except (OSError, pa.ArrowException) as exc:
            problem(f"{name}: not a readable Parquet file ({exc})")
            continue
        if schema_problems:
            for line in schema_problems:
                problem(line)
            continue
        row = 0
        try:
            # Row group by row group: shards are ~256 MB of text, and only two columns are needed.
            for group in range(parquet.num_row_groups):
                table = parquet.read_row_group(group, columns=["id", "text"])
                for doc_id, text in zip(
                    table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True
                ):
                    if not doc_id:
                        problem(f"{name} row {row}: {'null' if doc_id is None else 'empty'} id")
                    elif doc_id in seen:
                        first, first_row = seen[doc_id]
                        problem(
                            f"{name} row {row}: duplicate id {doc_id} (first seen in {first} row {first_row})"
                        )
                    else:
                        seen[doc_id] = (name, row)
                    if not text or not text.strip():
                        problem(f"{name} row {row}: empty text (id {doc_id})")
                    else:
                        report.words += len(_WORD.findall(text))
                        report.utf8_bytes += len(text.encode("utf-8"))
                    row += 1
        except (OSError, pa.ArrowException) as exc:
            problem(f"{name}: not a readable Parquet file ({exc}; after row {row})")
        report.rows += row
    if problems:
        raise ShardCheckError(problems, total)
    return report


def read_shard_texts(files: Iterable[str | Path]) -> Iterator[tuple[str, str]]:
    """Yield ``(id, text)`` for every row of already checked shards, in file and row order."""
    for path in files:
        parquet = pq.ParquetFile(path)
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=["id", "text"])
            yield from zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True)
