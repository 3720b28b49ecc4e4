"""Run a function in a child process with a hard time limit.

Some pages make HTML parsers run for minutes or grow without bound; a signal cannot interrupt them
inside C code, so the work happens in a long-lived child process that is killed and restarted when
one call overruns. The child is a fresh interpreter (``python -m extractors.sandbox``) talking over two
pipes: unlike multiprocessing's spawn, it never re-imports the caller's ``__main__``, and it is safe
inside Ray workers and threaded programs.

With ``status_bytes`` the parent and the child also share a small block of memory (a memfd): the
child writes where it is (:func:`child_status`) and the parent reads it after the child died or was
killed, to tell which step of the call was running.
"""

from __future__ import annotations

import importlib
import mmap
import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Sandbox", "SandboxCrashed", "SandboxOutOfMemory", "SandboxTimeout", "child_status"]

# In the child: the status block shared with the parent, when the parent asked for one.
_child_status: mmap.mmap | None = None
_OUT_OF_MEMORY = "MemoryError"
# Environment variables a child never gets: tokens, passwords, keys (HF_TOKEN, AWS_SECRET_ACCESS_KEY, ...).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_KEY$|^AWS_|^HF_|^HUGGING", re.IGNORECASE)


class SandboxTimeout(Exception):
    """The call did not finish within the time limit; the child was killed."""


class SandboxOutOfMemory(Exception):
    """The call raised MemoryError (the child's address-space cap); the child was restarted."""


class SandboxCrashed(Exception):
    """The child process died during the call (out of memory, a crash in C code, ...)."""


class Sandbox:
    """Calls ``func(arg)`` in a child process, at most ``timeout_s`` seconds per call.

    ``func`` must be a module-level function (it is imported by name in the child); ``arg`` and the
    result must pickle. ``memory_mb`` caps the child's address space. ``status_bytes > 0`` gives
    :attr:`status`, a block of that many bytes the child writes through :func:`child_status`; it
    outlives the child, so it still says what the child was doing when it died.
    """

    def __init__(
        self,
        func: Callable[[Any], Any],
        timeout_s: float,
        memory_mb: int | None = None,
        status_bytes: int = 0,
    ) -> None:
        self._target = f"{func.__module__}:{func.__qualname__}"
        self._timeout_s = timeout_s
        self._memory_mb = memory_mb or 0
        self._process: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self.restarts = 0
        self._status_fd = -1
        self.status: mmap.mmap | None = None
        if status_bytes > 0:
            self._status_fd = os.memfd_create("ccsieve-sandbox-status")
            os.ftruncate(self._status_fd, status_bytes)
            self.status = mmap.mmap(self._status_fd, status_bytes)

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Secrets stay behind: the child parses untrusted pages and needs no token or key.
        env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        args = [str(to_child_r), str(from_child_w), self._target, str(self._memory_mb), str(self._status_fd)]
        fds = (to_child_r, from_child_w) + ((self._status_fd,) if self._status_fd >= 0 else ())
        self._process = subprocess.Popen(
            [sys.executable, "-m", "extractors.sandbox", *args],
            pass_fds=fds,
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

    def call(self, arg: Any, timeout_s: float | None = None) -> Any:
        """Return ``func(arg)``; raise SandboxTimeout, SandboxCrashed, or RuntimeError for its exception.

        ``timeout_s`` overrides the sandbox's time limit for this call.
        """
        timeout_s = self._timeout_s if timeout_s is None else timeout_s
        if self._process is not None and self._process.poll() is not None:
            self._restart_after_failure()
        if self._process is None:
            self._start()
        assert self._to_child is not None and self._from_child is not None
        try:
            self._to_child.send(arg)
            ready = self._from_child.poll(timeout_s)
        except (BrokenPipeError, EOFError, OSError) as exc:
            self._restart_after_failure()
            raise SandboxCrashed(f"child died: {exc!r}") from None
        if not ready:
            self._restart_after_failure()
            raise SandboxTimeout(f"no result after {timeout_s:g} s")
        try:
            ok, value = self._from_child.recv()
        except (EOFError, OSError) as exc:
            self._restart_after_failure()
            raise SandboxCrashed(f"child died: {exc!r}") from None
        if not ok:
            if value == _OUT_OF_MEMORY:
                self._restart_after_failure()  # the child is ending: the next call starts a fresh one
                raise SandboxOutOfMemory(f"the call ran out of memory (cap {self._memory_mb} MiB)")
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        self._stop()
        if self.status is not None:
            self.status.close()
            os.close(self._status_fd)
            self.status, self._status_fd = None, -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing useful left to do
            pass


def child_status() -> mmap.mmap | None:
    """In a sandbox child, the status block shared with the parent (None when it asked for none)."""
    return _child_status


def _child_main(read_fd: int, write_fd: int, target: str, memory_mb: int, status_fd: int = -1) -> None:
    global _child_status
    if status_fd >= 0:
        _child_status = mmap.mmap(status_fd, 0)
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
            # The heap may stay bloated near the cap: answer, then end, so the next call gets a fresh child.
            outbox.send((False, _OUT_OF_MEMORY))
            return
        except Exception as exc:
            result = (False, f"{type(exc).__name__}: {exc}"[:500])
        outbox.send(result)


if __name__ == "__main__":
    # Run the importable module's copy of _child_main, not __main__'s: child_status() must see the
    # block from any module of the child.
    from extractors.sandbox import _child_main as main

    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
