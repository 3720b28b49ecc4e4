"""The sandbox: a child process per Sandbox, killed and restarted when a call overruns or dies."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from extractors.sandbox import Sandbox, SandboxCrashed, SandboxOutOfMemory, SandboxTimeout
from tests.extractors import _sandbox_funcs as funcs


@pytest.fixture
def sandboxes() -> Iterator[list[Sandbox]]:
    """Sandboxes made by a test, closed after it."""
    made: list[Sandbox] = []
    yield made
    for sandbox in made:
        sandbox.close()


def _sandbox(made: list[Sandbox], func, timeout_s: float = 30, memory_mb: int | None = None) -> Sandbox:
    sandbox = Sandbox(func, timeout_s=timeout_s, memory_mb=memory_mb)
    made.append(sandbox)
    return sandbox


def test_call_returns_the_result_from_another_process(sandboxes) -> None:
    assert _sandbox(sandboxes, funcs.echo).call({"a": [1, 2], "b": "ü"}) == {"a": [1, 2], "b": "ü"}
    sandbox = _sandbox(sandboxes, funcs.pid)
    child = sandbox.call(None)
    assert child != os.getpid()
    assert sandbox.call(None) == child  # one long-lived child, not one per call
    assert sandbox.restarts == 0


def test_overrun_is_killed_within_the_bound_and_the_next_call_works(sandboxes) -> None:
    other = _sandbox(sandboxes, funcs.pid)
    other_child = other.call(None)
    sandbox = _sandbox(sandboxes, funcs.sleep_then_pid, timeout_s=0.5)
    first_child = sandbox.call(0.0)  # the child is started and warm
    start = time.perf_counter()
    with pytest.raises(SandboxTimeout, match=r"0\.5 s"):
        sandbox.call(30.0)
    elapsed = time.perf_counter() - start
    assert 0.5 <= elapsed < 0.5 + 2.0
    assert sandbox.restarts == 1
    with pytest.raises(ProcessLookupError):
        os.kill(first_child, 0)  # the overrunning child was killed, not left running
    second_child = sandbox.call(0.01)  # a fresh child answers
    assert second_child != first_child
    assert other.call(None) == other_child  # other sandboxes are untouched


def test_exception_in_the_child_is_reported_and_the_child_survives(sandboxes) -> None:
    sandbox = _sandbox(sandboxes, funcs.fail)
    with pytest.raises(RuntimeError, match="ValueError: bad page"):
        sandbox.call("bad page")
    with pytest.raises(RuntimeError, match="ValueError: second"):
        sandbox.call("second")
    assert sandbox.restarts == 0


def test_child_death_is_a_crash_and_the_next_call_works(sandboxes) -> None:
    sandbox = _sandbox(sandboxes, funcs.die_on)
    assert sandbox.call("warm") == "warm"
    with pytest.raises(SandboxCrashed):
        sandbox.call("die")
    assert sandbox.restarts == 1
    assert sandbox.call("after") == "after"
    with pytest.raises(SandboxCrashed):
        sandbox.call("die")
    assert sandbox.restarts == 2


def test_memory_cap_turns_a_huge_allocation_into_an_error(sandboxes) -> None:
    sandbox = _sandbox(sandboxes, funcs.allocate, memory_mb=1024)
    assert sandbox.call(10) == 10 << 20
    with pytest.raises(SandboxOutOfMemory, match="1024 MiB"):
        sandbox.call(4096)
    assert sandbox.call(10) == 10 << 20
    assert sandbox.restarts == 1  # the child ended after the MemoryError: a fresh heap for the next call


def test_secrets_stay_out_of_the_child(sandboxes, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_canary")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws_canary")
    monkeypatch.setenv("CCSIEVE_PLAIN", "kept")
    env = _sandbox(sandboxes, funcs.environment).call(None)
    assert "HF_TOKEN" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["CCSIEVE_PLAIN"] == "kept" and "PYTHONPATH" in env


def test_status_block_outlives_the_child_and_calls_may_set_their_own_limit(sandboxes) -> None:
    sandbox = Sandbox(funcs.note_then_die, timeout_s=30, status_bytes=8)
    sandboxes.append(sandbox)
    assert sandbox.status is not None and sandbox.status[:8] == bytes(8)
    with pytest.raises(SandboxCrashed):
        sandbox.call(b"stage 3")
    assert sandbox.status[:7] == b"stage 3"  # what the child was doing when it died
    assert _sandbox(sandboxes, funcs.has_status).call(None) is False  # only when asked for
    slow = _sandbox(sandboxes, funcs.sleep_then_pid, timeout_s=30)
    slow.call(0.0)
    start = time.perf_counter()
    with pytest.raises(SandboxTimeout, match=r"0\.3 s"):
        slow.call(30.0, timeout_s=0.3)
    assert time.perf_counter() - start < 2.5
