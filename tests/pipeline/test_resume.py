"""Interrupted runs: a killed run or a crash at any step of the commit protocol, then a rerun.

The promise of the output layout: a file is either complete (it has a marker, and everything the
marker lists is in place) or it is done again from scratch by the next run, so that the rerun ends
with exactly the rows of an uninterrupted run, none missing and none twice.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileSystem

from pipeline.config import load_config
from pipeline.document import text_hash
from pipeline.registry import ConfigError
from pipeline.run import run_pipeline
from pipeline.sinks import source_key
from tests.conftest import CLIPPED, DOLMA, REPO, WARCFILE, WHIRLWIND
from tests.pipeline._commit_crash_driver import MUTATING, writes_output


def row_keys(output: Path) -> list[tuple[str, str, str]]:
    """(source, id, text hash) of every row in data/, sorted, duplicates kept."""
    rows = []
    for shard in sorted((output / "data").glob("*.parquet")):
        table = pq.read_table(shard, columns=["source", "id", "text"])
        rows += zip(
            *(table.column(c).to_pylist() for c in ("source", "id")),
            map(text_hash, table["text"].to_pylist()),
            strict=True,
        )
    return sorted(rows)


def drop_keys(output: Path) -> list[tuple[str, str, str, str]]:
    rows = []
    for path in sorted((output / "dropped").glob("*.parquet")):
        table = pq.read_table(path)
        rows += zip(*(table.column(c).to_pylist() for c in ("source", "id", "stage", "reason")), strict=True)
    return sorted(rows)


def quarantine_keys(output: Path) -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted((output / "quarantine").glob("*.parquet")):
        table = pq.read_table(path)
        rows += zip(*(table.column(c).to_pylist() for c in ("source", "id", "reason")), strict=True)
    return sorted(rows)


def counts(output: Path) -> dict[str, Any]:
    """stats.json without timings, runner details and shard names."""
    stats = json.loads((output / "stats.json").read_text())
    return {
        "totals": (stats["responses_read"], stats["kept"], stats["dropped"]),
        "stages": {k: {n: v for n, v in s.items() if n != "seconds"} for k, s in stats["stages"].items()},
        # How the rows are cut into shards is the sink's business; the rows are compared directly.
        "files": {src: {n: v for n, v in f.items() if n != "shards"} for src, f in stats["files"].items()},
    }


def read_markers(output: Path) -> dict[str, dict]:
    folder = output / "_markers"
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")} if folder.is_dir() else {}


def check_committed_state(output: Path) -> dict[str, dict]:
    """What must hold at any moment, even right after a crash; returns the markers."""
    found = read_markers(output)
    for key, marker in found.items():
        assert marker["key"] == key
        # A marker is written last: whatever it lists is in place and complete.
        for name in marker["shards"]:
            assert (output / "data" / name).is_file(), (key, name)
        assert (output / "dropped" / f"{key}.parquet").is_file(), key
        rows = sum(pq.read_metadata(output / "data" / name).num_rows for name in marker["shards"])
        assert rows == marker["rows"], key
        dropped = sum(sum(s["dropped"].values()) for s in marker["stages"].values())
        assert pq.read_metadata(output / "dropped" / f"{key}.parquet").num_rows == dropped, key
    # Only whole files carry final names (they were renamed into place after being closed).
    for folder in ("data", "dropped", "quarantine"):
        for path in (output / folder).glob("*"):
            pq.read_table(path)
    return found


def check_clean_finish(output: Path, reference: Path) -> None:
    """After the rerun: the rows, drops and counts of an uninterrupted run, and nothing else."""
    rows = row_keys(output)
    assert rows == row_keys(reference)
    assert len({(source, doc_id) for source, doc_id, _ in rows}) == len(rows), "duplicate rows"
    assert drop_keys(output) == drop_keys(reference)
    assert quarantine_keys(output) == quarantine_keys(reference)
    assert counts(output) == counts(reference)
    found = check_committed_state(output)
    listed = {name for marker in found.values() for name in marker["shards"]}
    assert {p.name for p in (output / "data").glob("*")} == listed, "shards no marker accounts for"
    for folder in ("dropped", "quarantine"):
        assert {p.stem for p in (output / folder).glob("*")} <= set(found), folder
    tmp = output / "_tmp"
    assert not tmp.exists() or not any(tmp.iterdir()), f"left in _tmp: {list(tmp.rglob('*'))}"


# --------------------------------------------------------------------------- kill -9 and rerun


@pytest.fixture(scope="module")
def kill_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Seven small WARCs under distinct names (copies), so a run has many files to commit one by one."""
    folder = tmp_path_factory.mktemp("inputs")
    originals = [DOLMA[0], DOLMA[1], WARCFILE, DOLMA[1], DOLMA[0], WARCFILE, DOLMA[1]]
    paths = []
    for i, original in enumerate(originals):
        path = folder / f"part-{i:02d}.warc.gz"
        shutil.copyfile(original, path)
        paths.append(str(path))
    return paths


