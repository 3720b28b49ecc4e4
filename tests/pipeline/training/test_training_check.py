"""The training check end to end on CPU, on shards written by the real pipeline."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.process_cc import main as process_cc
from jobs.validate_train import main as validate_main
from pipeline.training.shards import ShardCheckError, check_shards, find_shards
from tests.conftest import REPO, TESTDATA

REFERENCE = [str(p) for p in sorted((TESTDATA / "ccnet-perplexity-dolma").glob("*.jsonl.gz"))]


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default pipeline's output over the bundled samples."""
    out = tmp_path_factory.mktemp("sample")
    assert process_cc(["--input", str(REPO / "jobs" / "samples"), "--output", str(out), "--no-progress"]) == 0
    return out


def _one_shard(shards: Path) -> Path:
    return find_shards([shards])[0]


def test_real_shards_pass_the_checks(shards):
    report = check_shards([shards])
    assert report.rows >= 5 and report.words > 1000 and report.utf8_bytes > report.words
    assert report.files == [str(p) for p in sorted((shards / "data").glob("*.parquet"))]


def test_truncated_shard_is_rejected_by_name(shards, tmp_path):
    bad = tmp_path / "cut-00000.parquet"
    data = _one_shard(shards).read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ShardCheckError) as err:
        check_shards([bad])
    assert str(err.value).startswith(f"{bad}: not a readable Parquet file (")


def test_duplicate_ids_are_rejected_with_shard_and_row(shards, tmp_path):
    table = pq.read_table(_one_shard(shards))
    first = table.column("id")[0].as_py()
    dup = tmp_path / "dup-00000.parquet"
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), dup)
    with pytest.raises(ShardCheckError) as err:
        check_shards([dup])
    assert str(err.value) == f"{dup} row {table.num_rows}: duplicate id {first} (first seen in {dup} row 0)"
    # Across shards: the second copy of a shard repeats every id of the first.
    copy = tmp_path / "copy.parquet"
    shutil.copy(_one_shard(shards), copy)
    with pytest.raises(ShardCheckError) as err:
        check_shards([_one_shard(shards), copy])
    assert err.value.total == table.num_rows
    assert (
        err.value.problems[0]
        == f"{copy} row 0: duplicate id {first} (first seen in {_one_shard(shards)} row 0)"
    )


def test_empty_text_null_id_and_wrong_schema_are_rejected(shards, tmp_path):
    table = pq.read_table(_one_shard(shards))
    texts = table.column("text").to_pylist()
    texts[2] = "  \n"
    ids = table.column("id").to_pylist()
    ids[4] = ""
    bad = tmp_path / "bad.parquet"
    table = table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts))
    table = table.set_column(table.schema.get_field_index("id"), "id", pa.array(ids))
    pq.write_table(table, bad)
    with pytest.raises(ShardCheckError) as err:
        check_shards([bad])
    assert err.value.problems == [f"{bad} row 2: empty text (id {ids[2]})", f"{bad} row 4: empty id"]
    narrow = tmp_path / "narrow.parquet"
    pq.write_table(table.drop_columns(["scores"]), narrow)
    with pytest.raises(ShardCheckError, match=rf"^{narrow}: columns \[.*\] differ from the shard schema"):
        check_shards([narrow])


def test_cli_rejects_a_bad_shard_before_training(shards, tmp_path, capsys):
    bad = tmp_path / "x-00000.parquet"
    bad.write_bytes(b"PAR1 not really")
    assert validate_main([str(shards), str(bad), "--output", str(tmp_path / "out")]) == 1
    assert f"{bad}: not a readable Parquet file" in capsys.readouterr().err
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_training_end_to_end_on_cpu(shards, tmp_path, capsys):
    out = tmp_path / "ab"
    code = validate_main(
        ["--a", str(shards), "--b", str(shards), "--reference", *REFERENCE, "--preset", "cpu-test",
         "--seeds", "2", "--output", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert (out / "loss.png").stat().st_size > 10_000 and (out / "tokenizer.json").exists()
    assert metrics["config"]["device"] == "cpu" and metrics["reference"]["documents"] == 20
    assert len(metrics["runs"]) == 4
    for run in metrics["runs"]:
        assert math.isfinite(run["heldout_bpb"]) and run["heldout_bpb"] < run["heldout_bpb_init"]
        assert run["tokens_seen"] > 20_000 and run["tokens_per_s"] > 0 and run["mfu"] is None
        assert run["train_loss"][-1][1] < run["train_loss"][0][1]
    # Same data, same seed: same numbers, whichever arm it was trained as (determinism).
    by = {(r["dataset"], r["seed"]): r for r in metrics["runs"]}
    assert by["A", 0]["train_loss"] == by["B", 0]["train_loss"]
    assert by["A", 0]["heldout_bpb"] == by["B", 0]["heldout_bpb"]
    assert by["A", 0]["heldout_bpb"] != by["A", 1]["heldout_bpb"]
    summary = metrics["summary"]["A"]["heldout_bpb"]
    assert summary["n"] == 2 and summary["std"] > 0
    assert "held-out bits per byte" in capsys.readouterr().out


def test_default_heldout_is_a_slice_of_the_first_dataset(shards, tmp_path):
    from pipeline.training.train import PRESETS, run_check

    metrics = run_check(
        {"data": [str(shards)]}, tmp_path, PRESETS["cpu-test"], holdout=0.3, log=lambda _: None
    )
    assert metrics["reference"]["source"].startswith("held-out slice of data: 30%")
    held = metrics["reference"]["documents"]
    assert 0 < held < metrics["datasets"]["data"]["shards"]["rows"]
    assert (
        metrics["datasets"]["data"]["train_documents"] == metrics["datasets"]["data"]["shards"]["rows"] - held
    )
