"""Run a function in a child process with a hard time limit.

Some pages make HTML parsers run for minutes or grow without bound; a signal cannot interrupt them
inside C code, so the work happens in a long-lived child process that is killed and restarted when
one call overruns. The child is started with ``spawn``, which is safe inside Ray workers and threads.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Sandbox", "SandboxCrashed", "SandboxTimeout"]


class SandboxTimeout(Exception):
    """The call did not finish within the time limit; the child was killed."""


class SandboxCrashed(Exception):
    """The child process died during the call (out of memory, a crash in C code, ...)."""


def _child_main(conn: Connection, func: Callable[[Any], Any], memory_mb: int | None) -> None:
    if memory_mb:
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            arg = conn.recv()
        except EOFError:
            return
        try:
            conn.send((True, func(arg)))
        except MemoryError:
            conn.send((False, "MemoryError"))
        except Exception as exc:
            conn.send((False, f"{type(exc).__name__}: {exc}"[:500]))


class Sandbox:
    """Calls ``func(arg)`` in a child process, at most ``timeout_s`` seconds per call.

    ``func`` must be a picklable module-level function. ``memory_mb`` caps the child's address space.
    """

    def __init__(self, func: Callable[[Any], Any], timeout_s: float, memory_mb: int | None = None) -> None:
        self._func = func
        self._timeout_s = timeout_s
        self._memory_mb = memory_mb
        self._process: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self.restarts = 0

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_child_main, args=(child, self._func, self._memory_mb), daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5)
        if self._conn is not None:
            self._conn.close()
        self._process = None
        self._conn = None
        self.restarts += 1

    def call(self, arg: Any) -> Any:
        """Return ``func(arg)``; raise SandboxTimeout, SandboxCrashed, or RuntimeError for its exception."""
        if self._process is None or not self._process.is_alive():
            if self._process is not None:
                self._kill()
            self._start()
        assert self._conn is not None
        try:
            self._conn.send(arg)
            ready = self._conn.poll(self._timeout_s)
        except (BrokenPipeError, EOFError, OSError) as exc:
            self._kill()
            raise SandboxCrashed(str(exc)) from None
        if not ready:
            self._kill()
            raise SandboxTimeout(f"no result after {self._timeout_s:g} s")
        try:
            ok, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._kill()
            raise SandboxCrashed(f"child died: {exc!r}") from None
        if not ok:
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        if self._process is not None:
            self._kill()
            self.restarts -= 1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing useful left to do
            pass
