"""Functions the sandbox tests run in its child process (imported there by name)."""

from __future__ import annotations

import os
import time


def echo(arg: object) -> object:
    return arg


def sleep_then(arg: float) -> float:
    time.sleep(arg)
    return arg


def fail(arg: str) -> None:
    raise ValueError(arg)


def die(arg: int) -> None:
    os._exit(arg)


def pid(_: object) -> int:
    return os.getpid()


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes << 20))