def cli_command(inputs: list[str], output: Path) -> list[str]:
    return [
        sys.executable, "-m", "jobs.process_cc", "--input", *inputs, "--output", str(output),
        "--workers", "1", "--no-progress",
    ]  # fmt: skip


def start_and_kill(inputs: list[str], output: Path, log: Path) -> int | None:
    """Start the CLI, SIGKILL its process group while some but not all files are committed.

    The kill lands a moment after a marker appears, when the worker is in the middle of the next
    file. Returns the number of markers at the kill, or None if the run finished first.
    """
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            cli_command(inputs, output), cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if read_markers(output):
                time.sleep(0.1)
                break
            time.sleep(0.01)
        if proc.poll() is not None:
            return None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = len(read_markers(output))
    return done if done < len(inputs) else None


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, kill_inputs: list[str]) -> Path:
    output = tmp_path_factory.mktemp("clean") / "out"
    run_pipeline(kill_inputs, str(output), load_config(), workers=2, progress=False)
    return output


def test_killed_run_resumes_to_the_same_rows(
    tmp_path: Path, kill_inputs: list[str], uninterrupted: Path
) -> None:
    assert row_keys(uninterrupted), "the reference run kept nothing: the comparison would be vacuous"
    for attempt in range(3):
        output = tmp_path / f"out-{attempt}"
        at_kill = start_and_kill(kill_inputs, output, tmp_path / f"log-{attempt}.txt")
        if at_kill is not None:
            break
    else:
        pytest.fail("the run finished every file before it could be killed, three times")
    assert 1 <= at_kill < len(kill_inputs)

    # What a reader sees after the kill: only complete files under final names, and only
    # shards of files that are complete.
    found = check_committed_state(output)
    listed = {name for marker in found.values() for name in marker["shards"]}
    assert {p.name for p in (output / "data").glob("*")} <= listed
    assert not (output / "stats.json").exists()  # the killed run never got to the end

    rerun = subprocess.run(
        cli_command(kill_inputs, output), cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    runner = json.loads((output / "stats.json").read_text())["runner"]
    assert runner["inputs"] == len(kill_inputs)
    assert runner["skipped_complete"] == at_kill
    assert runner["processed"] == len(kill_inputs) - at_kill < len(kill_inputs)
    # The files completed before the kill were not done again.
    for key, marker in found.items():
        assert read_markers(output)[key]["finished_at"] == marker["finished_at"]
    check_clean_finish(output, uninterrupted)


# --------------------------------------------------------------------------- crash at each step

# A cheap pipeline: the commit protocol is under test, not the stages.
CRASH_CONFIG = """\
isolation: false  # the commit protocol is under test; no child process to start for every run
reader:
  batch_size: 4
stages:
  - stage: extract
    isolate: false
  - stage: language
    languages: [en]
    min_score: 0.5
sink:
  row_group_rows: 3
  shard_mb: 0.001
"""
# whirlwind: one record; clipped: fails, with a quarantined record; sample-0001: several shards.
CRASH_INPUTS = [str(WHIRLWIND), str(CLIPPED), str(DOLMA[1])]


def _write(folder: Path, text: str) -> Path:
    path = folder / "other.yaml"
    path.write_text(text)
    return path


class InjectedCrash(Exception):
    """The simulated death of the process."""


def instrument(monkeypatch: pytest.MonkeyPatch, crash_at: int | None) -> list[str]:
    """Count the folder-changing calls; from call number ``crash_at`` on, every one of them fails."""
    calls: list[str] = []

    def wrap(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: LocalFileSystem, *args: Any, **kwargs: Any) -> Any:
            if not writes_output(name, args, kwargs):
                return original(self, *args, **kwargs)
            calls.append(" ".join([name, *map(str, args[:2] if name == "mv" else args[:1])]))
            if crash_at is not None and len(calls) > crash_at:
                raise InjectedCrash(f"crash at call {crash_at}: {calls[crash_at]}")
            return original(self, *args, **kwargs)

        return wrapper

    for name in MUTATING:
        monkeypatch.setattr(LocalFileSystem, name, wrap(name, getattr(LocalFileSystem, name)))
    return calls


@pytest.fixture(scope="module")
def crash_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """A clean run (the reference) and the list of folder-changing calls it makes."""
    folder = tmp_path_factory.mktemp("crash")
    config_path = folder / "config.yaml"
    config_path.write_text(CRASH_CONFIG)
    output = folder / "clean"
    with pytest.MonkeyPatch.context() as mp:
        calls = instrument(mp, None)
        run_pipeline(CRASH_INPUTS, str(output), load_config(config_path), workers=1, progress=False)
    return config_path, output, calls


def test_crash_reference_covers_the_protocol(crash_setup) -> None:
    """The reference run exercises what the crash test needs: shards, drops, quarantine, a failure."""
    _, output, calls = crash_setup
    found = read_markers(output)
    assert len(found) == len(CRASH_INPUTS)
    assert any(len(m["shards"]) > 1 for m in found.values()), "no file with several shards"
    assert any(m["status"] == "failed" for m in found.values())
    assert quarantine_keys(output)
    assert drop_keys(output) and row_keys(output)
    assert sum(c.startswith("mv ") for c in calls) >= 2 * len(CRASH_INPUTS)


def test_crash_at_every_step_then_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_setup) -> None:
    config_path, reference, calls = crash_setup
    config = load_config(config_path)
    for crash_at in range(len(calls)):
        output = tmp_path / f"out-{crash_at:03d}"
        with monkeypatch.context() as mp:
            instrument(mp, crash_at)
            with pytest.raises(InjectedCrash):
                run_pipeline(CRASH_INPUTS, str(output), config, workers=1, progress=False)
        state = f"after a crash at {calls[crash_at]} (call {crash_at})"
        try:
            done = check_committed_state(output)
        except AssertionError as exc:
            raise AssertionError(f"{state}: {exc}") from exc
        stats = run_pipeline(CRASH_INPUTS, str(output), config, workers=1, progress=False)
        assert stats.runner["skipped_complete"] == len(done), state
        try:
            check_clean_finish(output, reference)
        except AssertionError as exc:
            raise AssertionError(f"rerun {state}: {exc}") from exc


