"""The writer hard-killed at each step of its commit protocol, then the run resumed.

``SourceWriter`` (``pipeline/sinks.py``) makes one input file final in these steps, each one call that
changes the output folder:

* shard write: each ``data`` shard is written under ``_tmp/<key>/`` while the file is processed;
* dropped write, dropped rename: ``dropped.parquet`` under ``_tmp``, renamed to ``dropped/<key>.parquet``;
* quarantine write, quarantine rename: the same for ``quarantine/`` (only when a record was quarantined);
* shard rename: each shard renamed to ``data/<key>-NNNNN.parquet``;
* marker write, marker rename: the marker under ``_tmp``, renamed to ``_markers/<key>.json`` (last);
* tmp cleanup: ``_tmp/<key>`` removed;

and the run writes ``config.yaml`` first and ``stats.json`` and the reports last. The driver
(``_commit_crash_driver.py``) ends a run with ``os._exit`` just before each of these calls in turn --
no ``finally`` clause and no ``abort`` runs, as after a kill -9 -- and then reruns it. Checked: right
after the crash, whatever carries a marker is complete; after the rerun, the rows (id, text hash), the
dropped and quarantined rows, the counts and the markers equal those of an uninterrupted run, files
completed before the crash were not redone, and nothing is left in ``_tmp``.

``test_resume.py`` holds the companion tests: the same steps failing with an exception (the
``except`` path, which aborts the writer), and a whole run killed with SIGKILL at a random moment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import CLIPPED, DOLMA, REPO
from tests.pipeline._commit_crash_driver import CRASH_EXIT
from tests.pipeline.test_resume import check_clean_finish, check_committed_state, read_markers

# Cheap stages (the protocol is under test, not the stages), tiny shards (several per file).
CONFIG = """\
reader:
  batch_size: 4
isolation: false
stages:
  - stage: extract
    engine: resiliparse
    isolate: false
  - stage: language
    languages: [en]
    min_score: 0.5
sink:
  row_group_rows: 3
  shard_mb: 0.001
"""
# clipped: fails, its records quarantined; sample-0001: several shards and drops.
INPUTS = [str(CLIPPED), str(DOLMA[1])]

STEPS = [
    ("shard write", r"^_open .*/_tmp/[^/]+/[^/]+-\d{5}\.parquet$"),
    ("dropped write", r"^_open .*/_tmp/[^/]+/dropped\.parquet$"),
    ("dropped rename", r"^mv .*/_tmp/[^/]+/dropped\.parquet .*/dropped/[^/]+\.parquet$"),
    ("quarantine write", r"^_open .*/_tmp/[^/]+/quarantine\.parquet$"),
    ("quarantine rename", r"^mv .*/_tmp/[^/]+/quarantine\.parquet .*/quarantine/[^/]+\.parquet$"),
    ("shard rename", r"^mv .*/_tmp/[^/]+/[^/]+-\d{5}\.parquet .*/data/[^/]+-\d{5}\.parquet$"),
    ("marker write", r"^_open .*/_tmp/[^/]+/marker\.json$"),
    ("marker rename", r"^mv .*/_tmp/[^/]+/marker\.json .*/_markers/[^/]+\.json$"),
    ("tmp cleanup", r"^rm .*/_tmp/[^/]+$"),
    ("run outputs", r"^_open .*/(config\.yaml|stats\.json|report\.md|report\.html)$"),
]


def step_of(call: str) -> str:
    names = [name for name, pattern in STEPS if re.match(pattern, call)]
    assert len(names) == 1, f"a call the protocol does not describe: {call}"
    return names[0]


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[dict]]:
    work = tmp_path_factory.mktemp("commit-crash")
    config = work / "config.yaml"
    config.write_text(CONFIG)
    command = [sys.executable, "-m", "tests.pipeline._commit_crash_driver", str(config), str(work), *INPUTS]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    calls = json.loads((work / "calls.json").read_text())
    return work, calls, json.loads((work / "results.json").read_text())


def test_every_step_of_the_protocol_is_a_crash_point(crashes) -> None:
    _, calls, results = crashes
    steps = Counter(step_of(call) for call in calls)
    assert set(steps) == {name for name, _ in STEPS}, steps
    assert steps["shard rename"] >= 3  # several shards: a crash between two renames is covered
    assert steps["marker rename"] == steps["tmp cleanup"] == len(INPUTS)
    assert [r["call"] for r in results] == calls


def test_hard_kill_at_each_step_then_resume_gives_the_clean_output(crashes) -> None:
    work, _, results = crashes
    reference = work / "clean"
    for result in results:
        n, call = result["n"], result["call"]
        state = f"killed before call {n} ({step_of(call)}: {call})"
        assert result["crash_exit"] == CRASH_EXIT, state
        assert result["resume_exit"] == 0, state
        crashed = work / f"crashed-{n:03d}"
        try:
            done = check_committed_state(crashed) if crashed.exists() else {}
            output = work / f"out-{n:03d}"
            runner = json.loads((output / "stats.json").read_text())["runner"]
            assert runner["skipped_complete"] == len(done)
            for key, marker in done.items():  # complete files were not done again
                assert read_markers(output)[key]["finished_at"] == marker["finished_at"]
            check_clean_finish(output, reference)
        except AssertionError as exc:
            raise AssertionError(f"{state}: {exc}") from exc
