"""A document that kills its worker is quarantined after a bounded number of retries, on both runners.

The input is a real WARC (warc-dolma sample-0000) with one extra page whose text carries the marker
of ``tests/pipeline/poison_stage.py``'s stage, which then ends its process with ``os._exit`` or
``os.abort``: the way a crash in native code looks from outside. With isolation on (the default),
the run completes; the poison page is in ``quarantine/`` (``worker_crash``, payload kept); every
other record ends as in a clean run; the counts add up; and the marker counts the isolation child's
restarts, which bisection bounds by ``ceil(log2(batch)) + 1`` per poison document.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline import registry
from pipeline.config import PipelineConfig
from pipeline.run import run_pipeline
from pipeline.sinks import source_key
from tests.conftest import DOLMA, REPO, WHIRLWIND
from tests.pipeline.test_resume import check_committed_state, drop_keys, quarantine_keys, row_keys
from tests.pipeline.warcgen import html_response, new_id, read_records, record_type, write_warc

PLUGIN = "tests.pipeline.poison_stage"
MARKER = "POISON-PILL-7f3a"  # poison_stage.MARKER (not imported here: importing registers the stage)
BATCH = 4
POISON_ID = new_id("ccsieve-test-poison-page")


@pytest.fixture(scope="module", autouse=True)
def _unregister_poison_pill() -> Iterator[None]:
    """The test stage must not outlive this module: docs/stages.md lists every registered stage."""
    yield
    registry._REGISTRY.pop("poison_pill", None)
    sys.modules.pop(PLUGIN, None)


def _config(marker: str, mode: str = "exit", isolation: bool = True) -> PipelineConfig:
    return PipelineConfig.from_dict(
        {
            "reader": {"batch_size": BATCH},
            "plugins": [PLUGIN],
            # Generous limits: nothing in this test hangs, and CI machines are slow.
            "isolation": {"enabled": isolation, "batch_timeout_s": 120, "min_timeout_s": 60},
            "stages": [
                {"stage": "extract", "engine": "resiliparse", "isolate": False},
                {"stage": "poison_pill", "marker": marker, "mode": mode},
                {"stage": "language", "languages": ["en"], "min_score": 0.5},
            ],
        }
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """sample-0000 with a poison page among its responses, and a second, clean input."""
    records = list(read_records(DOLMA[0]))
    paragraphs = "".join(
        f"<p>This is an ordinary paragraph, number {i}, about the garden and the weather this spring. "
        f"Nothing in it is special, except one word: {MARKER}.</p>"
        for i in range(6)
    )
    page = f"<html><head><title>A page</title></head><body><article>{paragraphs}</article></body></html>"
    responses = [i for i, record in enumerate(records) if record_type(record) == "response"]
    records.insert(responses[len(responses) // 2], html_response("http://poison.example/", page, POISON_ID))
    path = tmp_path_factory.mktemp("inputs") / "with-poison.warc.gz"
    write_warc(path, records)
    return [str(path), str(WHIRLWIND)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, inputs: list[str]) -> Path:
    """The same pipeline, with a marker no page carries: nothing crashes, nothing is isolated."""
    output = tmp_path_factory.mktemp("reference") / "out"
    run_pipeline(
        inputs, str(output), _config("no page says this", isolation=False), workers=1, progress=False
    )
    return output


def check_poison_run(output: Path, reference: Path, inputs: list[str]) -> None:
    stats = json.loads((output / "stats.json").read_text())
    poisoned = inputs[0]
    assert all(f["status"] == "ok" for f in stats["files"].values()), stats["files"]

    # The poison page is quarantined, with its reason, its stage and its payload.
    rows = pq.read_table(output / "quarantine" / f"{source_key(poisoned)}.parquet").to_pylist()
    poison = [r for r in rows if r["id"] == POISON_ID]
    assert len(poison) == 1, rows
    assert (poison[0]["stage"], poison[0]["reason"], poison[0]["quarantined"]) == (
        "poison_pill",
        "worker_crash",
        True,
    )
    assert MARKER in poison[0]["payload"]
    assert quarantine_keys(output) == sorted(
        [*quarantine_keys(reference), (poisoned, POISON_ID, "worker_crash")]
    )

    # Every other record ends as in the clean run: the same kept rows, the same drops.
    assert any(doc_id == POISON_ID for _, doc_id, _ in row_keys(reference)), (
        "the poison page is kept when harmless"
    )
    assert row_keys(output) == [r for r in row_keys(reference) if r[1] != POISON_ID]
    assert drop_keys(output) == sorted(
        [
            *(d for d in drop_keys(reference) if d[1] != POISON_ID),
            (poisoned, POISON_ID, "poison_pill", "worker_crash"),
        ]
    )

    # The counts add up, per file and per stage, and the markers are whole; nothing left in _tmp.
    markers = check_committed_state(output)
    order = list(stats["stages"])  # read, extract, poison_pill, language (markers sort their keys)
    for marker in markers.values():
        seen = marker["responses_read"]
        for label in order:
            stage = marker["stages"][label]
            assert stage["seen"] == seen, (marker["source"], label)
            assert stage["kept"] + sum(stage["dropped"].values()) == stage["seen"], (marker["source"], label)
            seen = stage["kept"]
        assert seen == marker["rows"]
    assert stats["kept"] + stats["dropped"] == stats["responses_read"]
    assert stats["stages"]["poison_pill"]["dropped"] == {"worker_crash": 1}
    assert not (output / "_tmp").exists() or not any((output / "_tmp").iterdir())

    # Bounded: one poison page costs at most ceil(log2(batch)) + 1 restarts of the isolation child.
    restarts = {src: f["worker_restarts"] for src, f in stats["files"].items()}
    assert restarts == {poisoned: math.ceil(math.log2(BATCH)) + 1, inputs[1]: 0}


@pytest.mark.parametrize(("workers", "mode"), [(1, "exit"), (2, "abort")])
def test_local_runner_quarantines_the_poison_page(
    tmp_path: Path, inputs: list[str], reference: Path, workers: int, mode: str
) -> None:
    output = tmp_path / "out"
    run_pipeline(inputs, str(output), _config(MARKER, mode), workers=workers, progress=False)
    check_poison_run(output, reference, inputs)


@pytest.mark.ray
def test_ray_runner_quarantines_the_poison_page(tmp_path: Path, inputs: list[str], reference: Path) -> None:
    import ray

    # The actors import the plugin module from the repository, wherever pytest was started.
    runtime_env = {"env_vars": {"PYTHONPATH": str(REPO)}}
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env=runtime_env,
    )
    try:
        output = tmp_path / "out"
        run_pipeline(inputs, str(output), _config(MARKER), executor="ray", workers=2, progress=False)
    finally:
        ray.shutdown()
    check_poison_run(output, reference, inputs)
