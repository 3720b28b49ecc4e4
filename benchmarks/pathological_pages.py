"""Wall-clock time, outcome and memory of the ``extract`` stage on pathological pages, both engines.

The pages (generated here, as in tests/extractors/test_pathological.py): 50 MB of paragraphs, a page
nested 5,000 ``<div>`` deep, a tag with 100,000 attributes, a table of 20,000 rows x 50 cells (12 MB),
and tables nested 500 and 5,000 deep (a ``<table><tr><td>`` per level). Each goes through
``Stage.run`` of a warmed-up stage (sandboxed child, ``--timeout`` seconds per page, the child's address
space capped at ``--memory-mb``), with the default 4 MB size cap and with a 64 MB cap that lets every
page reach the child.

Per page: seconds against the bound (``timeout + 0.5``), the outcome, the sandbox child's peak RSS
(its ``VmHWM``, reset before the page and sampled every 5 ms, so a child killed at the timeout is
measured too), the parent's peak RSS above its RSS before the page (``VmHWM`` after
``/proc/self/clear_refs``), and the seconds of an ordinary page right after it (which pays for
restarting a child killed on the pathological page). Linux only (``/proc``).

Usage (from the repository root)::

    .venv/bin/python benchmarks/pathological_pages.py [--timeout 5] [--memory-mb 4096]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from extractors.engines import ENGINES  # noqa: E402 -- after the sys.path line above
from extractors.html import HtmlExtractor  # noqa: E402
from pipeline.document import Document  # noqa: E402

PROSE = "<p>" + "A sentence of ordinary prose that an extractor should keep as main text. " * 6 + "</p>"
SLACK_S = 0.5


def table_flood(rows: int, cells: int) -> str:
    row = "<tr>" + "".join(f"<td>c{i}</td>" for i in range(cells)) + "</tr>"
    return f"<html><body>{PROSE}<table>{row * rows}</table>{PROSE}</body></html>"


def nested_tables(depth: int) -> str:
    inner = "<table><tr><td>" * depth + PROSE + "</td></tr></table>" * depth
    return f"<html><body>{PROSE}{inner}{PROSE}</body></html>"


def pages() -> dict[str, str]:
    attributes = " ".join(f'data-a{i}="v"' for i in range(100_000))
    return {
        "50 MB": "<html><body>" + PROSE * (50_000_000 // len(PROSE)) + "</body></html>",
        "5,000 levels": "<html><body>" + PROSE + "<div>" * 5000 + PROSE + "</div>" * 5000 + "</body></html>",
        "100,000 attributes": f"<html><body><div {attributes}>{PROSE}</div>{PROSE}</body></html>",
        "table 20,000 x 50": table_flood(20_000, 50),
        "tables nested 500": nested_tables(500),
        "tables nested 5,000": nested_tables(5000),
    }


def _status_mb(pid: int | str, field: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            match = re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.MULTILINE)
    except OSError:  # the process has gone
        return None
    return int(match.group(1)) / 1024 if match else None


def _reset_peak(pid: int | str) -> None:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def _child_pid(stage: HtmlExtractor) -> int | None:
    process = getattr(getattr(stage, "_sandbox", None), "_process", None)
    return process.pid if process is not None and process.poll() is None else None


class ChildPeak:
    """Samples the sandbox child's VmHWM while a page runs; follows a child restarted meanwhile."""

    def __init__(self, stage: HtmlExtractor) -> None:
        self.stage = stage
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        pid = _child_pid(self.stage)
        if pid is not None:
            self.peak = max(self.peak, _status_mb(pid, "VmHWM") or 0.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.005)

    def __enter__(self) -> ChildPeak:
        pid = _child_pid(self.stage)
        if pid is not None:
            _reset_peak(pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the child's last word, when it survived the page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="timeout_s of the stage")
    parser.add_argument("--memory-mb", type=int, default=4096, help="memory_mb of the stage (child cap)")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core; the child inherits it
    bound = args.timeout + SLACK_S
    print(
        f"timeout_s = {args.timeout:g}, bound = {bound:g} s; sandbox child address space capped at "
        f"{args.memory_mb} MiB (RLIMIT_AS, memory_mb); one core"
    )
    print("| engine | size cap | page | seconds | within bound | outcome | child peak RSS MB | parent +MB "
          "| next page s |")  # fmt: skip
    print("| --- | --- | --- | ---: | --- | --- | ---: | ---: | ---: |")
    all_pages = pages()
    worst = 0.0
    for engine in ENGINES:
        for cap in (4.0, 64.0):
            stage = HtmlExtractor(
                engine=engine, timeout_s=args.timeout, max_html_mb=cap, memory_mb=args.memory_mb
            )
            stage.run([])  # starts and warms up the child
            for name, html in all_pages.items():
                doc = Document(id=name, url="http://example.com/", source="bench", offset=0, html=html)
                before = _status_mb("self", "VmRSS") or 0.0
                _reset_peak("self")
                with ChildPeak(stage) as child:
                    start = time.perf_counter()
                    outcome = stage.run([doc])
                    seconds = time.perf_counter() - start
                parent = max(0.0, (_status_mb("self", "VmHWM") or 0.0) - before)
                worst = max(worst, seconds)
                result = "kept" if outcome.kept else f"dropped: {outcome.dropped[0].reason}"
                healthy = Document(
                    id="ok", url="http://example.com/ok", source="bench", offset=0, html=PROSE * 3
                )
                start = time.perf_counter()
                stage.run([healthy])
                after = time.perf_counter() - start
                within = "yes" if seconds <= bound else "NO"
                print(
                    f"| {engine} | {cap:g} MB | {name} | {seconds:.2f} | {within} | {result} "
                    f"| {child.peak:.0f} | {parent:.0f} | {after:.2f} |"
                )
            stage.close()
    print(f"slowest page: {worst:.2f} s (bound {bound:g} s)")
    return 0 if worst <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
