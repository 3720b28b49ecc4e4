"""Peak RSS of every process of a run, one input WARC against ten: is memory per worker flat in input size?

Input: ``N`` copies of ../shared/testdata/bench-warc/bench.warc.gz (646 responses with their request
and metadata records; ``--limit K``: only the first K responses), each under fresh WARC-Record-IDs
(uuid5 of the copy and the old id, as ``benchmarks/kill_resume.py`` does; WARC-Concurrent-To follows)
and written as its own file with ``tests/pipeline/warcgen.py``. For each ``N`` of ``--files`` (default
1 and 10) a fresh ``python -m jobs.process_cc --workers 1 --no-progress`` runs over the N files.

Measured: every ``--interval`` seconds (default 0.05) the script walks the run's process tree from
``/proc`` (parent ids) and reads each process's ``VmHWM`` (peak RSS since its last exec; the last
reading of a process is its peak up to ~one interval before it exits) and ``VmRSS``. Processes are
named by role: the driver (the ``jobs.process_cc`` process; with ``--workers 1`` it is also the
worker), the isolation child (``extractors.sandbox ... pipeline.isolation:run_chain_job``, the stage
chain), the extraction sandbox (``extractors.sandbox ... extractors.engines:extract_page``, a child of
the isolation child, or of the driver with ``isolation: false``), pool workers and others. Per role:
the largest peak of its processes and how many there were; per run: the largest sum of ``VmRSS``
over the tree at one sample, the kernel's figure (``ru_maxrss`` of the driver from ``wait4``: the
largest of the driver and its reaped descendants), and each role's peak when the first and when the
last input file was committed (``_markers/``), which shows growth within one run. Ratios are those
of the largest ``N`` to the smallest.

Usage (from the repository root; a full run is 11 files of the default pipeline, ~7 min on one core)::

    .venv/bin/python benchmarks/memory_scaling.py [--files 1,10] [--limit K] [--config PATH] [--fast]

``--fast`` runs ``jobs/configs/fast.yaml`` (the fast mode) instead of ``--config``.
Prints a table, then one JSON object with every figure as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pipeline.config import DEFAULT_CONFIG  # noqa: E402 -- after sys.path
from tests.pipeline.warcgen import copy_warc  # noqa: E402 -- after sys.path

BENCH_WARC = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
FAST_CONFIG = REPO_ROOT / "jobs" / "configs" / "fast.yaml"
ROLES = ("driver", "isolation child", "extraction sandbox", "prefilter sandbox", "pool worker", "other")


def build_copies(folder: Path, copies: int, limit: int | None) -> tuple[list[str], int]:
    """``copies`` WARC files, each the bench WARC (its first ``limit`` responses) under fresh record ids."""
    return copy_warc(BENCH_WARC, folder, copies, limit, "memory-scaling")


def role_of(pid: int, root: int, cmd: str) -> str:
    if pid == root:
        return "driver"
    if "extractors.sandbox" in cmd:
        if "pipeline.isolation:run_chain_job" in cmd:
            return "isolation child"
        return "prefilter sandbox" if "extractors.text_dump:visible_text" in cmd else "extraction sandbox"
    if "multiprocessing" in cmd and "resource_tracker" not in cmd:
        return "pool worker"
    return "other"


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


@dataclass
class Proc:
    pid: int
    role: str
    cmd: str
    seen_at: float
    hwm_kib: int = 0  # the last VmHWM read: the peak since exec (monotonic)
    rss_kib: int = 0


class TreeSampler:
    """The descendants of ``root`` and their memory, from /proc; parent ids cached per pid."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.ppids: dict[int, int] = {}
        self.procs: dict[int, Proc] = {}
        self.max_tree_rss_kib = 0

    def tree(self) -> set[int]:
        live = {int(e.name) for e in os.scandir("/proc") if e.name.isdigit()}
        for pid in list(self.ppids):
            if pid not in live:
                del self.ppids[pid]
        for pid in live - self.ppids.keys():
            stat = _read(f"/proc/{pid}/stat")
            if stat is not None:
                self.ppids[pid] = int(stat[stat.rfind(b")") + 2 :].split()[1])
        children: dict[int, list[int]] = {}
        for pid, ppid in self.ppids.items():
            children.setdefault(ppid, []).append(pid)
        found, todo = set(), [self.root]
        while todo:
            pid = todo.pop()
            if pid in self.ppids and pid not in found:
                found.add(pid)
                todo += children.get(pid, [])
        return found

    def sample(self) -> None:
        now = time.perf_counter()
        total = 0
        for pid in self.tree():
            status = _read(f"/proc/{pid}/status")
            if status is None:
                continue
            fields = dict(line.split(b":", 1) for line in status.splitlines() if b":" in line)
            if b"VmHWM" not in fields:  # a zombie: its last reading stands
                continue
            proc = self.procs.get(pid)
            if proc is None or now - proc.seen_at < 1.0:  # fork before exec: the command line settles
                cmd = (_read(f"/proc/{pid}/cmdline") or b"").replace(b"\0", b" ").decode(errors="replace")
                role = role_of(pid, self.root, cmd)
                if proc is None:
                    proc = self.procs[pid] = Proc(pid, role, cmd, now)
                proc.role, proc.cmd = role, cmd
            proc.hwm_kib = int(fields[b"VmHWM"].split()[0])
            proc.rss_kib = int(fields[b"VmRSS"].split()[0])
            total += proc.rss_kib
        self.max_tree_rss_kib = max(self.max_tree_rss_kib, total)

    def peaks(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for proc in self.procs.values():
            entry = out.setdefault(proc.role, {"peak_mib": 0.0, "processes": 0})
            entry["peak_mib"] = max(entry["peak_mib"], round(proc.hwm_kib / 1024, 1))
            entry["processes"] += 1
        return out


def measure(config: Path, inputs: list[str], output: Path, opts: argparse.Namespace) -> dict[str, Any]:
    """One run of the pipeline in a fresh process, its tree sampled until it exits."""
    command = [sys.executable, "-m", "jobs.process_cc", "--config", str(config), "--input", *inputs,
               "--output", str(output), "--workers", str(opts.workers), "--no-progress"]  # fmt: skip
    log = output.with_suffix(".log")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    start = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env)
    sampler = TreeSampler(proc.pid)
    by_file: list[dict[str, float]] = []
    status, usage = None, None
    while status is None:
        sampler.sample()
        markers = output / "_markers"
        done = len(os.listdir(markers)) if markers.is_dir() else 0
        while len(by_file) < done:  # each role's peak so far, when a file was committed
            by_file.append({r: v["peak_mib"] for r, v in sampler.peaks().items()})
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == 0:
            status = None
            if time.perf_counter() - start > opts.timeout:
                proc.kill()
                raise RuntimeError(f"run over {opts.timeout} s; log: {log}")
            time.sleep(opts.interval)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}:\n{log.read_text()[-3000:]}")
    stats = json.loads((output / "stats.json").read_text())
    assert usage is not None
    return {
        "files": len(inputs),
        "responses": stats["responses_read"],
        "kept": stats["kept"],
        "wall_seconds": round(wall, 1),
        "roles": sampler.peaks(),
        "max_tree_rss_mib": round(sampler.max_tree_rss_kib / 1024, 1),
        "kernel_maxrss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "peak_after_first_file": by_file[0] if by_file else {},
        "peak_after_last_file": by_file[-1] if by_file else {},
        "commands": {p.role: p.cmd[:200] for p in sampler.procs.values()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="1,10", help="input sizes in WARC files (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="first K response records per file")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="default: %(default)s")
    parser.add_argument("--fast", action="store_true", help="run jobs/configs/fast.yaml (the fast mode)")
    parser.add_argument("--workers", type=int, default=1, help="--workers of the run (default: 1)")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between samples")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--work", type=Path, default=None, help="folder for inputs and outputs (kept)")
    opts = parser.parse_args()
    sizes = sorted({int(n) for n in opts.files.split(",")})

    work = opts.work or Path(tempfile.mkdtemp(prefix="memory-scaling-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        config = FAST_CONFIG if opts.fast else opts.config
        inputs, per_file = build_copies(work, max(sizes), opts.limit)
        runs = []
        for n in sizes:
            output = work / f"out-{n}files"
            shutil.rmtree(output, ignore_errors=True)
            runs.append(measure(config, inputs[:n], output, opts))
            shutil.rmtree(output, ignore_errors=True)
            r = runs[-1]
            print(f"{n} file(s): {r['responses']:,} responses in {r['wall_seconds']} s", file=sys.stderr)
    finally:
        if opts.work is None:
            shutil.rmtree(work, ignore_errors=True)

    roles = [r for r in ROLES if any(r in run["roles"] for run in runs)]
    first, last = runs[0], runs[-1]
    ratios = {
        role: round(last["roles"][role]["peak_mib"] / first["roles"][role]["peak_mib"], 3)
        for role in roles
        if role in first["roles"] and role in last["roles"] and first["roles"][role]["peak_mib"]
    }
    ratios["tree (sum of RSS)"] = round(last["max_tree_rss_mib"] / first["max_tree_rss_mib"], 3)
    ratios["kernel ru_maxrss"] = round(last["kernel_maxrss_mib"] / first["kernel_maxrss_mib"], 3)

    engine = " (fast mode)" if opts.fast else ""
    print(f"\nconfig: {opts.config}{engine}; {per_file} responses per file; workers {opts.workers}")
    head = ["files", "responses", "wall s", *(f"{r} MiB (n)" for r in roles), "tree MiB", "ru_maxrss MiB"]
    table = [head]
    for run in runs:
        cells = [str(run["files"]), f"{run['responses']:,}", f"{run['wall_seconds']:.1f}"]
        for role in roles:
            peak = run["roles"].get(role)
            cells.append(f"{peak['peak_mib']:.1f} ({peak['processes']})" if peak else "-")
        table.append([*cells, f"{run['max_tree_rss_mib']:.1f}", f"{run['kernel_maxrss_mib']:.1f}"])
    factors = [*(ratios.get(r, float("nan")) for r in roles), ratios["tree (sum of RSS)"]]
    factors.append(ratios["kernel ru_maxrss"])
    table.append([f"{last['files']}/{first['files']}", "", "", *(f"x{f:.3f}" for f in factors)])
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print("-" * (sum(widths) + 2 * len(widths) - 2))
    print(f"within the {last['files']}-file run, peak MiB after the first / last file committed:")
    for role in roles:
        a, b = last["peak_after_first_file"].get(role), last["peak_after_last_file"].get(role)
        print(f"  {role}: {a} / {b}")
    print(
        json.dumps(
            {
                "config": str(opts.config),
                "fast": opts.fast,
                "limit": opts.limit,
                "responses_per_file": per_file,
                "workers": opts.workers,
                "interval_s": opts.interval,
                "runs": runs,
                "ratios_last_over_first": ratios,
            }
        )
    )


if __name__ == "__main__":
    main()
