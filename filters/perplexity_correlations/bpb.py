"""The BPB matrix of the method: N models x D domains, and the benchmark error of each model.

Per chunk ``c`` and model ``m``: ``bpb_mc = nats_mc / bytes_c / ln 2``. Per domain, the chunks are
weighted by the model's token count, ``bpb_md = sum_c t_mc * bpb_mc / sum_c t_mc``, so a long chunk
counts as the many predictions it holds. A chunk that any model could not score (NaN, or no tokens)
is dropped for every model, so all rows average the same text; the count is reported.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from filters.perplexity_correlations.domains import Chunk
from filters.perplexity_correlations.scoring import LN2, ModelScores

__all__ = [
    "BPBMatrix",
    "benchmark_bpb",
    "domain_bpb",
    "read_bpb",
    "read_error_csv",
    "write_bpb",
    "write_error_csv",
]


@dataclass(slots=True)
class BPBMatrix:
    """``X[k, j]``: model ``models[k]``'s bits per byte on domain ``domains[j]``."""

    models: list[str]
    domains: list[str]
    X: np.ndarray
    chunks: np.ndarray  # kept chunks per domain
    utf8_bytes: np.ndarray  # bytes of the kept chunks per domain
    dropped_chunks: int = 0
    nan_by_model: dict[str, int] = field(default_factory=dict)


def domain_bpb(scores: Sequence[ModelScores], chunks: Sequence[Chunk]) -> BPBMatrix:
    """Aggregate per-chunk losses into per-domain BPB (see the module docstring)."""
    if not scores:
        raise ValueError("no model scores")
    n = len(chunks)
    for s in scores:
        if len(s.nats) != n:
            raise ValueError(f"{s.name}: {len(s.nats)} scores for {n} chunks")
    sizes = np.array([len(c.text.encode("utf-8")) for c in chunks], dtype=np.float64)
    ok = sizes > 0
    nan_by_model: dict[str, int] = {}
    for s in scores:
        bad = ~np.isfinite(s.nats) | (s.tokens <= 0)
        nan_by_model[s.name] = int(bad.sum())
        ok &= ~bad
    domains = sorted({c.domain for c, keep in zip(chunks, ok, strict=True) if keep})
    column = {d: j for j, d in enumerate(domains)}
    idx = np.array([column.get(c.domain, -1) for c in chunks])
    idx = np.where(ok, idx, -1)
    kept = idx >= 0
    X = np.zeros((len(scores), len(domains)))
    for k, s in enumerate(scores):
        bpb = np.where(kept, s.nats / np.where(ok, sizes, 1.0) / LN2, 0.0)
        weight = np.where(kept, s.tokens, 0).astype(np.float64)
        num = np.bincount(idx[kept], weights=(weight * bpb)[kept], minlength=len(domains))
        den = np.bincount(idx[kept], weights=weight[kept], minlength=len(domains))
        X[k] = num / den
    return BPBMatrix(
        models=[s.name for s in scores],
        domains=domains,
        X=X,
        chunks=np.bincount(idx[kept], minlength=len(domains)),
        utf8_bytes=np.bincount(idx[kept], weights=sizes[kept], minlength=len(domains)),
        dropped_chunks=int((~ok).sum()),
        nan_by_model=nan_by_model,
    )


def benchmark_bpb(scores: ModelScores, texts: Sequence[str]) -> float:
    """A model's BPB on a benchmark's text, the error measure when no CSV is given: summed nats over
    summed bytes of the texts it could score (a text it could not score is left out)."""
    sizes = np.array([len(t.encode("utf-8")) for t in texts], dtype=np.float64)
    ok = np.isfinite(scores.nats) & (scores.tokens > 0) & (sizes > 0)
    if not ok.any():
        return math.nan
    return float(scores.nats[ok].sum() / sizes[ok].sum() / LN2)


def write_bpb(matrix: BPBMatrix, path: str | Path) -> None:
    """One row per domain: ``domain``, ``chunks``, ``utf8_bytes``, then one BPB column per model."""
    columns: dict[str, pa.Array] = {
        "domain": pa.array(matrix.domains, pa.string()),
        "chunks": pa.array(matrix.chunks, pa.int64()),
        "utf8_bytes": pa.array(matrix.utf8_bytes.astype(np.int64), pa.int64()),
    }
    for k, name in enumerate(matrix.models):
        if name in columns:
            raise ValueError(f"model name {name!r} clashes with a column of the BPB table")
        columns[name] = pa.array(matrix.X[k], pa.float64())
    meta = {"ccsieve.dropped_chunks": str(matrix.dropped_chunks)}
    pq.write_table(pa.table(columns).replace_schema_metadata(meta), path)


def read_bpb(path: str | Path) -> BPBMatrix:
    """Read what :func:`write_bpb` wrote."""
    table = pq.read_table(path)
    models = [n for n in table.column_names if n not in ("domain", "chunks", "utf8_bytes")]
    meta = table.schema.metadata or {}
    return BPBMatrix(
        models=models,
        domains=table.column("domain").to_pylist(),
        X=np.array([table.column(m).to_numpy() for m in models], dtype=np.float64).reshape(len(models), -1),
        chunks=table.column("chunks").to_numpy(),
        utf8_bytes=table.column("utf8_bytes").to_numpy().astype(np.float64),
        dropped_chunks=int(meta.get(b"ccsieve.dropped_chunks", b"0")),
    )


def read_error_csv(path: str | Path) -> dict[str, float]:
    """``model,error`` rows (a header line naming those two columns first); lower error is better."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"model", "error"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs a header with columns 'model' and 'error'")
        out: dict[str, float] = {}
        for line, row in enumerate(reader, start=2):
            try:
                out[row["model"]] = float(row["error"])
            except (TypeError, ValueError):
                raise ValueError(f"{path} line {line}: error {row['error']!r} is not a number") from None
    return out


def write_error_csv(errors: dict[str, float], path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["model", "error"])
        for name, value in errors.items():
            writer.writerow([name, repr(value)])
