"""Reading classifier training documents: Parquet, JSONL and plain text, each with a group."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["TextUnit", "host_of", "read_documents", "write_jsonl"]

TextUnit = Literal["block", "file"]
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n")


def host_of(url: str | None) -> str | None:
    """The host of ``url`` without ``www.``, or ``None``: the default group of a web document."""
    if not url:
        return None
    host = urlsplit(url).hostname
    return host.removeprefix("www.") if host else None


def read_documents(
    path: str | Path, text_unit: TextUnit = "block", text_field: str = "text"
) -> Iterator[tuple[str, str]]:
    """Yield ``(text, group)`` for every document in ``path`` (a file or a folder of files).

    * ``.parquet``: the ``text_field`` column; the group is the host of the ``url`` column when present.
    * ``.jsonl`` / ``.jsonl.gz``: one JSON object per line with ``text_field``; the group is its
      ``group`` field, else the host of its ``url`` field, else the line itself.
    * anything else is UTF-8 plain text: with ``text_unit="block"`` every blank-line-separated block
      is one document (each its own group); with ``text_unit="file"`` the whole file is one.

    A folder is read file by file in name order, not recursively.
    """
    path = Path(path)
    if path.is_dir():
        for child in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
            yield from read_documents(child, text_unit, text_field)
        return
    name = path.name.lower()
    if name.endswith(".parquet"):
        yield from _read_parquet(path, text_field)
    elif name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        yield from _read_jsonl(path, text_field)
    else:
        text = path.read_text(encoding="utf-8")
        if text_unit == "file":
            yield text, str(path)
        else:
            for i, block in enumerate(_BLANK_LINES.split(text)):
                if block.strip():
                    yield block, f"{path}#{i}"


def _read_parquet(path: Path, text_field: str) -> Iterator[tuple[str, str]]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    if text_field not in names:
        raise ValueError(f"{path}: no {text_field!r} column (columns: {', '.join(names)})")
    columns = [text_field, *(["url"] if "url" in names else [])]
    table = pq.read_table(path, columns=columns)
    texts = table.column(text_field).to_pylist()
    urls = table.column("url").to_pylist() if "url" in names else [None] * len(texts)
    for i, (text, url) in enumerate(zip(texts, urls, strict=True)):
        if text:
            yield text, host_of(url) or f"{path}:{i}"


def _read_jsonl(path: Path, text_field: str) -> Iterator[tuple[str, str]]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if text_field not in record:
                raise ValueError(f"{path}:{lineno}: no {text_field!r} field")
            text = record[text_field]
            if text:
                group = record.get("group") or host_of(record.get("url")) or f"{path}:{lineno}"
                yield text, str(group)


def write_jsonl(path: Path, docs: Iterable[tuple[str, str]]) -> int:
    """Write ``(text, group)`` pairs as JSONL that :func:`read_documents` reads back; returns the count."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for text, group in docs:
            fh.write(json.dumps({"text": text, "group": group}, ensure_ascii=False) + "\n")
            n += 1
    return n
