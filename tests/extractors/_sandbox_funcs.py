"""Functions the sandbox tests run in its child process (imported there by name, so module-level)."""

from __future__ import annotations

import os
import time


def echo(arg: object) -> object:
    return arg


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def fail(arg: str) -> None:
    raise ValueError(arg)


def die_on(arg: object) -> object:
    """Exits the child without a word on "die"; echoes anything else."""
    if arg == "die":
        os._exit(3)
    return arg


def pid(_: object) -> int:
    return os.getpid()


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes << 20))


def note_then_die(arg: bytes) -> None:
    """Writes ``arg`` into the status block shared with the parent, then exits without a word."""
    from extractors.sandbox import child_status

    status = child_status()
    assert status is not None
    status[: len(arg)] = arg
    os._exit(3)


def has_status(_: object) -> bool:
    from extractors.sandbox import child_status

    return child_status() is not None


def environment(_: object) -> dict[str, str]:
    import os

    return dict(os.environ)
