"""A private Ray head for kill-and-resume runs, and the means to kill its workers and drivers.

Used by ``test_ray_kill_resume.py`` and ``benchmarks/kill_resume.py``. The head runs on 127.0.0.1 with
token authentication and no dashboard. Every process of the cluster (GCS, raylet, workers, their
isolation children) inherits a tag in its environment, so that workers are found, and the cluster
is stopped, by process id: never by name (``ray stop`` would also stop any other Ray on the machine).
Linux only (``/proc``).
"""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RayHead", "listening_sockets", "process_session", "start_driver", "stop_driver"]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_TAG = "CCSIEVE_RAY_KILL_TAG"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def process_session(pid: int) -> int | None:
    """The session id of ``pid`` (None once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[3])  # the fields after the command: state ppid pgrp sid


def listening_sockets(pids: list[int]) -> list[tuple[int, str, bool]]:
    """(pid, "address:port", on loopback) of every TCP socket in LISTEN state that ``pids`` hold."""
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                link = os.readlink(fd.path)
                if link.startswith("socket:["):
                    inodes[link[8:-1]] = pid
        except OSError:  # gone meanwhile
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            host, port = fields[1].split(":")
            raw = bytes.fromhex(host)
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # little-endian words
            addr = ipaddress.ip_address(raw)
            mapped = getattr(addr, "ipv4_mapped", None)
            loopback = addr.is_loopback or (mapped is not None and mapped.is_loopback)
            found.append((inodes[fields[9]], f"{addr}:{int(port, 16)}", loopback))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class RayHead:
    """A running head node; ``env`` is what a driver needs to join it (address and token)."""

    address: str
    env: dict[str, str]
    tag: str
    temp_dir: str
    session: int = -1
    kills: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, num_cpus: int = 2) -> RayHead:
        tag = secrets.token_hex(8)
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            # Ray's single-machine mode: every process binds to loopback. With cluster mode on (Ray's
            # default on Linux), --node-ip-address=127.0.0.1 still leaves GCS, raylet, workers and
            # agents listening on every interface.
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            # Workers import the project from the repository, whatever their working directory.
            "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
            _TAG: tag,
        }
        env.pop("RAY_ADDRESS", None)
        port = _free_port()
        # Ray's unix sockets live under --temp-dir, and socket paths must stay under 108 bytes.
        temp_dir = tempfile.mkdtemp(prefix="ccsieve-ray-")
        command = [
            str(BIN / "ray"), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
            "--include-dashboard=false", f"--num-cpus={num_cpus}", "--disable-usage-stats",
            f"--temp-dir={temp_dir}",
        ]  # fmt: skip
        head = cls(f"127.0.0.1:{port}", {**env, "RAY_ADDRESS": f"127.0.0.1:{port}"}, tag, temp_dir)
        try:
            # In a session of its own, so that stop() also finds the processes whose environment Ray
            # overwrites when it retitles them (setproctitle reuses that memory): the agents, notably.
            starter = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
            )
            head.session = starter.pid
            out, _ = starter.communicate(timeout=180)
            if starter.returncode != 0:
                raise subprocess.CalledProcessError(starter.returncode, command, out)
        except BaseException:
            head.stop()
            raise
        return head

    def pids(self) -> list[int]:
        """Every process of this cluster (and of the drivers started with its ``env``)."""
        needle = f"{_TAG}={self.tag}".encode()
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            if process_session(int(entry)) == self.session or needle in _environ(int(entry)).split(b"\0"):
                found.append(int(entry))
        return found

    def workers(self) -> list[tuple[int, str]]:
        """Ray worker processes running the pipeline: (pid, process title).

        Ray titles a worker ``ray::<what it runs>``: the stage actors are
        ``ray::MapWorker(MapBatches(_StageGroup))...``, the reading tasks ``ray::MapBatches(_read_files)...``;
        Ray's own actors (stats, autoscaling) and agents are left alone, and so are idle workers.
        """
        return [(pid, title) for pid in self.pids() if "MapBatches(" in (title := _cmdline(pid))]

    def kill_random_worker(
        self, rng: random.Random, match: Callable[[str], bool] = lambda _: True
    ) -> str | None:
        """SIGKILL one pipeline worker (whose title ``match`` accepts); its title, or None if none runs."""
        candidates = [(pid, title) for pid, title in self.workers() if match(title)]
        if not candidates:
            return None
        pid, title = rng.choice(candidates)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        self.kills.append(title)
        return title

    def stop(self) -> None:
        """Kill every process of the cluster by id (twice: a dying raylet may start workers)."""
        for _ in range(2):
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def start_driver(head: RayHead, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m jobs.process_cc --executor ray ARGS`` joined to ``head``, in its own process group."""
    command = [sys.executable, "-m", "jobs.process_cc", "--executor", "ray", "--no-progress", *args]
    with open(log, "ab") as fh:
        return subprocess.Popen(
            command, cwd=REPO, env=head.env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_driver(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the driver and everything in its process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)
