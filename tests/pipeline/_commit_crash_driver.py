"""Hard-kill a run at each step of the commit protocol, then resume it (``test_commit_crash.py``).

Run as ``python -m tests.pipeline._commit_crash_driver CONFIG WORK INPUT...``. The driver imports
everything once and then forks one process per run, so that a run costs its work and not an
interpreter start:

1. a clean run into ``WORK/clean`` that records every call that changes the output folder (the
   fsspec ``_open`` for writing, ``mv`` and ``rm`` of the local file system) in ``WORK/calls.json``;
2. for each such call ``n``: a run into ``WORK/out-n`` that ends with ``os._exit(CRASH_EXIT)`` just
   before call ``n`` (no ``finally``, no ``abort``: the process is gone, as after a kill -9 or a power
   cut); a copy of what it left, ``WORK/crashed-n``; and a second, uninterrupted run into
   ``WORK/out-n`` that resumes it.

``WORK/results.json`` lists, per crash point, the call, and the exit codes of both runs. The runs use
the in-process local runner (``workers=1``) so that every call is made by the process that crashes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from pipeline.config import load_config
from pipeline.registry import registered_stages
from pipeline.run import run_pipeline

CRASH_EXIT = 86
# The operations that change the output folder: every step of the commit protocol is one of them.
MUTATING = ("mv", "rm", "_open")


def writes_output(name: str, args: tuple, kwargs: dict) -> bool:
    """Whether the call ``name(*args, **kwargs)`` of the local filesystem changes the folder."""
    if name != "_open":
        return True
    mode = kwargs.get("mode", args[1] if len(args) > 1 else "rb")
    return any(c in mode for c in "wax")


def describe(name: str, args: tuple) -> str:
    return " ".join([name, *map(str, args[:2] if name == "mv" else args[:1])])


def instrument(calls: list[str], crash_at: int | None) -> None:
    """Record every folder-changing call; call number ``crash_at`` ends the process before it runs."""

    def wrap(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: LocalFileSystem, *args: Any, **kwargs: Any) -> Any:
            if writes_output(name, args, kwargs):
                if crash_at is not None and len(calls) == crash_at:
                    os._exit(CRASH_EXIT)
                calls.append(describe(name, args))
            return original(self, *args, **kwargs)

        return wrapper

    for name in MUTATING:
        setattr(LocalFileSystem, name, wrap(name, getattr(LocalFileSystem, name)))


def in_child(run: Callable[[], None], timeout_s: float = 120) -> int:
    """Run ``run`` in a forked child; its exit code (a child that hangs is killed: 137)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            run()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return 137


def main(config_path: str, work: str, inputs: list[str]) -> None:
    folder = Path(work)
    config = load_config(config_path)
    registered_stages()  # every stage module imported once, before the first fork

    def clean() -> None:
        calls: list[str] = []
        instrument(calls, None)
        run_pipeline(inputs, str(folder / "clean"), config, workers=1, progress=False)
        (folder / "calls.json").write_text(json.dumps(calls))

    if in_child(clean) != 0:
        raise SystemExit("the clean run failed")
    calls = json.loads((folder / "calls.json").read_text())
    results = []
    for n, call in enumerate(calls):
        output = folder / f"out-{n:03d}"

        def crash(output: Path = output, n: int = n) -> None:
            instrument([], n)
            run_pipeline(inputs, str(output), config, workers=1, progress=False)

        def resume(output: Path = output) -> None:
            run_pipeline(inputs, str(output), config, workers=1, progress=False)

        crashed = in_child(crash)
        if output.exists():
            shutil.copytree(output, folder / f"crashed-{n:03d}")
        resumed = in_child(resume)
        results.append({"n": n, "call": call, "crash_exit": crashed, "resume_exit": resumed})
    (folder / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
