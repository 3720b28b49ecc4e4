"""The BPB job: every model of the zoo on a chunked, per-domain sample of the pool, and on the benchmark.

Writes to ``output``: ``chunks.parquet`` (the sample: domain, document id, position, text),
``bpb.parquet`` (:func:`filters.perplexity_correlations.bpb.write_bpb`), ``error.csv`` (the benchmark
error per model: copied from the user's CSV, or measured as the model's BPB on the benchmark's text),
``bpb.json`` (a summary) and ``cache/`` (one file per model and chunk set: a rerun scores only the
models that have none, e.g. the one that failed).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from filters.perplexity_correlations.bpb import (
    benchmark_bpb,
    domain_bpb,
    read_error_csv,
    write_bpb,
    write_error_csv,
)
from filters.perplexity_correlations.domains import Chunk, read_pool, sample_chunks
from filters.perplexity_correlations.scoring import ModelScores, ModelSpec, score_cached

__all__ = ["BPBOptions", "benchmark_texts", "run_bpb"]


@dataclass(slots=True)
class BPBOptions:
    """Inputs and settings of :func:`run_bpb`."""

    pool: Sequence[str]
    models: Sequence[ModelSpec]
    output: str
    benchmark: Sequence[str] = ()  # texts (one document per line of a text file, or JSONL/Parquet)
    error_csv: str | None = None
    chunk_words: int = 256
    chunks_per_domain: int = 16
    min_chunks: int = 1
    seed: int = 0
    batch_size: int = 16
    executor: str = "local"  # or "ray": one actor per model
    hf_options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True


def benchmark_texts(specs: Sequence[str]) -> list[str]:
    """The benchmark's items as texts. A spec is ``PATH`` (Parquet, JSONL with a ``text`` field, or
    a text file as one document) or ``PATH:FIELD[,FIELD...]`` (JSONL keys or CSV column numbers, as
    the decontamination stage reads benchmarks; ``PATH`` may be a glob); an item's fields are joined
    with a newline, e.g. ``gsm8k/test.jsonl:question,answer``."""
    from filters.decontamination import BenchmarkSpec
    from filters.kenlm_train import iter_texts

    texts: list[str] = []
    for spec in specs:
        path, sep, fields = spec.rpartition(":") if ":" in spec else ("", "", "")
        if not sep or not fields or "/" in fields:
            texts.extend(t for t in iter_texts([spec]) if t.strip())
            continue
        parsed = tuple(int(f) if f.isdigit() else f for f in fields.split(","))
        items: dict[tuple[str, int], list[str]] = {}
        for name, number, _, value in BenchmarkSpec("benchmark", path, parsed).items():
            items.setdefault((name, number), []).append(value)
        texts.extend("\n".join(parts) for parts in items.values())
    if not texts:
        raise ValueError(f"no benchmark text in {', '.join(specs)}")
    return texts


def _write_chunks(chunks: Sequence[Chunk], path: Path) -> None:
    table = pa.table(
        {
            "domain": [c.domain for c in chunks],
            "doc_id": [c.doc_id for c in chunks],
            "index": pa.array([c.index for c in chunks], pa.int32()),
            "text": [c.text for c in chunks],
        }
    )
    pq.write_table(table, path, compression="zstd")


def _score_all(
    options: BPBOptions,
    texts: Sequence[str],
    cache: Path,
    log: Callable[[str], None],
    pins: dict[str, str],
) -> tuple[list[ModelScores], dict[str, str]]:
    if options.executor == "ray":
        from filters.perplexity_correlations.ray_scoring import score_models_ray

        return score_models_ray(
            options.models, texts, cache, batch_size=options.batch_size, hf_options=options.hf_options
        )
    if options.executor != "local":
        raise ValueError(f"executor must be local or ray, not {options.executor!r}")
    results: list[ModelScores] = []
    failures: dict[str, str] = {}
    for spec in options.models:
        try:
            scorer = spec.build(**options.hf_options) if spec.kind == "hf" else spec.build()
            pins[spec.name] = getattr(scorer, "pin", scorer.fingerprint)()
            with tqdm(total=len(texts), desc=spec.name, unit="text", disable=not options.progress) as bar:
                results.append(
                    score_cached(scorer, texts, cache, batch_size=options.batch_size, progress=bar.update)
                )
        except Exception as exc:  # one broken model must not cost the others their scores
            failures[spec.name] = f"{type(exc).__name__}: {exc}"
            log(f"error: model {spec.name} failed: {failures[spec.name]}")
    return results, failures


def run_bpb(options: BPBOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the job (module docstring); returns the summary written to ``bpb.json``. Models that failed
    are listed there and left out of the matrix; rerunning the job scores only them."""
    started = time.perf_counter()
    if not options.models:
        raise ValueError("no models given")
    names = [m.name for m in options.models]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be unique: {names}")
    if not options.benchmark and not options.error_csv:
        raise ValueError("give the benchmark error: --error-csv, or --benchmark text to measure it on")
    out = Path(options.output)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "cache"
    docs = list(read_pool(options.pool))
    chunks = sample_chunks(
        docs,
        chunk_words=options.chunk_words,
        chunks_per_domain=options.chunks_per_domain,
        min_chunks=options.min_chunks,
        seed=options.seed,
    )
    if not chunks:
        raise ValueError("the pool gave no chunks (no documents with a URL domain and text?)")
    _write_chunks(chunks, out / "chunks.parquet")
    sampled = len({c.domain for c in chunks})
    log(f"pool: {len(docs):,} documents; sample: {len(chunks):,} chunks of {sampled:,} domains")

    texts = [c.text for c in chunks]
    pins: dict[str, str] = {}  # the digest that pins each model (local scoring only)
    scores, failures = _score_all(options, texts, cache / "pool", log, pins)
    if not scores:
        raise RuntimeError(f"every model failed: {failures}")
    matrix = domain_bpb(scores, chunks)
    write_bpb(matrix, out / "bpb.parquet")

    if options.error_csv:
        errors = read_error_csv(options.error_csv)
        error_source = str(options.error_csv)
    else:
        bench = benchmark_texts(options.benchmark)
        done = {s.name for s in scores}
        scored = [m for m in options.models if m.name in done]
        bench_options = dataclasses.replace(options, models=scored)
        bench_scores, bench_failures = _score_all(bench_options, bench, cache / "benchmark", log, pins)
        failures.update(bench_failures)
        errors = {s.name: benchmark_bpb(s, bench) for s in bench_scores}
        error_source = f"BPB on {len(bench):,} benchmark texts from {', '.join(options.benchmark)}"
    write_error_csv(errors, out / "error.csv")
    summary = {
        "pool": list(options.pool),
        "documents": len(docs),
        "chunks": len(chunks),
        "domains": len(matrix.domains),
        "dropped_chunks_nan": matrix.dropped_chunks,
        "nan_chunks_by_model": matrix.nan_by_model,
        "models": matrix.models,
        "failed_models": failures,
        "model_pins": pins,  # append as #DIGEST to a model spec to pin it
        "error_source": error_source,
        "errors": errors,
        "chunk_words": options.chunk_words,
        "chunks_per_domain": options.chunks_per_domain,
        "seed": options.seed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "bpb.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if failures:
        print(f"warning: {len(failures)} model(s) failed; rerun to retry only them", file=sys.stderr)
    return summary
