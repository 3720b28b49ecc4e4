"""The private Ray head of the kill-and-resume tests and benchmarks: loopback only, and gone when stopped."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.pipeline.raykill import RayHead, _cmdline, listening_sockets

pytestmark = pytest.mark.ray


def test_head_listens_on_loopback_and_stops_completely() -> None:
    head = RayHead.start(num_cpus=1)
    try:
        # the agents start after `ray start` returns; wait for them, as they were what stop() missed
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            titles = [_cmdline(pid) for pid in head.pids()]
            if any("DashboardAgent" in t for t in titles) and any("RuntimeEnvAgent" in t for t in titles):
                break
            time.sleep(0.5)
        pids = set(head.pids())
        titles = " ".join(_cmdline(pid) for pid in pids)
        assert "gcs_server" in titles and "raylet" in titles and "DashboardAgent" in titles, titles
        sockets = listening_sockets(sorted(pids))
        assert len(sockets) >= 3, sockets  # GCS, raylet, agents: proof that the check saw them
        assert [s for s in sockets if not s[2]] == []
    finally:
        head.stop()
    # killed processes take a moment to be reaped; on a loaded machine (the whole suite on two
    # cores) more than the one second this test first waited
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (head.pids() or any(Path(f"/proc/{p}").exists() for p in pids)):
        time.sleep(0.5)
    assert head.pids() == []
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
