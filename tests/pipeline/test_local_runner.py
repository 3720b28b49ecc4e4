"""The local runner end to end on real WARCs: accounting, output format, bad inputs, reruns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from extractors.warc import READ_STAGE
from pipeline.config import load_config
from pipeline.document import ARROW_SCHEMA, text_hash
from pipeline.registry import ConfigError
from pipeline.run import run_pipeline
from pipeline.sinks import source_key
from tests.conftest import CLIPPED, DOLMA, REPO, WARCFILE, WHIRLWIND

ACCOUNTING_INPUTS = [WARCFILE, *DOLMA, WHIRLWIND]

# A cheap pipeline for the tests that are about the runner, not about the stages.
SMALL_CONFIG = """\
reader:
  batch_size: 8
stages:
  - stage: extract
    isolate: false
  - stage: language
    languages: [en]
    min_score: 0.5
"""


def response_ids(path: Path) -> list[str]:
    """The WARC-Record-IDs of the response records, counted by fastwarc itself."""
    with open(path, "rb") as fh:
        return [
            r.record_id for r in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False)
        ]


def read_data(output: Path) -> list[dict]:
    shards = sorted((output / "data").glob("*.parquet"))
    return [row for shard in shards for row in pq.read_table(shard).to_pylist()]


def row_keys(output: Path) -> list[tuple[str, str, str]]:
    """(source, id, text hash) of every kept row, sorted; duplicates stay visible."""
    return sorted((r["source"], r["id"], text_hash(r["text"])) for r in read_data(output))


def drop_keys(output: Path) -> list[tuple[str, str, str, str]]:
    files = sorted((output / "dropped").glob("*.parquet"))
    rows = [row for f in files for row in pq.read_table(f).to_pylist()]
    return sorted((r["source"], r["id"], r["stage"], r["reason"]) for r in rows)


def markers(output: Path) -> dict[str, dict]:
    found = {}
    for path in (output / "_markers").glob("*.json"):
        marker = json.loads(path.read_text())
        found[marker["source"]] = marker
    return found


def write_config(folder: Path, text: str = SMALL_CONFIG, name: str = "small.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobs.process_cc", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --------------------------------------------------------------------------- default pipeline


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, object]:
    output = tmp_path_factory.mktemp("default") / "out"
    stats = run_pipeline(
        [str(p) for p in ACCOUNTING_INPUTS], str(output), load_config(), workers=2, progress=False
    )
    return output, json.loads((output / "stats.json").read_text()), stats


@pytest.mark.parametrize("path", ACCOUNTING_INPUTS, ids=lambda p: p.name)
def test_every_response_record_is_kept_or_dropped_once(default_run, path: Path) -> None:
    output, stats_json, _ = default_run
    source = str(path)
    expected_ids = response_ids(path)
    assert expected_ids, f"{path} has no response records to account for"

    entry = stats_json["files"][source]
    marker = markers(output)[source]
    assert entry["status"] == "ok" and entry["error"] is None
    # Records read by the pipeline == records fastwarc finds on its own.
    assert entry["responses_read"] == marker["responses_read"] == len(expected_ids)

    # kept + dropped-by-reason, summed over every stage, == records read.
    dropped_by_stage = {label: Counter(s["dropped"]) for label, s in marker["stages"].items()}
    dropped_total = sum(sum(c.values()) for c in dropped_by_stage.values())
    assert entry["kept"] == marker["rows"]
    assert entry["kept"] + dropped_total == len(expected_ids)
    assert entry["dropped"] == dropped_total

    # The stages form a funnel: each one sees what the previous one kept.
    labels = [READ_STAGE, *(s.label for s in load_config().build_stages())]
    assert set(marker["stages"]) == set(labels)
    assert list(stats_json["stages"]) == labels
    seen = len(expected_ids)
    for label in labels:
        stage = marker["stages"][label]
        assert stage["seen"] == seen, label
        assert stage["kept"] + sum(stage["dropped"].values()) == stage["seen"], label
        seen = stage["kept"]
    assert seen == entry["kept"]

    # The rows on disk agree with the counts: data/ holds the kept ones ...
    kept_rows = [r for r in read_data(output) if r["source"] == source]
    assert len(kept_rows) == entry["kept"]
    assert sorted(marker["shards"]) == sorted(
        p.name for p in (output / "data").glob(f"{source_key(source)}-*.parquet")
    )
    # ... dropped/<key>.parquet the dropped ones, with the reasons the stats give ...
    drops = pq.read_table(output / "dropped" / f"{source_key(source)}.parquet").to_pylist()
    assert len(drops) == dropped_total
    assert {r["source"] for r in drops} <= {source}
    on_disk = Counter((r["stage"], r["reason"]) for r in drops)
    from_stats = Counter(
        {(label, reason): n for label, c in dropped_by_stage.items() for reason, n in c.items()}
    )
    assert on_disk == from_stats
    # ... and together they are exactly the file's response records, each once.
    assert sorted([r["id"] for r in kept_rows] + [r["id"] for r in drops]) == sorted(expected_ids)


def test_run_totals_are_the_sum_of_the_files(default_run) -> None:
    output, stats_json, stats = default_run
    files = stats_json["files"]
    assert set(files) == {str(p) for p in ACCOUNTING_INPUTS}
    expected = sum(len(response_ids(p)) for p in ACCOUNTING_INPUTS)
    assert stats_json["responses_read"] == stats.responses_read == expected
    assert stats_json["kept"] == sum(f["kept"] for f in files.values()) == len(read_data(output))
    assert stats_json["dropped"] == sum(f["dropped"] for f in files.values())
    assert stats_json["kept"] + stats_json["dropped"] == expected
    for label, stage in stats_json["stages"].items():
        per_file = [m["stages"][label] for m in markers(output).values()]
        assert stage["seen"] == sum(s["seen"] for s in per_file), label
        assert stage["kept"] == sum(s["kept"] for s in per_file), label
        summed = sum((Counter(s["dropped"]) for s in per_file), Counter())
        assert Counter(stage["dropped"]) == summed, label
    assert stats_json["runner"]["inputs"] == stats_json["runner"]["processed"] == len(ACCOUNTING_INPUTS)
    assert stats_json["runner"]["skipped_complete"] == 0
    assert (output / "report.md").is_file()


def test_shards_have_the_published_schema_and_zstd(default_run) -> None:
    output, stats_json, _ = default_run
    shards = sorted((output / "data").glob("*.parquet"))
    assert shards, "the default pipeline kept nothing from these inputs; the schema test checks nothing"
    ids: list[str] = []
    for shard in shards:
        table = pq.read_table(shard)
        assert table.schema.names == ARROW_SCHEMA.names
        assert [f.type for f in table.schema] == [f.type for f in ARROW_SCHEMA], shard.name
        meta = pq.ParquetFile(shard).metadata
        assert meta.num_row_groups >= 1
        for rg in range(meta.num_row_groups):
            for col in range(meta.num_columns):
                assert meta.row_group(rg).column(col).compression == "ZSTD", (shard.name, rg, col)
        texts = table.column("text").to_pylist()
        assert all(t and t.strip() for t in texts), shard.name
        ids.extend(table.column("id").to_pylist())
    assert len(ids) == len(set(ids)) == stats_json["kept"]


def test_dropped_files_are_zstd_parquet_without_payload(default_run) -> None:
    output, _, _ = default_run
    files = sorted((output / "dropped").glob("*.parquet"))
    assert len(files) == len(ACCOUNTING_INPUTS)
    for path in files:
        assert "payload" not in pq.read_schema(path).names
        meta = pq.ParquetFile(path).metadata
        for rg in range(meta.num_row_groups):
            for col in range(meta.num_columns):
                assert meta.row_group(rg).column(col).compression == "ZSTD"


# --------------------------------------------------------------------------- bad inputs


@pytest.fixture
def not_a_warc(tmp_path: Path) -> Path:
    path = tmp_path / "inputs" / "notes.warc.gz"
    path.parent.mkdir()
    path.write_text("These are my notes.\nThey are not a WARC file, whatever the name says.\n")
    return path


def _check_good_file_done(output: Path, stats_files: dict) -> None:
    source = str(WARCFILE)
    expected_ids = response_ids(WARCFILE)
    entry = stats_files[source]
    assert entry["status"] == "ok" and entry["error"] is None
    assert entry["responses_read"] == len(expected_ids)
    assert entry["kept"] + entry["dropped"] == len(expected_ids)
    kept = [r for r in read_data(output) if r["source"] == source]
    drops = pq.read_table(output / "dropped" / f"{source_key(source)}.parquet").to_pylist()
    assert len(kept) == entry["kept"] and len(drops) == entry["dropped"]
    assert sorted([r["id"] for r in kept] + [r["id"] for r in drops]) == sorted(expected_ids)


def test_bad_inputs_fail_alone(tmp_path: Path, not_a_warc: Path) -> None:
    output = tmp_path / "out"
    config = load_config(write_config(tmp_path))
    stats = run_pipeline(
        [str(CLIPPED), str(not_a_warc), str(WARCFILE)], str(output), config, workers=2, progress=False
    )
    _check_good_file_done(output, stats.files)
    assert set(stats.failed_files) == {str(CLIPPED), str(not_a_warc)}
    for bad in (CLIPPED, not_a_warc):
        entry = stats.files[str(bad)]
        assert entry["status"] == "failed"
        assert str(bad) in entry["error"]
        assert entry["kept"] == 0
    # The truncated record is read, dropped, and quarantined with what was read of it.
    clipped_ids = response_ids(CLIPPED)
    assert stats.files[str(CLIPPED)]["responses_read"] == len(clipped_ids)
    assert stats.files[str(CLIPPED)]["dropped"] == len(clipped_ids)
    quarantine = pq.read_table(output / "quarantine" / f"{source_key(str(CLIPPED))}.parquet").to_pylist()
    assert [r["id"] for r in quarantine] == clipped_ids
    assert all(r["quarantined"] and r["payload"] for r in quarantine)
    assert stats.files[str(not_a_warc)]["responses_read"] == 0
    saved = json.loads((output / "stats.json").read_text())
    assert set(saved["files"]) == {str(CLIPPED), str(not_a_warc), str(WARCFILE)}
    assert saved["kept"] + saved["dropped"] == saved["responses_read"]


def test_cli_exit_code_names_bad_files(tmp_path: Path, not_a_warc: Path) -> None:
    output = tmp_path / "out"
    config = write_config(tmp_path)
    args = ["--config", str(config), "--input", str(CLIPPED), str(not_a_warc), str(WARCFILE)]
    args += ["--output", str(output), "--workers", "1", "--no-progress"]
    result = run_cli(*args)
    assert result.returncode == 1, result.stderr
    assert str(CLIPPED) in result.stderr
    assert str(not_a_warc) in result.stderr
    assert str(WARCFILE) not in result.stderr
    saved = json.loads((output / "stats.json").read_text())
    _check_good_file_done(output, saved["files"])

    # A rerun has nothing left to do but still reports the failures.
    again = run_cli(*args)
    assert again.returncode == 1
    assert str(CLIPPED) in again.stderr and str(not_a_warc) in again.stderr
    assert json.loads((output / "stats.json").read_text())["runner"]["processed"] == 0


def test_cli_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("--input", str(tmp_path / "nothing-here.warc.gz"), "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "nothing-here.warc.gz" in result.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- reruns


@pytest.fixture(scope="module")
def small_inputs() -> list[str]:
    return [str(DOLMA[-1]), str(WHIRLWIND)]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory, small_inputs: list[str]) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("small")
    config_path = write_config(folder)
    output = folder / "out"
    run_pipeline(small_inputs, str(output), load_config(config_path), workers=1, progress=False)
    return config_path, output


def _mtimes(output: Path) -> dict[str, int]:
    return {
        str(p.relative_to(output)): p.stat().st_mtime_ns
        for folder in ("data", "dropped", "_markers")
        for p in (output / folder).glob("*")
    }


def test_rerun_of_finished_output_does_nothing(small_run, small_inputs: list[str]) -> None:
    config_path, output = small_run
    before_rows, before_drops, before_files = row_keys(output), drop_keys(output), _mtimes(output)
    assert before_rows, "nothing kept: the comparison below would be vacuous"
    stats = run_pipeline(small_inputs, str(output), load_config(config_path), workers=1, progress=False)
    assert stats.runner["skipped_complete"] == len(small_inputs)
    assert stats.runner["processed"] == 0
    assert row_keys(output) == before_rows
    assert drop_keys(output) == before_drops
    assert _mtimes(output) == before_files  # nothing rewritten
    assert stats.responses_read == sum(len(response_ids(Path(s))) for s in small_inputs)
    assert set(stats.files) == set(small_inputs)


def test_rerun_with_more_inputs_does_only_the_new_ones(
    tmp_path: Path, small_run, small_inputs: list[str]
) -> None:
    config_path, finished = small_run
    output = tmp_path / "out"
    config = load_config(config_path)
    run_pipeline(small_inputs[:1], str(output), config, workers=1, progress=False)
    first = _mtimes(output)
    stats = run_pipeline(small_inputs, str(output), config, workers=1, progress=False)
    assert stats.runner["skipped_complete"] == 1 and stats.runner["processed"] == len(small_inputs) - 1
    assert all(_mtimes(output)[name] == t for name, t in first.items())
    assert row_keys(output) == row_keys(finished)
    assert drop_keys(output) == drop_keys(finished)


def test_overwrite_starts_over(tmp_path: Path, small_run, small_inputs: list[str]) -> None:
    config_path, finished = small_run
    output = tmp_path / "out"
    config = load_config(config_path)
    run_pipeline(small_inputs, str(output), config, workers=1, progress=False)
    stray = output / "data" / "stray-0000000000-00000.parquet"
    stray.write_bytes(b"left over from somewhere")
    stats = run_pipeline(small_inputs, str(output), config, workers=1, progress=False, overwrite=True)
    assert stats.runner["processed"] == len(small_inputs)
    assert stats.runner["skipped_complete"] == 0
    assert not stray.exists()
    assert row_keys(output) == row_keys(finished)
    assert drop_keys(output) == drop_keys(finished)


def test_other_config_into_same_folder_is_refused(tmp_path: Path, small_inputs: list[str]) -> None:
    output = tmp_path / "out"
    first = load_config(write_config(tmp_path))
    run_pipeline(small_inputs[:1], str(output), first, workers=1, progress=False)
    saved_config = (output / "config.yaml").read_text()
    before = _mtimes(output)
    other = load_config(
        write_config(tmp_path, SMALL_CONFIG.replace("min_score: 0.5", "min_score: 0.9"), "b.yaml")
    )
    # The same inputs, and also inputs the folder does not hold yet: either would mix two configs.
    for inputs in (small_inputs[:1], small_inputs, small_inputs[1:]):
        with pytest.raises(ConfigError, match="another config"):
            run_pipeline(inputs, str(output), other, workers=1, progress=False)
        assert (output / "config.yaml").read_text() == saved_config
        assert _mtimes(output) == before
    # The batch size does not change any row, but the fingerprint covers the reader section too.
    rebatched = load_config(
        write_config(tmp_path, SMALL_CONFIG.replace("batch_size: 8", "batch_size: 3"), "c.yaml")
    )
    with pytest.raises(ConfigError):
        run_pipeline(small_inputs[:1], str(output), rebatched, workers=1, progress=False)
    # --overwrite is the way out.
    stats = run_pipeline(small_inputs[:1], str(output), other, workers=1, progress=False, overwrite=True)
    assert stats.runner["processed"] == 1


def test_folder_with_unrelated_files_is_refused(tmp_path: Path, small_inputs: list[str]) -> None:
    output = tmp_path / "mine"
    output.mkdir()
    precious = output / "thesis.tex"
    precious.write_text("\\documentclass{article}")
    config = load_config(write_config(tmp_path))
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match="not a ccsieve output folder"):
            run_pipeline(small_inputs, str(output), config, workers=1, progress=False, overwrite=overwrite)
        assert precious.read_text() == "\\documentclass{article}"
        assert sorted(p.name for p in output.iterdir()) == ["thesis.tex"]
    result = run_cli("--input", *small_inputs, "--output", str(output), "--overwrite", "--no-progress")
    assert result.returncode == 2
    assert "not a ccsieve output folder" in result.stderr
    assert precious.exists()


def test_existing_empty_folder_is_accepted(tmp_path: Path, small_inputs: list[str]) -> None:
    output = tmp_path / "empty"
    output.mkdir()
    stats = run_pipeline(
        small_inputs[1:], str(output), load_config(write_config(tmp_path)), workers=1, progress=False
    )
    assert stats.runner["processed"] == 1
    assert os.listdir(output / "_markers")
