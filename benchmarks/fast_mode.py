"""End-to-end docs/s of ccsieve's fast mode and default pipeline on one core, MinHash signatures included.

One measured run = a fresh Python process pinned to one CPU (``sched_setaffinity``; the child processes
the pipeline starts inherit the pin) that imports the pipeline's modules outside the timer, then times:

1. ``run_pipeline([WARC], out, load_config(CONFIG), executor="local", workers=1)``: reading, extraction,
   language id, the Gopher/C4/FineWeb filters, Parquet shards, stats and report;
2. the MinHash signatures of every kept document (``dedup.signatures.sign_shard`` on each shard with the
   FineWeb preset: 112 permutations, 14 bands x 8 rows, word 5-grams), the first step of dedup.

docs/s = the WARC's response records / (1 + 2). Configs alternate (fast, default, fast, ...) and the
median of ``--repeat`` runs is reported with every run's time and the per-stage seconds of the median
run (``stats.json``). Usage (from the repository root)::

    .venv/bin/python benchmarks/fast_mode.py [--input WARC] [--repeat N]
        [--configs fast,fast-unpruned,default]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
CONFIGS = {
    "fast": REPO_ROOT / "jobs" / "configs" / "fast.yaml",
    "default": REPO_ROOT / "jobs" / "configs" / "default.yaml",
}
# fast.yaml with the resiliparse engine's boilerplate pruning off (docs/extraction.md)
UNPRUNED = "fast-unpruned"


def config_path(name: str, folder: Path) -> Path:
    if name != UNPRUNED:
        return CONFIGS[name]
    text = CONFIGS["fast"].read_text(encoding="utf-8")
    unpruned, count = re.subn(r"(?m)^(\s*)prune: true\b", r"\1prune: false", text)
    if count != 1:
        raise RuntimeError("fast.yaml no longer sets `prune: true` once, as this script expects")
    path = folder / "fast-unpruned.yaml"
    path.write_text(unpruned, encoding="utf-8")
    return path


def worker(config: Path, input_path: Path, output: Path, cpu: int) -> dict[str, Any]:
    """One timed run in this process; returns its figures."""
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    sys.path.insert(0, str(REPO_ROOT))
    from dedup.signatures import SignatureParams, sign_shard
    from pipeline.config import load_config
    from pipeline.run import run_pipeline

    start = time.perf_counter()
    run_pipeline(
        [str(input_path)], str(output), load_config(config), workers=1, overwrite=True, progress=False
    )
    pipeline_s = time.perf_counter() - start
    shards = sorted((output / "data").glob("*.parquet"))
    params = SignatureParams()
    signed = sum(
        sign_shard(str(s), i, str(output / f"sig-{i}.parquet"), params) for i, s in enumerate(shards)
    )
    total = time.perf_counter() - start
    data = json.loads((output / "stats.json").read_text())
    return {
        "seconds": total,
        "pipeline_seconds": pipeline_s,
        "signature_seconds": total - pipeline_s,
        "signed": signed,
        "docs_in": data["stages"]["read"]["seen"] if "read" in data["stages"] else None,
        "kept": signed,
        "stage_seconds": {k: round(v["seconds"], 3) for k, v in data["stages"].items()},
    }


def measure(name: str, input_path: Path, cpu: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ccsieve-fast-") as tmp:
        cmd = [sys.executable, __file__, "--worker", name, "--input", str(input_path), "--cpu", str(cpu)]
        cmd += ["--output", str(Path(tmp) / "out")]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{name} run failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--configs", default="fast,default", help="fast, fast-unpruned, default")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (-1: none; default the highest)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cpu = max(os.sched_getaffinity(0)) if args.cpu is None else args.cpu
    if args.worker:
        config = config_path(args.worker, args.output.parent)
        print(json.dumps(worker(config, args.input, args.output, cpu)))
        return 0
    names = args.configs.split(",")
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for i in range(args.repeat):
        for name in names:
            result = measure(name, args.input, cpu)
            runs[name].append(result)
            print(
                f"run {i + 1}/{args.repeat} {name:8s} {result['seconds']:7.2f} s  kept {result['kept']}",
                flush=True,
            )
    summary: dict[str, Any] = {"input": str(args.input), "cpu": cpu, "repeat": args.repeat}
    print(
        f"\n{'config':8s} {'docs in':>8s} {'kept':>5s} {'seconds':>8s} {'docs/s':>7s}"
        "  signatures s  all runs (s)"
    )
    for name, results in runs.items():
        median = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
        docs = median["docs_in"]
        rate = docs / statistics.median(r["seconds"] for r in results)
        all_runs = ", ".join(f"{r['seconds']:.2f}" for r in results)
        print(f"{name:8s} {docs:8d} {median['kept']:5d} {median['seconds']:8.2f} {rate:7.1f}  "
              f"{median['signature_seconds']:12.2f}  {all_runs}")  # fmt: skip
        summary[name] = {
            **median,
            "docs_per_s": round(rate, 2),
            "seconds_all": [r["seconds"] for r in results],
        }
    for name in names:
        stages = summary[name]["stage_seconds"]
        print(f"\n{name} stages (median run): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
