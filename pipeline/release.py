"""Publish a run's shards as a Hugging Face dataset: stage the Hub layout, write the card, upload.

A release folder (``<RUN>/release/`` by default) holds::

    README.md                                 dataset card: YAML front matter + config, funnel, sources
    data/train-00000-of-000NN.parquet         kept documents, re-chunked, RELEASE_SCHEMA, zstd

The upload goes through ``huggingface_hub``: ``HfApi().create_repo(repo_type="dataset", exist_ok=True)``
then ``HfApi().upload_folder``, which in huggingface_hub 2.x is the streamed, multi-commit and resumable
upload (the successor of ``upload_large_folder``; rerunning the same call skips what is committed).

The token is never read, printed or written here: huggingface_hub takes it from ``HF_TOKEN`` or the
saved Hub login by itself. Error messages are passed through :func:`redact` before they are shown.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from fsspec.implementations.local import LocalFileSystem

from pipeline.document import ARROW_SCHEMA
from pipeline.sinks import OutputLayout

__all__ = [
    "RELEASE_SCHEMA",
    "ReleaseFile",
    "ReleasePlan",
    "dataset_card",
    "redact",
    "size_category",
    "stage_release",
    "upload_release",
]


def _release_field(f: pa.Field) -> pa.Field:
    if pa.types.is_map(f.type):
        entry = pa.struct([("key", f.type.key_type), ("value", f.type.item_type)])
        return pa.field(f.name, pa.list_(entry), nullable=f.nullable)
    return f


# ARROW_SCHEMA with each map column as list<struct<key, value>>: the same Parquet physical layout (a map
# is stored as a repeated key/value group), but one that `datasets` can load (it has no map feature).
RELEASE_SCHEMA = pa.schema([_release_field(f) for f in ARROW_SCHEMA], metadata=ARROW_SCHEMA.metadata)

# The Hub's size_categories buckets (upper bounds, exclusive) in increasing order.
_SIZE_BUCKETS: list[tuple[int, str]] = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
]


def size_category(rows: int) -> str:
    """The Hub's ``size_categories`` value for a dataset of ``rows`` rows."""
    for bound, label in _SIZE_BUCKETS:
        if rows < bound:
            return label
    return "n>1T"


@dataclass(frozen=True)
class ReleaseFile:
    """One file of the staging folder, relative to it, with its size in bytes."""

    path: str
    size: int


@dataclass
class ReleasePlan:
    """What :func:`stage_release` wrote: where, which files, how many rows, and the card text."""

    staging: Path
    files: list[ReleaseFile]
    rows: int
    languages: dict[str, int]
    card: str


def _read_json(layout: OutputLayout, name: str) -> dict[str, Any]:
    path = layout.join(name)
    if not layout.fs.exists(path):
        raise FileNotFoundError(f"{layout.root} has no {name}: is it a finished ccsieve run?")
    with layout.fs.open(path, "r") as fh:
        return json.load(fh)


def _read_config(layout: OutputLayout) -> dict[str, Any] | None:
    path = layout.join("config.yaml")
    if not layout.fs.exists(path):
        return None
    with layout.fs.open(path, "r") as fh:
        return yaml.safe_load(fh)


def _rechunk(layout: OutputLayout, data_dir: Path, shard_mb: float, row_group_rows: int) -> Counter[str]:
    """Copy every shard of the run into ``data_dir/train-*.parquet`` files of about ``shard_mb`` each.

    Sizes are planned on Arrow (uncompressed) bytes scaled by the run's own compression ratio, so a
    shard lands near ``shard_mb`` on disk. Returns the row count per language (``"unknown"`` for null).
    """
    sources = layout.shard_files()
    disk = sum(layout.fs.size(p) for p in sources)
    arrow_bytes = 0
    for path in sources:
        with layout.fs.open(path, "rb") as fh:
            meta = pq.ParquetFile(fh).metadata
            arrow_bytes += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    ratio = disk / arrow_bytes if arrow_bytes else 1.0
    budget = max(1, int(shard_mb * (1 << 20) / max(ratio, 1e-6)))

    for old in data_dir.glob("*.parquet"):
        old.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    languages: Counter[str] = Counter()
    parts: list[Path] = []
    writer: pq.ParquetWriter | None = None
    written = 0

    def close() -> None:
        nonlocal writer
        if writer is not None:
            writer.close()
            writer = None

    for path in sources:
        with layout.fs.open(path, "rb") as fh:
            for batch in pq.ParquetFile(fh).iter_batches(batch_size=row_group_rows):
                table = pa.Table.from_batches([batch]).cast(ARROW_SCHEMA).cast(RELEASE_SCHEMA)
                languages.update(lang or "unknown" for lang in table.column("language").to_pylist())
                if writer is None:
                    parts.append(data_dir / f".part-{len(parts):05d}.parquet")
                    writer = pq.ParquetWriter(parts[-1], RELEASE_SCHEMA, compression="zstd")
                    written = 0
                writer.write_table(table, row_group_size=row_group_rows)
                written += table.nbytes
                if written >= budget:
                    close()
    close()
    for i, part in enumerate(parts):
        part.rename(data_dir / f"train-{i:05d}-of-{len(parts):05d}.parquet")
    return languages


