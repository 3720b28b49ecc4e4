"""What running the stages in an isolation child costs: the same job with isolation on and off.

For each config (by default the default pipeline, trafilatura, and the same stages with the
resiliparse engine, where the fixed costs weigh more), the job runs over the same input with
``isolation: {enabled: true}`` and ``isolation: false``, alternating off, on, off, on, ... Each run
is a fresh ``python -m jobs.process_cc --workers 1`` process (the in-process runner: the difference
is only the isolation child), timed from start to exit. Reported: the median wall time of each, the
overhead of isolation in percent, and a check that both wrote the same rows.

Usage (from the repository root)::

    .venv/bin/python benchmarks/isolation_overhead.py [--input WARC ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pyarrow.parquet as pq  # noqa: E402 -- after sys.path

from pipeline.document import text_hash  # noqa: E402

BENCH_WARC = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
DEFAULT_CONFIGS = [REPO_ROOT / "jobs" / "configs" / "default.yaml", "resiliparse"]


def _config_variants(config: str | Path, folder: Path) -> tuple[str, dict[bool, Path]]:
    """The config as YAML with isolation on and off (``resiliparse``: default.yaml, fast engine)."""
    if config == "resiliparse":
        data = yaml.safe_load((REPO_ROOT / "jobs" / "configs" / "default.yaml").read_text())
        data["stages"][0]["engine"] = "resiliparse"
        name = "default+resiliparse"
    else:
        data = yaml.safe_load(Path(config).read_text())
        name = Path(config).stem
    paths = {}
    for enabled in (False, True):
        path = folder / f"{name}-{'on' if enabled else 'off'}.yaml"
        path.write_text(yaml.safe_dump({**data, "isolation": {"enabled": enabled}}, sort_keys=False))
        paths[enabled] = path
    return name, paths


def _run(config: Path, inputs: list[str], output: Path) -> float:
    command = [sys.executable, "-m", "jobs.process_cc", "--config", str(config), "--input", *inputs,
               "--output", str(output), "--workers", "1", "--no-progress", "--overwrite"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{config.name}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    return seconds


def _rows(output: Path) -> list[tuple[str, str]]:
    table = pq.read_table(output / "data", columns=["id", "text"])
    return sorted(zip(table["id"].to_pylist(), map(text_hash, table["text"].to_pylist()), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", nargs="+", default=[str(BENCH_WARC)])
    parser.add_argument("--config", nargs="+", default=[str(c) for c in DEFAULT_CONFIGS])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"input: {' '.join(args.input)}; {args.repeat} runs each, alternating off/on; --workers 1")
    print("| config | isolation off (s, median) | isolation on (s, median) | overhead | rows equal |", end="")
    print(" all runs off / on (s) |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="isolation-overhead-") as tmp:
        folder = Path(tmp)
        for config in args.config:
            name, paths = _config_variants(config, folder)
            times: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(args.repeat):
                for enabled in (False, True):
                    times[enabled].append(_run(paths[enabled], args.input, folder / f"out-{enabled}"))
            off, on = statistics.median(times[False]), statistics.median(times[True])
            equal = _rows(folder / "out-False") == _rows(folder / "out-True")
            runs = " / ".join(", ".join(f"{t:.1f}" for t in times[enabled]) for enabled in (False, True))
            print(
                f"| {name} | {off:.2f} | {on:.2f} | {100 * (on - off) / off:+.1f} % | {equal} | {runs} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
