from __future__ import annotations

import os
import time

import pytest

from extractors.sandbox import Sandbox, SandboxCrashed, SandboxTimeout
from tests.extractors import _sandbox_funcs as funcs


def test_call_returns_the_result_from_another_process() -> None:
    sandbox = Sandbox(funcs.echo, timeout_s=30)
    try:
        assert sandbox.call({"a": [1, 2]}) == {"a": [1, 2]}
        assert Sandbox(funcs.pid, timeout_s=30).call(None) != os.getpid()
    finally:
        sandbox.close()


def test_overrun_is_killed_within_the_bound_and_the_next_call_works() -> None:
    sandbox = Sandbox(funcs.sleep_then, timeout_s=0.5)
    try:
        sandbox.call(0.0)  # child started and warm
        start = time.perf_counter()
        with pytest.raises(SandboxTimeout):
            sandbox.call(30.0)
        assert time.perf_counter() - start < 0.5 + 1.0
        assert sandbox.restarts == 1
        assert sandbox.call(0.01) == 0.01
    finally:
        sandbox.close()


def test_exception_in_the_child_is_reported_and_the_child_survives() -> None:
    sandbox = Sandbox(funcs.fail, timeout_s=30)
    try:
        with pytest.raises(RuntimeError, match="ValueError: bad page"):
            sandbox.call("bad page")
        assert sandbox.restarts == 0
    finally:
        sandbox.close()


def test_child_death_is_a_crash_and_the_child_is_restarted() -> None:
    sandbox = Sandbox(funcs.die, timeout_s=30)
    try:
        with pytest.raises(SandboxCrashed):
            sandbox.call(3)
        with pytest.raises(SandboxCrashed):
            sandbox.call(3)
        assert sandbox.restarts == 2
    finally:
        sandbox.close()


def test_memory_cap_turns_a_huge_allocation_into_an_error() -> None:
    sandbox = Sandbox(funcs.allocate, timeout_s=30, memory_mb=1024)
    try:
        assert sandbox.call(10) == 10 << 20
        with pytest.raises(RuntimeError, match="MemoryError"):
            sandbox.call(4096)
        assert sandbox.call(10) == 10 << 20
    finally:
        sandbox.close()
