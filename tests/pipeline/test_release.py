"""`ccsieve release`: staging layout, dataset card, loading with `datasets`, and an upload to a stub Hub
that checks the token never leaks into files or logs."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.release import RELEASE_SCHEMA, size_category, stage_release
from tests.conftest import run_sample_pipeline

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_sample_pipeline(tmp_path_factory.mktemp("release") / "run")


def _hub_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {
        "HF_HOME": str(tmp / "hf_home"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    return env | extra


def test_size_category() -> None:
    assert size_category(7) == "n<1K"
    assert size_category(1_000) == "1K<n<10K"
    assert size_category(123_456) == "100K<n<1M"


def test_dry_run_lists_files_and_card(run_dir: Path, tmp_path: Path) -> None:
    stats = json.loads((run_dir / "stats.json").read_text())
    proc = _cli("release", str(run_dir), "--repo", "me/sample", "--dry-run", env=_hub_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    staging = run_dir / "release"
    shards = sorted((staging / "data").glob("train-*.parquet"))
    assert shards and all(f"-of-{len(shards):05d}.parquet" in p.name for p in shards)
    for path in [staging / "README.md", *shards]:
        rel = path.relative_to(staging).as_posix()
        assert any(line.split() == [f"{path.stat().st_size:,}", rel] for line in proc.stdout.splitlines())
    assert "nothing uploaded" in proc.stdout
    card = (staging / "README.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    languages = {r for p in shards for r in pq.read_table(p, columns=["language"]).column(0).to_pylist()}
    assert front["license"] == "odc-by"
    assert set(front["language"]) == {lang for lang in languages if lang}
    assert front["size_categories"] == [size_category(stats["kept"])]
    assert front["task_categories"] == ["text-generation"]
    assert front["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
    ]
    for label, stage in stats["stages"].items():
        assert f"| {label} | {stage['seen']:,} | {stage['kept']:,} |" in card
    for source in stats["files"]:
        assert source in card
    assert "gopher_quality" in card.split("## Pipeline configuration")[1]


def test_rechunk_keeps_rows_and_schema(run_dir: Path, tmp_path: Path) -> None:
    kept = json.loads((run_dir / "stats.json").read_text())["kept"]
    plan = stage_release(str(run_dir), "me/x", staging=tmp_path / "s", shard_mb=1e-6, row_group_rows=2)
    shards = [f for f in plan.files if f.path.startswith("data/")]
    assert len(shards) == -(-kept // 2) and plan.rows == kept
    original = pq.read_table(run_dir / "data").sort_by("id")
    released = pq.read_table(tmp_path / "s" / "data").sort_by("id")
    assert released.schema.equals(RELEASE_SCHEMA)
    assert released.drop_columns(["scores", "metadata"]).equals(original.drop_columns(["scores", "metadata"]))
    assert released.column("scores").to_pylist() == [
        [{"key": k, "value": v} for k, v in row] for row in original.column("scores").to_pylist()
    ]


def test_load_dataset_reads_every_row(run_dir: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    kept = json.loads((run_dir / "stats.json").read_text())["kept"]
    stage_release(str(run_dir), "me/x", staging=tmp_path / "s")
    ds = datasets.load_dataset(str(tmp_path / "s"), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.num_rows == kept
    assert ds.column_names == RELEASE_SCHEMA.names
    assert [ds.data.schema.field(n).type for n in ds.column_names] == list(RELEASE_SCHEMA.types)
    assert sorted(ds["id"]) == sorted(pq.read_table(tmp_path / "s" / "data").column("id").to_pylist())


class _StubHub(BaseHTTPRequestHandler):
    """The endpoints `create_repo` + `upload_folder` call when every file is a regular blob.

    huggingface_hub 2.4's `upload_folder` (the resumable, multi-commit successor of `upload_large_folder`)
    asks `preupload` how to send each file; answering "regular" for all keeps the stub off the Xet/LFS
    storage protocol, so files arrive base64-encoded inside the NDJSON commit.
    """

    received: dict[str, bytes]
    auth: list[str]
    cards: list[str]

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _reply(self, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.auth.append(self.headers.get("authorization", ""))
        host = f"http://{self.headers['Host']}"
        if self.path == "/api/repos/create":
            req = json.loads(body)
            self._reply({"url": f"{host}/datasets/{req.get('organization') or 'me'}/{req['name']}"})
        elif self.path == "/api/validate-yaml":  # the card's front matter, checked before the commit
            self.cards.append(json.loads(body)["content"])
            self._reply({"warnings": []})
        elif "/preupload/" in self.path:
            files = json.loads(body)["files"]
            self._reply(
                {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                    ]
                }
            )
        elif "/commit/" in self.path:
            for line in body.splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    self.received[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            self._reply({"commitUrl": f"{host}/datasets/me/x/commit/abc", "commitOid": "a" * 40})
        else:
            self.send_error(404)


def test_upload_to_stub_hub_never_leaks_token(run_dir: Path, tmp_path: Path) -> None:
    token = "hf_FAKE" + secrets.token_hex(16)
    handler = type("Hub", (_StubHub,), {"received": {}, "auth": [], "cards": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        env = _hub_env(tmp_path, HF_TOKEN=token, HF_ENDPOINT=endpoint)
        staging = tmp_path / "staging"
        proc = _cli("release", str(run_dir), "--repo", "me/x", "--staging", str(staging), env=env)
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stderr
    assert "uploaded:" in proc.stdout
    assert all(a == f"Bearer {token}" for a in handler.auth) and handler.auth
    local = {p.relative_to(staging).as_posix(): p.read_bytes() for p in staging.rglob("*") if p.is_file()}
    assert handler.received == local
    assert handler.cards == [local["README.md"].decode()]
    assert token not in proc.stdout + proc.stderr
    needle = token.encode()
    for folder in (run_dir, staging, tmp_path / "hf_home"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert needle not in path.read_bytes(), path
    for path in staging.rglob("*.parquet"):
        meta = pq.read_metadata(path)
        assert needle not in json.dumps({k.decode(): v.decode() for k, v in meta.metadata.items()}).encode()
