"""The least time any fast mode built from ccsieve's parts can take on a WARC, against 500 docs/s.

Every part of ``jobs/configs/fast.yaml`` is timed on its own, in this one process pinned to one CPU,
with nothing around it: no child processes, no pipes, no batching by a runner, no stats or reports.
Each figure is the median of ``--repeat`` passes over the whole input:

* ``read, fastwarc only``: fastwarc's ``ArchiveIterator`` over the response records, payloads read
  (the least any reader can do); ``read, ccsieve``: ``extractors.warc.WarcReader`` (HTTP parsing,
  charset decoding, integrity checks, Documents).
* ``lexbor parse``: ``HTMLTree.parse`` of every page; ``resiliparse main content``: the parse and
  ``extract_plain_text(main_content=True)`` with the fast engine's options, the cheapest main-content
  extraction of the chosen libraries; ``fast engine``: the ``extract`` stage's own work in process
  (attribute guard, boilerplate pruning, resiliparse).
* the ``language`` stage on every extracted text; each heuristic stage on the documents that reach it;
  MinHash signatures (FineWeb preset) and Parquet (kept and dropped rows) of what is left.

Two lower bounds follow. What no fast mode can skip: reading the records (fastwarc only) and the
heuristic stages, signatures and Parquet on the documents that reach them. The floor adds main-content
extraction (bare resiliparse) and language id of only the pages the language stage keeps, as if every
other page were dropped for free. A real run also pays for everything left out of these sums.
Usage (from the repository root)::

    .venv/bin/python benchmarks/fast_mode_floor.py [--input WARC] [--repeat 3] [--target 500]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import pyarrow.parquet as pq  # noqa: E402
from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402
from resiliparse.extract.html2text import extract_plain_text  # noqa: E402
from resiliparse.parse.html import HTMLTree  # noqa: E402

from dedup.minhash import MinHasher  # noqa: E402
from extractors.engines import TEXT_OPTIONS  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402
from pipeline.config import PipelineConfig, load_config  # noqa: E402
from pipeline.document import Document, DropRecord, drops_to_table, to_table  # noqa: E402

DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
FAST_CONFIG = REPO_ROOT / "jobs" / "configs" / "fast.yaml"
BATCH = 128  # the reader's batch size in fast.yaml


def median_seconds(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def read_fastwarc(path: Path) -> int:
    count = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            record.reader.read()
            count += 1
    return count


def main_content(html: str) -> str:
    return extract_plain_text(HTMLTree.parse(html), main_content=True, **TEXT_OPTIONS, comments=False)


def stage_pass(pages: list[Document]) -> dict[str, Any]:
    """One pass of fast.yaml's stages in process (extraction unsandboxed), then signatures and Parquet.

    Batch by batch through every stage, as the runners go (the word splitter's cache of the last
    texts is then warm for the second filter, as in a run); each stage timed by the Stage protocol.
    """
    specs = [dict(spec) for spec in load_config(FAST_CONFIG).stages]
    for spec in specs:
        if spec["stage"] == "extract":
            spec["isolate"] = False
    stages = PipelineConfig(stages=specs).build_stages()
    for stage in stages:
        stage.run([])  # setup (model loading) outside the timer
    seconds = dict.fromkeys([s.label for s in stages], 0.0)
    seen = dict.fromkeys(seconds, 0)
    kept: list[Document] = []
    drops: list[DropRecord] = []
    for i in range(0, len(pages), BATCH):
        docs = [copy.deepcopy(d) for d in pages[i : i + BATCH]]
        for stage in stages:
            seen[stage.label] += len(docs)
            outcome = stage.run(docs)
            seconds[stage.label] += outcome.stats.seconds
            docs = outcome.kept
            drops += outcome.dropped
        kept += docs
    start = time.perf_counter()
    MinHasher().signatures([d.text for d in kept])
    seconds["minhash signatures"] = time.perf_counter() - start
    seen["minhash signatures"] = len(kept)
    with tempfile.TemporaryDirectory(prefix="ccsieve-floor-") as tmp:
        start = time.perf_counter()
        pq.write_table(to_table(kept), f"{tmp}/kept.parquet", compression="zstd", compression_level=3)
        pq.write_table(drops_to_table(drops), f"{tmp}/dropped.parquet", compression="zstd")
        seconds["parquet"] = time.perf_counter() - start
    seen["parquet"] = len(kept) + len(drops)
    return {"seconds": seconds, "seen": seen, "kept": len(kept)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=500.0, help="docs/s the budget is drawn for")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.cpu})

    pages = [d for d in WarcReader().read(str(args.input)) if isinstance(d, Document)]
    htmls = [d.html or "" for d in pages]
    n = len(pages)
    rows: list[tuple[str, float, int]] = [
        ("read, fastwarc only", median_seconds(lambda: read_fastwarc(args.input), args.repeat), n),
        ("read, ccsieve", median_seconds(lambda: list(WarcReader().read(str(args.input))), args.repeat), n),
        ("lexbor parse", median_seconds(lambda: [HTMLTree.parse(h) for h in htmls], args.repeat), n),
        (
            "resiliparse main content",
            median_seconds(lambda: [main_content(h) for h in htmls], args.repeat),
            n,
        ),
    ]
    passes = [stage_pass(pages) for _ in range(args.repeat)]
    labels = list(passes[0]["seconds"])
    stage_seconds = {label: statistics.median(p["seconds"][label] for p in passes) for label in labels}
    seen = passes[0]["seen"]
    rows += [
        (label if label != "extract" else "fast engine (extract stage)", stage_seconds[label], seen[label])
        for label in labels
    ]

    by_name = {name: s for name, s, _ in rows}
    after = labels[labels.index("language") + 1 :]
    english = seen[after[0]]  # the documents the language stage kept
    unavoidable = by_name["read, fastwarc only"] + sum(stage_seconds[label] for label in after)
    per_page = (by_name["resiliparse main content"] / n) + stage_seconds["language"] / seen["language"]
    floor = unavoidable + english * per_page
    budget = n / args.target

    print(f"{n} response records of {args.input.name}, CPU {args.cpu}, median of {args.repeat} passes")
    print(f"budget at {args.target:.0f} docs/s: {budget:.3f} s\n")
    print(f"{'part':34s} {'docs':>5s} {'seconds':>8s} {'ms/doc':>7s} {'of budget':>9s}")
    for name, seconds, docs in rows:
        share = seconds / budget
        print(f"{name:34s} {docs:5d} {seconds:8.3f} {1e3 * seconds / max(docs, 1):7.2f} {share:9.0%}")
    print("\nreading (fastwarc only) + the heuristic stages, signatures and Parquet, nothing else:")
    print(
        f"  {unavoidable:.3f} s = {n / unavoidable:.0f} docs/s at most, {unavoidable / budget:.1f} x budget"
    )
    print(f"+ main content and language id of only the {english} pages the language stage keeps:")
    print(f"  {floor:.3f} s = {n / floor:.0f} docs/s at most, {floor / budget:.1f} x budget")
    summary = {
        "input": str(args.input),
        "docs": n,
        "kept": passes[0]["kept"],
        "target_docs_per_s": args.target,
        "budget_s": round(budget, 4),
        "parts": {name: {"seconds": round(s, 4), "docs": d} for name, s, d in rows},
        "unavoidable_s": round(unavoidable, 4),
        "unavoidable_docs_per_s": round(n / unavoidable, 1),
        "floor_s": round(floor, 4),
        "floor_docs_per_s": round(n / floor, 1),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
