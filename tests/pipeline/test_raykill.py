"""The private Ray head of the kill-and-resume tests and benchmarks: loopback only, and gone when stopped."""

from __future__ import annotations

import ipaddress
import os
import time
from pathlib import Path

import pytest

from tests.pipeline.raykill import RayHead, _cmdline

pytestmark = pytest.mark.ray


def _listening(pids: set[int]) -> list[str]:
    """host:port of every TCP socket in LISTEN state that ``pids`` hold."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                link = os.readlink(fd.path)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                host, port = fields[1].split(":")
                raw = bytes.fromhex(host)
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # little-endian words
                found.append(f"{ipaddress.ip_address(raw)}:{int(port, 16)}")
    return found


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.rsplit(":", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


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
        sockets = _listening(pids)
        assert len(sockets) >= 3, sockets  # GCS, raylet, agents: proof that the check saw them
        assert [s for s in sockets if not _loopback(s)] == []
    finally:
        head.stop()
    time.sleep(1.0)
    assert head.pids() == []
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
