"""Run a function in a child process with a hard time limit.

Some pages make HTML parsers run for minutes or grow without bound; a signal cannot interrupt them
inside C code, so the work happens in a long-lived child process that is killed and restarted when
one call overruns. The child is a fresh interpreter (``python -m extractors.sandbox``) talking over two
pipes: unlike multiprocessing's spawn, it never re-imports the caller's ``__main__``, and it is safe
inside Ray workers and threaded programs.
"""

from __future__ import annotations

import importlib
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Sandbox", "SandboxCrashed", "SandboxTimeout"]


class SandboxTimeout(Exception):
    """The call did not finish within the time limit; the child was killed."""


class SandboxCrashed(Exception):
    """The child process died during the call (out of memory, a crash in C code, ...)."""


class Sandbox:
    """Calls ``func(arg)`` in a child process, at most ``timeout_s`` seconds per call.

    ``func`` must be a module-level function (it is imported by name in the child); ``arg`` and the
    result must pickle. ``memory_mb`` caps the child's address space.
    """

    def __init__(self, func: Callable[[Any], Any], timeout_s: float, memory_mb: int | None = None) -> None:
        self._target = f"{func.__module__}:{func.__qualname__}"
        self._timeout_s = timeout_s
        self._memory_mb = memory_mb or 0
        self._process: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self.restarts = 0

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        args = [str(to_child_r), str(from_child_w), self._target, str(self._memory_mb)]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "extractors.sandbox", *args],
            pass_fds=(to_child_r, from_child_w),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._to_child = Connection(to_child_w, readable=False)
        self._from_child = Connection(from_child_r, writable=False)

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
        for conn in (self._to_child, self._from_child):
            if conn is not None:
                conn.close()
        self._process = self._to_child = self._from_child = None

    def _restart_after_failure(self) -> None:
        self._stop()
        self.restarts += 1

    def call(self, arg: Any) -> Any:
        """Return ``func(arg)``; raise SandboxTimeout, SandboxCrashed, or RuntimeError for its exception."""
        if self._process is not None and self._process.poll() is not None:
            self._restart_after_failure()
        if self._process is None:
            self._start()
        assert self._to_child is not None and self._from_child is not None
        try:
            self._to_child.send(arg)
            ready = self._from_child.poll(self._timeout_s)
        except (BrokenPipeError, EOFError, OSError) as exc:
            self._restart_after_failure()
            raise SandboxCrashed(f"child died: {exc!r}") from None
        if not ready:
            self._restart_after_failure()
            raise SandboxTimeout(f"no result after {self._timeout_s:g} s")
        try:
            ok, value = self._from_child.recv()
        except (EOFError, OSError) as exc:
            self._restart_after_failure()
            raise SandboxCrashed(f"child died: {exc!r}") from None
        if not ok:
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        self._stop()

    def __del__(self) -> None:
        try:
            self._stop()
        except Exception:  # interpreter shutdown: nothing useful left to do
            pass


def _child_main(read_fd: int, write_fd: int, target: str, memory_mb: int) -> None:
    if memory_mb:
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    module, _, name = target.partition(":")
    func: Callable[[Any], Any] = getattr(importlib.import_module(module), name)
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    while True:
        try:
            arg = inbox.recv()
        except EOFError:  # the parent has gone: so do we
            return
        try:
            result: tuple[bool, Any] = (True, func(arg))
        except MemoryError:
            result = (False, "MemoryError")
        except Exception as exc:
            result = (False, f"{type(exc).__name__}: {exc}"[:500])
        outbox.send(result)


if __name__ == "__main__":
    _child_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
