"""Ray runner on all cores against the local runner on one: is ray_rate >= 0.85 x cores x local_rate?

Input: ``--copies`` (default 4) copies of ../shared/testdata/bench-warc/bench.warc.gz (646 responses
with their request and metadata records; ``--limit K``: only the first K responses), each under fresh
WARC-Record-IDs (uuid5 of the copy and the old id, as ``benchmarks/kill_resume.py`` does) and written
as its own file with ``tests/pipeline/warcgen.py``.

Runs, alternating local, ray[, split], local, ray, ... ``--repeat`` times (default 3), each a fresh
``python -m jobs.process_cc --no-progress`` process over all copies, into a new output folder:

* local: ``--executor local --workers 1``, the process pinned to one CPU (``--cpu``, default the
  highest of this process's affinity) with ``os.sched_setaffinity`` before exec; its isolation and
  extraction children inherit the pin;
* ray: ``--executor ray --workers N`` (``--workers``, default the number of CPUs this process may run
  on), unpinned. ``RAY_ADDRESS`` is removed from its environment, so ``pipeline.ray_runner.init_ray``
  starts a private single-node Ray bound to 127.0.0.1 without a dashboard; ``RAY_TMPDIR`` points into
  the work folder and ``RAY_USAGE_STATS_ENABLED=0``. Every 2 s the script lists the TCP sockets in
  LISTEN state held by the run's processes (found by a tag in their environment or by the driver's
  session) and records those
  bound beyond loopback (``non_loopback_listeners``, expected empty) and how many it saw at once,
  loopback included (``listening_sockets_seen``: proof that the check found Ray's processes).
  Processes of the run still alive 5 s after the driver exits are reported and killed, by id;
* split (``--split``): the machine's own ceiling, no Ray: ``--workers`` local runners started at once,
  each pinned to one CPU and given every ``workers``-th file; wall time until the last exits. Two
  processes on two cores need not run at twice one's rate (shared caches, memory, the host's other
  guests), and no runner can beat this; ray / split is what Ray itself costs.

Figures per run: docs/s = response records read (stats.json) / wall seconds from start to exit.
Start-up = seconds from start until the first sandbox child (``python -m extractors.sandbox``: the
isolation child, or the extraction child without isolation) appears, i.e. until the first batch
reaches a worker (interpreter start and imports included, for both runners; the children's setup,
model loading, is not); stats.json has no timestamps to derive it from. Steady-state docs/s = responses / (the
time stats.json was written - start-up), which leaves out start-up and the exit (Ray's shutdown).
From stats.json also: runner seconds (``runner.wall_seconds``) and the time not spent in stages,
runner seconds - (sum of stage seconds, reading included) / workers. Medians over the repeats;
efficiency = ray docs/s / (workers x local docs/s), for the whole run and for the steady state.

Usage (from the repository root; a full run, 2,584 documents x 3 x 2 runs, is ~10-15 min on 2 cores)::

    .venv/bin/python benchmarks/ray_scaling.py [--copies 4] [--repeat 3] [--limit K] [--config PATH] [--fast]

``--fast`` runs ``jobs/configs/fast.yaml`` (the fast mode) instead of ``--config``.

``--cluster`` times the Ray runner as ``ray job submit`` uses it, on a cluster that is already up:
before each Ray run (outside the timer) a head is started with ``ray start`` (``tests/pipeline/
raykill.py``: 127.0.0.1, token auth, no dashboard, ``--workers`` CPUs), the driver joins it through
``RAY_ADDRESS``, and the head is stopped (by process id) after the run. Start-up then counts the
driver's connection and the actors' start, not the cluster's.
Prints a table, then one JSON object with every figure as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pipeline.config import DEFAULT_CONFIG  # noqa: E402 -- after sys.path
from tests.pipeline.raykill import RayHead, listening_sockets, process_session  # noqa: E402 -- after sys.path
from tests.pipeline.warcgen import copy_warc  # noqa: E402 -- after sys.path

BENCH_WARC = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
FAST_CONFIG = REPO_ROOT / "jobs" / "configs" / "fast.yaml"
RUNNERS = ("local", "ray", "split")
TAG = "CCSIEVE_RAY_SCALING_RUN"  # in the environment of every process of a run


def build_copies(folder: Path, copies: int, limit: int | None) -> tuple[list[str], int]:
    """``copies`` WARC files, each the bench WARC (its first ``limit`` responses) under fresh record ids."""
    return copy_warc(BENCH_WARC, folder, copies, limit, "ray-scaling")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def tagged(value: str, session: int | None = None) -> list[int]:
    """Process ids whose environment holds ``TAG=value`` or that run in ``session``.

    The session catches what the tag misses: Ray retitles its processes with setproctitle, which may
    reuse the memory of the environment (the agents' reads empty then).
    """
    needle = f"{TAG}={value}".encode()
    pids = (int(e.name) for e in os.scandir("/proc") if e.name.isdigit())
    mine = os.getpid()
    return [
        pid
        for pid in pids
        if pid != mine
        and (
            (session is not None and process_session(pid) == session)
            or needle in _read(f"/proc/{pid}/environ").split(b"\0")
        )
    ]


def listeners(pids: list[int]) -> tuple[int, list[str]]:
    """How many TCP sockets ``pids`` hold in LISTEN state, and those bound beyond loopback."""
    sockets = listening_sockets(pids)
    found = []
    for pid, address, loopback in sockets:
        if not loopback:
            cmd = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace")[:80]
            found.append(f"{address} pid {pid} {cmd}")
    return len(sockets), found


def measure(runner: str, config: Path, inputs: list[str], output: Path, opts: argparse.Namespace) -> dict:
    """One run in a fresh process: wall time, start-up, and what its stats.json says."""
    workers = 1 if runner == "local" else opts.workers
    command = [sys.executable, "-m", "jobs.process_cc", "--config", str(config), "--input", *inputs,
               "--output", str(output), "--executor", runner, "--workers", str(workers),
               "--no-progress"]  # fmt: skip
    tag = secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env |= {TAG: tag, "RAY_TMPDIR": str(opts.work / "ray"), "RAY_USAGE_STATS_ENABLED": "0"}
    head = None
    if runner == "ray" and opts.cluster:
        os.environ[TAG] = tag  # the head's processes carry the tag: checked and stopped with the run's
        try:
            head = RayHead.start(num_cpus=opts.workers)
        finally:
            del os.environ[TAG]
        env = head.env | {TAG: tag}
    cpu = opts.cpu
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if runner == "local" else None
    log = output.with_suffix(".log")
    # pid -> when first seen (a fork shows its parent's command until exec); older processes never count
    seen = {int(e.name): -1e9 for e in os.scandir("/proc") if e.name.isdigit()}
    start, start_wall = time.perf_counter(), time.time()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=pin,
            start_new_session=True,  # its session id is its pid: see tagged()
        )
    first_work: float | None = None
    exposed: set[str] = set()
    listening = 0
    next_check = start + 2.0
    try:
        while proc.poll() is None:
            now = time.perf_counter()
            if first_work is None:
                for entry in os.scandir("/proc"):
                    if not entry.name.isdigit() or now - seen.setdefault(int(entry.name), now) > 1.0:
                        continue
                    pid = entry.name
                    cmd, environ = _read(f"/proc/{pid}/cmdline"), _read(f"/proc/{pid}/environ")
                    if b"extractors.sandbox" in cmd and f"{TAG}={tag}".encode() in environ:
                        first_work = now - start
                        break
            if runner == "ray" and now >= next_check:
                count, found = listeners(tagged(tag, proc.pid) + (head.pids() if head else []))
                listening, exposed = max(listening, count), exposed | set(found)
                next_check = now + 2.0
            if now - start > opts.timeout:
                raise RuntimeError(f"{runner} run over {opts.timeout} s; log: {log}")
            time.sleep(0.05 if first_work is None else 0.25)
        wall = time.perf_counter() - start
        # a cluster outlives its jobs: only the processes the driver started itself must be gone
        cluster = set(head.pids()) if head is not None else set()
        deadline = time.perf_counter() + 5.0
        while (
            left := [p for p in tagged(tag, proc.pid) if p not in cluster]
        ) and time.perf_counter() < deadline:
            time.sleep(0.2)
    finally:  # whatever of this run is still alive (all of it after an error), by process id
        for pid in tagged(tag, proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if head is not None:
            head.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{runner} run: exit {proc.returncode}:\n{log.read_text()[-3000:]}")
    stats = json.loads((output / "stats.json").read_text())
    done = (output / "stats.json").stat().st_mtime - start_wall
    responses = stats["responses_read"]
    runner_s = stats["runner"]["wall_seconds"]
    busy = sum(s["seconds"] for s in stats["stages"].values())
    steady = done - first_work if first_work is not None else None
    return {
        "runner": runner,
        "workers": workers,
        "responses": responses,
        "kept": stats["kept"],
        "wall_seconds": round(wall, 2),
        "docs_per_s": round(responses / wall, 2),
        "startup_seconds": None if first_work is None else round(first_work, 2),
        "stats_written_seconds": round(done, 2),
        "steady_docs_per_s": round(responses / steady, 2) if steady else None,
        "runner_seconds": runner_s,
        "stage_seconds": round(busy, 2),
        "non_stage_seconds": round(runner_s - busy / workers, 2),
        "listening_sockets_seen": listening,
        "non_loopback_listeners": sorted(exposed),
        "left_after_exit": len(left),
    }


def measure_split(config: Path, inputs: list[str], output: Path, opts: argparse.Namespace) -> dict:
    """The machine's own ceiling: ``--workers`` local runners at once, each pinned to its own CPU and
    given every ``workers``-th file; no Ray. Wall time until the last one exits."""
    cpus = sorted(os.sched_getaffinity(0))[: opts.workers]
    procs, logs = [], []
    start = time.perf_counter()
    for index, cpu in enumerate(cpus):
        part = output / f"part-{index}"
        command = [sys.executable, "-m", "jobs.process_cc", "--config", str(config),
                   "--input", *inputs[index :: len(cpus)], "--output", str(part), "--executor", "local",
                   "--workers", "1", "--no-progress"]  # fmt: skip
        logs.append(output.parent / f"{output.name}-{index}.log")
        with open(logs[-1], "wb") as fh:
            procs.append(
                subprocess.Popen(
                    command,
                    cwd=REPO_ROOT,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    preexec_fn=lambda cpu=cpu: os.sched_setaffinity(0, {cpu}),
                )
            )
    for proc, log in zip(procs, logs, strict=True):
        if proc.wait(timeout=opts.timeout) != 0:
            raise RuntimeError(f"split run: exit {proc.returncode}:\n{log.read_text()[-3000:]}")
    wall = time.perf_counter() - start
    stats = [json.loads((output / f"part-{i}" / "stats.json").read_text()) for i in range(len(cpus))]
    responses = sum(s["responses_read"] for s in stats)
    none = dict.fromkeys(("startup_seconds", "steady_docs_per_s", "runner_seconds", "non_stage_seconds"))
    return {
        "runner": "split",
        "workers": len(cpus),
        "responses": responses,
        "kept": sum(s["kept"] for s in stats),
        "wall_seconds": round(wall, 2),
        "docs_per_s": round(responses / wall, 2),
        **none,
        "listening_sockets_seen": 0,
        "non_loopback_listeners": [],
        "left_after_exit": 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    affinity = sorted(os.sched_getaffinity(0))
    parser.add_argument("--copies", type=int, default=4, help="copies of the bench WARC (default: 4)")
    parser.add_argument("--limit", type=int, default=None, help="first K response records per copy")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each runner (default: 3)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="default: %(default)s")
    parser.add_argument("--fast", action="store_true", help="run jobs/configs/fast.yaml (the fast mode)")
    parser.add_argument("--workers", type=int, default=len(affinity), help="Ray workers (default: CPUs)")
    parser.add_argument("--cpu", type=int, default=affinity[-1], help="CPU of the local run")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--work", type=Path, default=None, help="folder for inputs and outputs (kept)")
    parser.add_argument("--cluster", action="store_true", help="Ray runs join a head started beforehand")
    parser.add_argument(
        "--split", action="store_true", help="also time --workers pinned local runners at once"
    )
    opts = parser.parse_args()
    keep = opts.work is not None
    opts.work = (opts.work or Path(tempfile.mkdtemp(prefix="ray-scaling-"))).resolve()
    opts.work.mkdir(parents=True, exist_ok=True)

    runs: list[dict[str, Any]] = []
    try:
        config = FAST_CONFIG if opts.fast else opts.config
        inputs, per_copy = build_copies(opts.work, opts.copies, opts.limit)
        for rep in range(opts.repeat):
            for runner in RUNNERS if opts.split else RUNNERS[:2]:
                output = opts.work / f"out-{runner}-{rep}"
                shutil.rmtree(output, ignore_errors=True)
                if runner == "split":
                    output.mkdir(parents=True)
                    runs.append({"repeat": rep, **measure_split(config, inputs, output, opts)})
                else:
                    runs.append({"repeat": rep, **measure(runner, config, inputs, output, opts)})
                shutil.rmtree(output, ignore_errors=True)
                r = runs[-1]
                print(f"{runner} #{rep}: {r['docs_per_s']} docs/s ({r['wall_seconds']} s)", file=sys.stderr)
    finally:
        if not keep:
            shutil.rmtree(opts.work, ignore_errors=True)

    def median(runner: str, key: str) -> float | None:
        values = [r[key] for r in runs if r["runner"] == runner and r[key] is not None]
        return round(statistics.median(values), 2) if values else None

    keys = ("wall_seconds", "docs_per_s", "startup_seconds", "steady_docs_per_s", "runner_seconds",
            "non_stage_seconds")  # fmt: skip
    medians = {
        runner: {key: median(runner, key) for key in keys}
        for runner in RUNNERS
        if median(runner, "wall_seconds")
    }
    local, ray = medians["local"], medians["ray"]
    efficiency = round(ray["docs_per_s"] / (opts.workers * local["docs_per_s"]), 3)
    steady_eff = None
    if ray["steady_docs_per_s"] and local["steady_docs_per_s"]:
        steady_eff = round(ray["steady_docs_per_s"] / (opts.workers * local["steady_docs_per_s"]), 3)
    extra = None
    if ray["startup_seconds"] is not None and local["startup_seconds"] is not None:
        extra = round(ray["startup_seconds"] - local["startup_seconds"], 2)

    engine = " (fast mode)" if opts.fast else ""
    print(f"\nconfig: {opts.config}{engine}; {opts.copies} x {per_copy} responses per copy")
    where = "a head started before the timer" if opts.cluster else "a private Ray started by the run"
    print(f"local: 1 worker on CPU {opts.cpu}; ray: {opts.workers} workers on {where}")
    head = ["runner", "#", "docs", "wall s", "docs/s", "start-up s", "steady docs/s", "runner s"]
    head.append("non-stage s")
    table = [head]
    for r in runs:
        cells = [r["runner"], str(r["repeat"]), f"{r['responses']:,}"]
        for key in keys:
            cells.append("-" if r[key] is None else f"{r[key]:.2f}")
        table.append(cells)
    for runner in medians:
        m = medians[runner]
        table.append([runner, "med", "", *("-" if m[k] is None else f"{m[k]:.2f}" for k in keys)])
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print("-" * (sum(widths) + 2 * len(widths) - 2))
    print(f"efficiency = ray / ({opts.workers} x local): {efficiency} (steady state: {steady_eff})")
    ceiling = None
    if "split" in medians:
        ceiling = round(medians["split"]["docs_per_s"] / (opts.workers * local["docs_per_s"]), 3)
        print(f"machine's ceiling = split / ({opts.workers} x local): {ceiling}", end="; ")
        print(f"ray / split: {efficiency / ceiling:.3f}")
    print(f"Ray start-up beyond the local runner's: {extra} s")
    exposed = sorted({x for r in runs for x in r["non_loopback_listeners"]})
    seen = max(r["listening_sockets_seen"] for r in runs if r["runner"] == "ray")
    print(f"listening sockets of a Ray run (most at once): {seen}; beyond loopback: {exposed or 'none'}")
    summary = {
        "config": str(opts.config),
        "fast": opts.fast,
        "cluster": opts.cluster,
        "copies": opts.copies,
        "limit": opts.limit,
        "responses_per_copy": per_copy,
        "workers": opts.workers,
        "cpu_count": os.cpu_count(),
        "affinity": affinity,
        "local_cpu": opts.cpu,
        "medians": medians,
        "efficiency": efficiency,
        "steady_efficiency": steady_eff,
        "split_efficiency": ceiling,
        "ray_extra_startup_seconds": extra,
        "non_loopback_listeners": exposed,
        "runs": runs,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