def _front_matter(license_id: str, languages: dict[str, int], rows: int, repo: str) -> dict[str, Any]:
    codes = [
        code for code, _ in sorted(languages.items(), key=lambda kv: (-kv[1], kv[0])) if code != "unknown"
    ]
    meta: dict[str, Any] = {"license": license_id}
    if codes:
        meta["language"] = codes
    meta |= {
        "size_categories": [size_category(rows)],
        "task_categories": ["text-generation"],
        "pretty_name": repo.split("/")[-1],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}],
    }
    return meta


def dataset_card(
    repo: str,
    license_id: str,
    stats: dict[str, Any],
    config: dict[str, Any] | None,
    languages: dict[str, int],
    rows: int,
) -> str:
    """The dataset card (``README.md``): YAML front matter, then config, funnel, languages and sources."""
    meta = _front_matter(license_id, languages, rows, repo)
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False).rstrip(),
        "---",
        "",
        f"# {repo.split('/')[-1]}",
        "",
        "Web text extracted from Common Crawl WARC files and filtered by ccsieve. One row per kept document.",
        "",
        f"- documents: {rows:,}",
        f"- response records read: {stats.get('responses_read', 0):,}",
        f"- input files: {len(stats.get('files', {}))}",
        "",
        "## Columns",
        "",
        "| column | type |",
        "| --- | --- |",
        *(f"| `{f.name}` | `{f.type}` |" for f in RELEASE_SCHEMA),
        "",
        "`scores` and `metadata` are ccsieve's string-keyed maps, stored as lists of `{key, value}` pairs "
        "(`dict(row['scores'])` style: `{p['key']: p['value'] for p in row['scores']}`).",
        "",
        "## Pipeline configuration",
        "",
        "```yaml",
        yaml.safe_dump(
            config if config is not None else {"runner": stats.get("runner", {})}, sort_keys=False
        ).rstrip(),
        "```",
        "",
        "## Funnel",
        "",
        "| stage | seen | kept | dropped | drop reasons |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for label, stage in stats.get("stages", {}).items():
        dropped: dict[str, int] = stage.get("dropped", {})
        reasons = ", ".join(f"{r}: {n:,}" for r, n in sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(
            f"| {label} | {stage.get('seen', 0):,} | {stage.get('kept', 0):,} | "
            f"{sum(dropped.values()):,} | {reasons} |"
        )
    lines += ["", "## Languages", "", "| language | documents |", "| --- | ---: |"]
    lines += [f"| {code} | {n:,} |" for code, n in sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines += [
        "",
        "## Sources",
        "",
        "| input file | status | responses | kept | dropped |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for source, f in sorted(stats.get("files", {}).items()):
        lines.append(
            f"| {source} | {f.get('status')} | {f.get('responses_read', 0):,} | "
            f"{f.get('kept', 0):,} | {f.get('dropped', 0):,} |"
        )
    lines += [
        "",
        "## License",
        "",
        f"Released under `{license_id}`; the pages keep their own terms of use.",
        "",
    ]
    return "\n".join(lines)


def stage_release(
    run: str,
    repo: str,
    *,
    staging: str | Path | None = None,
    shard_mb: float = 500.0,
    license_id: str = "odc-by",
    row_group_rows: int = 4096,
) -> ReleasePlan:
    """Write the Hub layout of the run ``run`` into ``staging`` (default ``<run>/release``).

    ``run`` is a local run folder or fsspec URL; ``staging`` must be local (the upload reads it).
    """
    layout = OutputLayout(run)
    stats = _read_json(layout, "stats.json")
    if staging is None:
        if not isinstance(layout.fs, LocalFileSystem):
            raise ValueError(f"{run} is not local: pass --staging, a local folder")
        staging = Path(posixpath.join(layout.path, "release"))
    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    languages = _rechunk(layout, staging / "data", shard_mb, row_group_rows)
    rows = sum(languages.values())
    if rows != stats.get("kept", rows):
        raise ValueError(f"{run}: shards hold {rows} rows but stats.json says {stats['kept']} kept")
    card = dataset_card(repo, license_id, stats, _read_config(layout), dict(languages), rows)
    (staging / "README.md").write_text(card, encoding="utf-8")
    files = [
        ReleaseFile(p.relative_to(staging).as_posix(), p.stat().st_size)
        for p in sorted([staging / "README.md", *sorted((staging / "data").glob("train-*.parquet"))])
    ]
    return ReleasePlan(staging, files, rows, dict(languages), card)


def redact(text: str) -> str:
    """``text`` with the Hub token (from ``HF_TOKEN`` or the saved login) replaced by ``***``."""
    from huggingface_hub import get_token

    for secret in {os.environ.get("HF_TOKEN"), get_token()}:
        if secret:
            text = text.replace(secret, "***")
    return text


def upload_release(plan: ReleasePlan, repo: str, *, private: bool = False) -> str:
    """Create the dataset repo if needed and upload the staging folder; returns the commit URL.

    Raises ``PermissionError`` when there is no token (``HF_TOKEN`` or ``hf auth login``).
    """
    from huggingface_hub import HfApi, get_token

    if not get_token():
        raise PermissionError("no Hugging Face token: set HF_TOKEN or run `hf auth login`")
    api = HfApi()
    api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo,
        repo_type="dataset",
        folder_path=plan.staging,
        allow_patterns=["README.md", "data/train-*.parquet"],
        commit_message=f"ccsieve release: {plan.rows:,} documents",
    )
    return str(getattr(info, "commit_url", info))