def test_crash_then_rerun_with_another_config_is_refused_once_a_file_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_setup
) -> None:
    """A half-done folder keeps its config: the rest cannot be done with another one."""
    config_path, reference, calls = crash_setup
    config = load_config(config_path)
    first_marker = next(
        i for i, c in enumerate(calls) if c.startswith("mv ") and c.endswith(".json") and "/_markers/" in c
    )
    output = tmp_path / "out"
    with monkeypatch.context() as mp:
        instrument(mp, first_marker + 1)
        with pytest.raises(InjectedCrash):
            run_pipeline(CRASH_INPUTS, str(output), config, workers=1, progress=False)
    assert len(read_markers(output)) == 1
    other = load_config(_write(tmp_path, CRASH_CONFIG.replace("min_score: 0.5", "min_score: 0.7")))
    with pytest.raises(ConfigError):
        run_pipeline(CRASH_INPUTS, str(output), other, workers=1, progress=False)
    stats = run_pipeline(CRASH_INPUTS, str(output), config, workers=1, progress=False)
    assert stats.runner["skipped_complete"] == 1
    check_clean_finish(output, reference)


def test_rerun_removes_shards_of_an_unfinished_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_setup
) -> None:
    """Shards renamed into place before a crash are removed, even when the rerun writes fewer.

    The rerun uses bigger shards (the sink is not part of the config fingerprint: it changes no
    row), so a stale shard of the first attempt would not simply be overwritten by a new one.
    """
    config_path, reference, calls = crash_setup
    data_moves = [i for i, c in enumerate(calls) if c.startswith("mv ") and "/data/" in c]
    assert len(data_moves) >= 3
    output = tmp_path / "out"
    with monkeypatch.context() as mp:
        instrument(mp, data_moves[2])  # two shards are final, the rest is not
        with pytest.raises(InjectedCrash):
            run_pipeline(CRASH_INPUTS, str(output), load_config(config_path), workers=1, progress=False)
    stale = sorted(p.name for p in (output / "data").glob("*.parquet"))
    assert len(stale) == 2 and not read_markers(output)
    bigger = load_config(_write(tmp_path, CRASH_CONFIG.replace("shard_mb: 0.001", "shard_mb: 64")))
    run_pipeline(CRASH_INPUTS, str(output), bigger, workers=1, progress=False)
    assert all(len(m["shards"]) <= 1 for m in read_markers(output).values())
    check_clean_finish(output, reference)


def test_source_keys_of_copies_differ(kill_inputs: list[str]) -> None:
    """The kill test relies on copies of one WARC being separate inputs with separate outputs."""
    assert len({source_key(s) for s in kill_inputs}) == len(kill_inputs)
