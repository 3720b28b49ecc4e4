"""A real Ray head on 127.0.0.1 runs the job through `ray job submit --working-dir .`."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.document import ARROW_SCHEMA

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT.parent / "shared" / "testdata"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ray_head() -> Iterator[tuple[str, dict[str, str]]]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "RAY_USAGE_STATS_ENABLED": "0",
        # The job API runs arbitrary code for whoever reaches it: a token as well as 127.0.0.1.
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }
    env.pop("RAY_ADDRESS", None)
    gcs_port, dashboard_port = _free_port(), _free_port()
    # Ray's unix sockets live under --temp-dir, and socket paths must stay under 108 bytes.
    temp_dir = tempfile.mkdtemp(prefix="ccsieve-ray-")
    start = [
        str(BIN / "ray"), "start", "--head",
        "--node-ip-address=127.0.0.1", f"--port={gcs_port}",
        "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard_port}",
        "--num-cpus=2", "--disable-usage-stats", f"--temp-dir={temp_dir}",
    ]  # fmt: skip
    subprocess.run(start, env=env, check=True, capture_output=True, text=True, timeout=180)
    try:
        yield f"http://127.0.0.1:{dashboard_port}", env
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_job_submit_writes_shards(ray_head: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    address, env = ray_head
    output = tmp_path / "out"
    inputs = [
        str(TESTDATA / "warc-dolma" / "sample-0000.warc.gz"),
        str(TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz"),
    ]
    submit = [
        str(BIN / "ray"), "job", "submit", "--address", address, "--working-dir", ".", "--",
        sys.executable, "-m", "jobs.process_cc", "--executor", "ray", "--workers", "2", "--no-progress",
        "--input", *inputs, "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(submit, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "succeeded" in (result.stdout + result.stderr).lower()

    shards = sorted((output / "data").glob("*.parquet"))
    assert shards, result.stdout[-2000:]
    for shard in shards:
        assert pq.read_schema(shard).remove_metadata() == ARROW_SCHEMA.remove_metadata()
    table = pq.read_table(output / "data")
    assert table.num_rows > 0
    assert len(set(table.column("id").to_pylist())) == table.num_rows
    markers = sorted((output / "_markers").glob("*.json"))
    assert len(markers) == len(inputs)
    assert (output / "stats.json").is_file()
