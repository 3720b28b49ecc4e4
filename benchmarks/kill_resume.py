"""Kill and resume at scale: 10,000+ documents on a local Ray cluster, workers killed, the driver once.

1. Input: the records of ../shared/testdata/bench-warc/bench.warc.gz (646 responses, with their
   request and metadata records), copied ``ceil(docs / 646)`` times under fresh WARC-Record-IDs
   (deterministic: uuid5 of the copy and the old id; WARC-Concurrent-To follows) and split into
   ``--files-per-copy`` WARC files per copy.
2. Reference: an uninterrupted run with the local runner (``--workers 2``).
3. On a private local Ray head (``tests/pipeline/raykill.py``: 127.0.0.1, token auth, no
   dashboard, 2 CPUs, stopped by process id), ``python -m jobs.process_cc --executor ray`` joined to
   it through ``RAY_ADDRESS``. Every ``--kill-every`` seconds one random pipeline worker (a stage actor
   or a reading task: a process titled ``ray::...MapBatches(...)``; every other kill a reading task
   when one is running) is SIGKILLed, up to ``--max-kills``; once ``--driver-kill-at`` of the files
   are committed, the driver and its process group are SIGKILLed. A second driver then resumes the
   run, undisturbed.
4. The resumed output against the reference: sorted (id, text hash) rows -- lost, duplicated,
   unexpected, equal --, the dropped and quarantined rows, the statistics, and no ``_tmp`` leftovers.

Usage (from the repository root; about 10 minutes on 2 cores)::

    .venv/bin/python benchmarks/kill_resume.py --work /tmp/kill-resume [--docs 10000] [--seed 0]

Prints a summary and writes it to ``WORK/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pyarrow.parquet as pq  # noqa: E402 -- after sys.path

from pipeline.document import text_hash  # noqa: E402
from tests.pipeline.raykill import RayHead, start_driver, stop_driver  # noqa: E402
from tests.pipeline.warcgen import read_records, record_type, renamed, write_warc  # noqa: E402

BENCH_WARC = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
# Fast stages: resiliparse extraction (each page still in its extraction sandbox), language id and a
# Gopher filter; the stage chain in its isolation child (the default).
CONFIG = """\
reader:
  batch_size: 128
stages:
  - stage: extract
    engine: resiliparse
    timeout_s: 5
    max_html_mb: 4
  - stage: language
    languages: [en]
    min_score: 0.65
  - stage: gopher_quality
