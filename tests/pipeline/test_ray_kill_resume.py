"""On a local Ray cluster: a worker killed during the run, then the driver, then a resume.

A few hundred pages of the bench WARC in twelve files; the job runs as ``python -m jobs.process_cc
--executor ray`` joined to a private head (``raykill.RayHead``: 127.0.0.1, token auth, no dashboard,
stopped by process id). Once the first file is committed, one busy Ray worker is SIGKILLed; once
more files are committed, the driver and its process group are SIGKILLed. A second driver resumes.
The output must then equal an uninterrupted run's: the same (id, text hash) rows, none lost and none
twice, the same drops, quarantine and counts, and nothing left in ``_tmp``.
``benchmarks/kill_resume.py`` is the large version (10,000+ documents, many worker kills).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.run import run_pipeline
from tests.conftest import TESTDATA
from tests.pipeline.raykill import RayHead, start_driver, stop_driver
from tests.pipeline.test_resume import check_clean_finish, read_markers, row_keys
from tests.pipeline.warcgen import read_records, record_type, write_warc

pytestmark = pytest.mark.ray

FILES, PER_FILE = 12, 25
CONFIG = """\
reader:
  batch_size: 5
stages:
  - stage: extract
    engine: resiliparse
    isolate: false
  - stage: language
    languages: [en]
    min_score: 0.5
"""


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    """The config, the inputs (the first FILES * PER_FILE pages of the bench WARC) and a clean run."""
    folder = tmp_path_factory.mktemp("ray-kill")
    config = folder / "config.yaml"
    config.write_text(CONFIG)
    responses = (
        r for r in read_records(TESTDATA / "bench-warc" / "bench.warc.gz") if record_type(r) == "response"
    )
    inputs = []
    for i in range(FILES):
        path = folder / f"part-{i:02d}.warc.gz"
        write_warc(path, (next(responses) for _ in range(PER_FILE)))
        inputs.append(str(path))
    reference = folder / "clean"
    run_pipeline(inputs, str(reference), load_config(config), workers=1, progress=False)
    assert len(row_keys(reference)) > FILES, "the clean run kept too little to compare"
    return config, inputs, reference


@pytest.fixture
def head() -> Iterator[RayHead]:
    head = RayHead.start(num_cpus=2)
    try:
        yield head
    finally:
        head.stop()


def _wait_for_markers(output: Path, at_least: int, proc, timeout: float) -> bool:
    """Poll until ``output`` has ``at_least`` markers or the driver exits; whether it got them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(read_markers(output)) >= at_least:
            return True
        if proc.poll() is not None:
            return len(read_markers(output)) >= at_least
        time.sleep(0.05)
    return False


def test_worker_and_driver_killed_then_resumed(head: RayHead, job, tmp_path: Path) -> None:
    config, inputs, reference = job
    rng = random.Random(0)
    args = ["--config", str(config), "--input", *inputs, "--workers", "2"]
    for attempt in range(3):
        output = tmp_path / f"out-{attempt}"
        log = tmp_path / f"driver-{attempt}.log"
        driver = start_driver(head, [*args, "--output", str(output)], log)
        try:
            # A worker killed mid-run: once the first file is committed, while others are in flight.
            assert _wait_for_markers(output, 1, driver, 120), log.read_text()[-3000:]
            killed = None
            deadline = time.monotonic() + 30
            while killed is None and driver.poll() is None and time.monotonic() < deadline:
                killed = head.kill_random_worker(rng)
                time.sleep(0.02)
            at_worker_kill = len(read_markers(output))
            # The driver killed once a few more files are committed.
            _wait_for_markers(output, at_worker_kill + 2, driver, 120)
            finished = driver.poll() is not None
        finally:
            stop_driver(driver)
        at_driver_kill = len(read_markers(output))
        print(f"attempt {attempt}: killed {killed} at {at_worker_kill} files, the driver at {at_driver_kill}")
        if killed is not None and not finished and at_driver_kill < len(inputs):
            break
    else:
        pytest.fail("the run finished before the worker and the driver could be killed, three times")

    resume = start_driver(head, [*args, "--output", str(output)], tmp_path / "resume.log")
    try:
        assert resume.wait(timeout=240) == 0, (tmp_path / "resume.log").read_text()[-3000:]
    finally:
        stop_driver(resume)
    runner = json.loads((output / "stats.json").read_text())["runner"]
    assert runner["executor"] == "ray"
    assert runner["skipped_complete"] >= at_driver_kill >= 1
    check_clean_finish(output, reference)  # same rows, drops, quarantine, counts; no _tmp left
