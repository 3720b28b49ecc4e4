"""Peak memory and time of ``python -m jobs.dedup`` as the corpus grows (synthetic near-duplicate families).

For each size N, a corpus of N documents is written as ccsieve shards (``data/*.parquet``, 50,000
documents a shard): families of 1 to 5 documents, each member a copy of a 60-word base text with 2 %
of its words replaced (word 5-gram Jaccard about 0.8 between two members), from a fixed vocabulary.
The dedup job then runs in a fresh process (default settings, local or Ray executor) and the script
reports that process's peak resident memory (``ru_maxrss`` of the child), the wall time, the
documents removed against the number the families imply, and the size of the signatures on disk.

On the Ray executor the driver's peak is the figure that shows whether one process holds everything:
signing, bucketing and connected components run in Ray tasks; the Ray workers' memory is not in it.

Usage (from the repository root)::

    .venv/bin/python benchmarks/dedup_scale.py --sizes 100000 300000 1000000 [--executor local|ray]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pipeline.document import ARROW_SCHEMA  # noqa: E402

SHARD_DOCS = 50_000
WORDS = 60
VOCABULARY = 20_000


def write_corpus(folder: Path, n: int, seed: int = 0) -> int:
    """N documents in families; returns the number of duplicates (documents beyond one per family)."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{i}" for i in range(VOCABULARY)])
    sizes = rng.integers(1, 6, size=n)  # family sizes 1..5, cut to n documents
    family = np.repeat(np.arange(n), sizes)[:n]
    base = rng.integers(0, VOCABULARY, size=(int(family[-1]) + 1, WORDS))
    duplicates = n - (int(family[-1]) + 1)
    (folder / "data").mkdir(parents=True)
    for start in range(0, n, SHARD_DOCS):
        rows = np.arange(start, min(n, start + SHARD_DOCS))
        words = base[family[rows]].copy()
        change = rng.random(words.shape) < 0.02
        words[change] = rng.integers(0, VOCABULARY, size=int(change.sum()))
        texts = [" ".join(vocabulary[w]) for w in words]
        ids = [f"doc-{i:08d}" for i in rows]
        columns = {
            "id": ids,
            "url": [f"https://synthetic.example/{i}" for i in rows],
            "warc_date": pa.nulls(len(rows), pa.timestamp("us", tz="UTC")),
            "source": ["synthetic"] * len(rows),
            "offset": rows.astype(np.int64),
            "content_type": pa.nulls(len(rows), pa.string()),
            "language": ["en"] * len(rows),
            "language_score": pa.nulls(len(rows), pa.float64()),
            "text": texts,
            "scores": pa.nulls(len(rows), ARROW_SCHEMA.field("scores").type),
            "metadata": pa.nulls(len(rows), ARROW_SCHEMA.field("metadata").type),
        }
        table = pa.table(columns, schema=ARROW_SCHEMA)
        pq.write_table(table, folder / "data" / f"synthetic-{start // SHARD_DOCS:05d}.parquet")
    return duplicates


def run_job(corpus: Path, output: Path, executor: str) -> tuple[float, float, dict]:
    """(seconds, peak RSS of the job process in MiB, dedup_stats.json)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [sys.executable, "-m", "jobs.dedup", "--input", str(corpus), "--output", str(output),
               "--executor", executor, "--no-progress"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("warning: the peak did not grow past an earlier child's; run one size per call to be sure")
    stats = json.loads((output / "dedup_stats.json").read_text())
    return seconds, peak / 1024, stats


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    arguments.add_argument("--executor", choices=["local", "ray"], default="local")
    options = arguments.parse_args()
    print(f"executor: {options.executor}, default settings (112 permutations, 14 x 8 bands, word 5-grams)\n")
    print(
        "| documents | duplicates planted | removed | seconds | peak RSS of the job process, MiB | "
        "signatures on disk, MiB |"
    )
    print("|---|---|---|---|---|---|")
    for n in sorted(options.sizes):
        with tempfile.TemporaryDirectory(prefix="ccsieve-dedup-scale-") as tmp:
            corpus, output = Path(tmp) / "corpus", Path(tmp) / "out"
            duplicates = write_corpus(corpus, n)
            seconds, peak, stats = run_job(corpus, output, options.executor)
            signature_bytes = sum(f.stat().st_size for f in (output / "signatures").glob("*.parquet"))
            print(f"| {n:,} | {duplicates:,} | {stats['removed']:,} | "
                  f"{seconds:.0f} | {peak:.0f} | {signature_bytes / 2**20:.0f} |")  # fmt: skip
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
