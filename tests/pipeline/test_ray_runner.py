"""The Ray Data runner gives the same rows and the same statistics as the local runner."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import load_config
from pipeline.document import Document, text_hash
from pipeline.ray_runner import _pack, _unpack, stage_groups
from pipeline.run import run_pipeline
from pipeline.stage import Resources

pytestmark = pytest.mark.ray

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
INPUTS = [
    str(TESTDATA / "warc-resiliparse" / "warcfile.warc.gz"),
    str(TESTDATA / "warc-resiliparse" / "clipped.warc.gz"),
    str(TESTDATA / "warc-dolma" / "sample-0000.warc.gz"),
    str(TESTDATA / "warc-dolma" / "sample-0001.warc.gz"),
    str(TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz"),
]


def _rows(output: Path) -> list[tuple[str, str]]:
    table = pq.read_table(output / "data")
    return sorted(
        zip(table.column("id").to_pylist(), map(text_hash, table.column("text").to_pylist()), strict=True)
    )


def _drops(output: Path) -> list[tuple[str, str, str]]:
    table = pq.read_table(output / "dropped")
    return sorted(zip(*(table.column(c).to_pylist() for c in ("id", "stage", "reason")), strict=True))


def _counts(stats: dict) -> dict:
    """Everything in the stats except timings, which differ between any two runs."""
    return {
        "stages": {k: {n: v for n, v in s.items() if n != "seconds"} for k, s in stats["stages"].items()},
        "files": stats["files"],
    }


# Five files for two workers: each worker reads its own files. One file for two: a reading operator
# streams its record batches to both (pipeline/ray_runner.py).
PLANS = {"workers read their files": INPUTS, "records spread over workers": INPUTS[2:3]}


@pytest.fixture(scope="module", params=list(PLANS))
def both_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict, Path, dict]:
    import ray

    inputs = PLANS[request.param]
    config = load_config()
    local_out = tmp_path_factory.mktemp("local")
    ray_out = tmp_path_factory.mktemp("ray")
    local = run_pipeline(inputs, str(local_out), config, executor="local", workers=2, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        remote = run_pipeline(inputs, str(ray_out), config, executor="ray", workers=2, progress=False)
    finally:
        ray.shutdown()
    return local_out, local.to_dict(), ray_out, remote.to_dict()


def test_same_rows(both_runs: tuple[Path, dict, Path, dict]) -> None:
    local_out, _, ray_out, _ = both_runs
    local_rows = _rows(local_out)
    assert local_rows, "the parity check needs kept documents"
    assert _rows(ray_out) == local_rows
    assert _drops(ray_out) == _drops(local_out)


def test_same_stats(both_runs: tuple[Path, dict, Path, dict]) -> None:
    _, local_stats, _, ray_stats = both_runs
    assert _counts(ray_stats) == _counts(local_stats)  # score histograms included
    language = local_stats["stages"]["language"]
    assert language["scores"]["language_score"]["count"] == language["seen"] > 0
    assert ray_stats["runner"]["executor"] == "ray"
    # The truncated file is reported by both runners, with the same message.
    clipped = INPUTS[1]
    if clipped not in local_stats["files"]:
        return
    assert ray_stats["files"][clipped]["status"] == "failed"
    assert "clipped.warc.gz" in ray_stats["files"][clipped]["error"]


def test_same_shard_layout(both_runs: tuple[Path, dict, Path, dict]) -> None:
    local_out, _, ray_out, _ = both_runs
    names = lambda root: sorted(p.name for p in (root / "data").glob("*.parquet"))  # noqa: E731
    assert names(ray_out) == names(local_out)
    assert not (ray_out / "_tmp").exists() or not any((ray_out / "_tmp").iterdir())


def test_batches_round_trip_documents_drops_and_stats() -> None:
    from pipeline.document import DropRecord

    doc = Document("a", "http://x", "src", 10, text="hello", html="<p>hello</p>", scores={"q": 0.5})
    drop = DropRecord("b", "http://y", "src", 20, "language", "other_language", detail="de 0.990")
    meta = {"source": "src", "stats": {}, "eof": {"responses_read": 2, "error": None}}
    docs, drops, metas = _unpack(_pack([doc], [drop], [meta]))
    assert docs == [doc]
    assert drops == [drop]
    assert metas == [meta]


def test_stage_groups_split_on_resources() -> None:
    stages = load_config().build_stages()
    assert [len(g) for g in stage_groups(stages)] == [len(stages)]

    by_label = {s.label: s for s in stages}

    class GpuStage(type(by_label["language"])):  # type: ignore[misc]
        resources = Resources(cpus=1, gpus=1)

    gpu = GpuStage()
    groups = stage_groups([by_label["extract"], by_label["language"], gpu, by_label["gopher_repetition"]])
    assert [[s.label for s in g] for g in groups] == [
        ["extract", "language"],
        ["language"],
        ["gopher_repetition"],
    ]
