"""Ending a command-line process without the interpreter's teardown, where native threads abort it.

Native libraries keep worker threads of their own (Arrow's I/O and CPU pools). When one of them calls
into Python while the interpreter is finalizing (to read a Python file object, to release a buffer a
Python object owns), CPython up to 3.13 ends that thread with ``pthread_exit``; unwinding a C++ thread
that way calls ``std::terminate``, and the process dies with "terminate called without an active
exception" (SIGABRT, exit status 134) after the command has done all its work and printed its result.
It struck ``ccsieve run`` and ``ccsieve report`` now and then in the test suite (twice in four full
runs), never on demand (apache/arrow#34314, #45017 are the same race).

:func:`exit_now` ends the process the way the interpreter would, up to that point: it waits for the
non-daemon threads and runs the exit handlers (Ray's shutdown, multiprocessing's children, temporary
directories, logging), flushes the standard streams, and then leaves with :func:`os._exit`, so that no
thread ever meets a finalizing interpreter. Only command-line entry points call it; ``main()`` functions
stay importable and return their status as before.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

__all__ = ["exit_now"]


def exit_now(status: int | None) -> NoReturn:
    """Exit with ``status`` (``None`` is 0) after the steps of a normal exit that run Python code."""
    try:
        # What Py_FinalizeEx does first: join the non-daemon threads (and run concurrent.futures'
        # handlers, registered with threading), then the atexit handlers.
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # closed, or a broken pipe: nothing more can be written
                pass
        os._exit(status or 0)
