"""``jobs/train_quality.py`` end to end on real text from ../shared/testdata, and its readers."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from benchmarks.train_classifiers import quality_corpus
from filters.models import file_sha256
from filters.training import Example, fold_groups, split_holdout
from filters.training_data import read_documents, write_jsonl
from jobs.train_quality import main
from pipeline.registry import build_stage
from tests.conftest import TESTDATA, make_doc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Example]]:
    """Every third page of the quality corpus as the JSONL the benchmark writes."""
    folder = tmp_path_factory.mktemp("corpus")
    examples = quality_corpus(every=3)
    pos, neg = folder / "pos.jsonl", folder / "neg.jsonl"
    write_jsonl(pos, ((ex.text, ex.group) for ex in examples if ex.positive))
    write_jsonl(neg, ((ex.text, ex.group) for ex in examples if not ex.positive))
    return pos, neg, examples


def _figure(out: str, name: str) -> float:
    return float(re.search(rf"{name} (\d\.\d+)", out).group(1))


def test_job_trains_reports_and_prints_a_working_config(corpus, tmp_path: Path, capsys) -> None:
    pos, neg, examples = corpus
    model = tmp_path / "models" / "quality.bin"
    assert (
        main(["--positives", str(pos), "--negatives", str(neg), "--output", str(model), "--holdout", "0.2"])
        == 0
    )
    out = capsys.readouterr().out
    assert _figure(out, "precision") >= 0.75 and _figure(out, "recall") >= 0.75, out
    digest = file_sha256(model)
    assert (tmp_path / "models" / "quality.bin.sha256").read_text() == f"{digest}  quality.bin\n"
    entry = yaml.safe_load(out.split("config entry:")[1])[0]
    assert entry == {
        "stage": "quality",
        "model_path": str(model),
        "model_sha256": digest,
        "positive_label": "hq",
        "preprocessing": "dclm",
    }
    stage = build_stage(entry)
    docs = [make_doc(ex.text, f"d{i}") for i, ex in enumerate(examples[:20])]
    assert len(stage.run(docs).kept) == len(docs)  # score-only, as printed


def test_math_task_labels_and_scheme(corpus, tmp_path: Path, capsys) -> None:
    pos, neg, _ = corpus  # any two classes will do: this checks the preset, not the model
    model = tmp_path / "math.bin"
    argv = ["--task", "math", "--positives", str(pos), "--negatives", str(neg), "--output", str(model)]
    assert main([*argv, "--epoch", "5", "--dim", "16"]) == 0
    entry = yaml.safe_load(capsys.readouterr().out.split("config entry:")[1])[0]
    assert entry["stage"] == "math_score" and entry["positive_label"] == "math"
    assert entry["preprocessing"] == "tokens"
    build_stage(entry).setup()


def test_job_refuses_one_class(corpus, tmp_path: Path, capsys) -> None:
    pos, _, _ = corpus
    assert (
        main(["--positives", str(pos), "--negatives", str(tmp_path), "--output", str(tmp_path / "m.bin")])
        == 1
    )
    assert "both positive and negative" in capsys.readouterr().err


def test_readers_parquet_jsonl_and_plain_text(tmp_path: Path) -> None:
    gold = (TESTDATA / "extraction-cleaneval-dev" / "gold").glob("*.txt.gz")
    texts = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted(gold)[:4]]
    urls = ["https://www.a.org/1", "https://a.org/2", "http://b.net/x", None]
    table = pa.table({"id": ["1", "2", "3", "4"], "url": urls, "text": texts})
    pq.write_table(table, tmp_path / "shard.parquet")
    assert [g for _, g in read_documents(tmp_path / "shard.parquet")][:3] == ["a.org", "a.org", "b.net"]
    assert [t for t, _ in read_documents(tmp_path / "shard.parquet")] == texts

    (tmp_path / "docs.txt").write_text(texts[0], encoding="utf-8")
    blocks = list(read_documents(tmp_path / "docs.txt", "block"))
    assert len(blocks) == len([b for b in re.split(r"\n[ \t]*\n", texts[0]) if b.strip()]) > 1
    assert list(read_documents(tmp_path / "docs.txt", "file")) == [(texts[0], str(tmp_path / "docs.txt"))]

    write_jsonl(tmp_path / "d.jsonl", [(texts[1], "site-x")])
    assert list(read_documents(tmp_path / "d.jsonl")) == [(texts[1], "site-x")]
    with pytest.raises(ValueError, match="no 'body'"):
        list(read_documents(tmp_path / "shard.parquet", text_field="body"))


def test_splits_keep_sites_whole(corpus) -> None:
    _, _, examples = corpus
    train, held = split_holdout(examples, 0.1, seed=3)
    assert {ex.group for ex in train}.isdisjoint({ex.group for ex in held})
    assert {ex.positive for ex in held} == {True, False}
    assert 0.05 * len(examples) <= len(held) <= 0.25 * len(examples)
    folds = fold_groups(examples, 5, seed=3)
    assert sum(len(f) for f in folds) == len({ex.group for ex in examples})
    assert all(a.isdisjoint(b) for i, a in enumerate(folds) for b in folds[i + 1 :])