"""


def build_inputs(folder: Path, docs: int, files_per_copy: int) -> tuple[list[str], int]:
    """Copies of the bench WARC under fresh record ids, split into files; (paths, response records)."""
    records = list(read_records(BENCH_WARC))
    per_copy = sum(record_type(r) == "response" for r in records)
    copies = math.ceil(docs / per_copy)
    # Cut each copy before a response, so that a response and its request/metadata stay together.
    starts = [i for i, r in enumerate(records) if record_type(r) == "response"]
    cuts = [0] + [starts[per_copy * k // files_per_copy] for k in range(1, files_per_copy)] + [len(records)]
    paths = []
    for copy in range(copies):
        for part in range(files_per_copy):
            path = folder / f"bench-copy{copy:02d}-part{part}.warc.gz"
            if not path.exists():
                part_records = records[cuts[part] : cuts[part + 1]]
                write_warc(path, (renamed(r, f"kill-resume/{copy}") for r in part_records))
            paths.append(str(path))
    return paths, per_copy * copies


def rows(output: Path) -> list[tuple[str, str]]:
    table = pq.read_table(output / "data", columns=["id", "text"])
    return sorted(zip(table["id"].to_pylist(), map(text_hash, table["text"].to_pylist()), strict=True))


def table_rows(output: Path, folder: str, columns: list[str]) -> list[tuple]:
    files = sorted((output / folder).glob("*.parquet"))
    found: list[tuple] = []
    for path in files:
        table = pq.read_table(path, columns=columns)
        found += zip(*(table[c].to_pylist() for c in columns), strict=True)
    return sorted(found)


def counts(output: Path) -> dict[str, Any]:
    stats = json.loads((output / "stats.json").read_text())
    return {
        "totals": (stats["responses_read"], stats["kept"], stats["dropped"]),
        "stages": {k: {n: v for n, v in s.items() if n != "seconds"} for k, s in stats["stages"].items()},
        "files": {s: {n: v for n, v in f.items() if n != "shards"} for s, f in stats["files"].items()},
    }


def markers(output: Path) -> int:
    folder = output / "_markers"
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


def run_reference(config: Path, inputs: list[str], output: Path) -> float:
    command = [sys.executable, "-m", "jobs.process_cc", "--config", str(config), "--input", *inputs,
               "--output", str(output), "--workers", "2", "--no-progress", "--overwrite"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def killed_run(
    head: RayHead, args: list[str], output: Path, log: Path, files: int, opts: argparse.Namespace
) -> dict:
    """Driver 1 with worker kills, then the driver killed; what happened, with times."""
    rng = random.Random(opts.seed)
    start = time.perf_counter()
    driver = start_driver(head, [*args, "--output", str(output)], log)
    next_kill = time.perf_counter() + opts.first_kill
    kills: list[dict[str, Any]] = []
    driver_killed_at = None
    try:
        while driver.poll() is None:
            now = time.perf_counter()
            done = markers(output)
            if done >= opts.driver_kill_at * files and len(kills) >= opts.min_kills:
                driver_killed_at = done
                stop_driver(driver)
                break
            if now >= next_kill and len(kills) < opts.max_kills:
                # Every other kill goes to a reading task when one is running (they are short-lived
                # and would rarely be drawn otherwise), the others to any pipeline worker.
                title = None
                if len(kills) % 2 == 1:
                    title = head.kill_random_worker(rng, lambda t: "_read_files" in t)
                if title is None:
                    title = head.kill_random_worker(rng)
                if title is not None:
                    kills.append({"t": round(now - start, 1), "worker": title, "files_done": done})
                    next_kill = now + opts.kill_every
            time.sleep(0.1)
    finally:
        stop_driver(driver)
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "worker_kills": kills,
        "driver_killed_at_files": driver_killed_at,
        "driver_exit_before_kill": None if driver_killed_at is not None else driver.returncode,
        "files_done_after": markers(output),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for inputs and outputs")
    parser.add_argument("--docs", type=int, default=10_000, help="at least this many response records")
    parser.add_argument("--files-per-copy", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first-kill", type=float, default=20.0, help="seconds before the first worker kill")
    parser.add_argument("--kill-every", type=float, default=8.0, help="seconds between worker kills")
    parser.add_argument(
        "--min-kills", type=int, default=4, help="worker kills before the driver may be killed"
    )
    parser.add_argument("--max-kills", type=int, default=8)
    parser.add_argument("--driver-kill-at", type=float, default=0.5, help="share of files committed")
    opts = parser.parse_args()

    work: Path = opts.work
    (work / "inputs").mkdir(parents=True, exist_ok=True)
    config = work / "config.yaml"
    config.write_text(CONFIG)
    t0 = time.perf_counter()
    inputs, responses = build_inputs(work / "inputs", opts.docs, opts.files_per_copy)
    build_s = time.perf_counter() - t0
    print(f"inputs: {len(inputs)} WARC files, {responses:,} response records ({build_s:.0f} s to write)")

    reference = work / "reference"
    reference_s = run_reference(config, inputs, reference)
    print(f"reference (local runner, 2 workers): {reference_s:.0f} s, {len(rows(reference)):,} rows kept")

    output = work / "ray"
    shutil.rmtree(output, ignore_errors=True)
    args = ["--config", str(config), "--input", *inputs, "--workers", "2"]
    head = RayHead.start(num_cpus=2)
    try:
        first = killed_run(head, args, output, work / "driver-1.log", len(inputs), opts)
        print(f"ray, killed: {json.dumps(first)}")
        start = time.perf_counter()
        resume = start_driver(head, [*args, "--output", str(output)], work / "driver-2.log")
        try:
            resume_exit = resume.wait(timeout=1800)
        finally:
            stop_driver(resume)
        resume_s = time.perf_counter() - start
    finally:
        head.stop()

    expected, got = Counter(rows(reference)), Counter(rows(output))
    lost = sum((expected - got).values())
    unexpected = sum((got - expected).values())
    duplicated = sum(n - 1 for n in got.values() if n > 1)
    tmp = output / "_tmp"
    leftovers = sorted(str(p.relative_to(output)) for p in tmp.rglob("*")) if tmp.exists() else []
    runner = json.loads((output / "stats.json").read_text())["runner"] if resume_exit == 0 else {}
    summary = {
        "inputs": len(inputs),
        "responses": responses,
        "reference_rows": sum(expected.values()),
        "reference_seconds": round(reference_s, 1),
        "killed_run": first,
        "resume": {
            "exit": resume_exit,
            "seconds": round(resume_s, 1),
            "skipped_complete": runner.get("skipped_complete"),
            "processed": runner.get("processed"),
        },
        "rows": sum(got.values()),
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "rows_equal": got == expected,
        "drops_equal": table_rows(output, "dropped", ["id", "stage", "reason"])
        == table_rows(reference, "dropped", ["id", "stage", "reason"]),
        "quarantine_equal": table_rows(output, "quarantine", ["id", "reason"])
        == table_rows(reference, "quarantine", ["id", "reason"]),
        "stats_equal": resume_exit == 0 and counts(output) == counts(reference),
        "tmp_leftovers": leftovers,
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=1))
    kills = first["worker_kills"]
    print()
    print(f"documents: {responses:,} in {len(inputs)} files; reference kept {summary['reference_rows']:,}")
    print(
        f"killed: {len(kills)} Ray workers "
        f"({sum('_StageGroup' in k['worker'] for k in kills)} stage actors, "
        f"{sum('_read_files' in k['worker'] for k in kills)} reading tasks), "
        f"then the driver at {first['driver_killed_at_files']}/{len(inputs)} files committed"
    )
    print(
        f"resume: exit {resume_exit}, {resume_s:.0f} s, {summary['resume']['skipped_complete']} files "
        f"skipped as complete, {summary['resume']['processed']} processed"
    )
    print(
        f"rows: {summary['rows']:,} vs {summary['reference_rows']:,}; lost {lost}, duplicated {duplicated}, "
        f"unexpected {unexpected}; equal: {summary['rows_equal']}; drops equal: {summary['drops_equal']}; "
        f"quarantine equal: {summary['quarantine_equal']}; stats equal: {summary['stats_equal']}; "
        f"_tmp leftovers: {len(leftovers)}"
    )
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
