"""The three perplexity-correlation jobs end to end on real text, with KenLM models trained here.

Pool: MMLU items, one domain per subject (tests/filters/perplexity_correlations/_pool.py). Zoo: five
KenLM bigram models, each trained on the dev items of a different set of subjects, and a tiny GPT-2
built here. Benchmark: GSM8K.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from filters.kenlm_train import train_kenlm
from filters.perplexity_correlations.bpb import read_bpb
from jobs import bpb as bpb_job
from jobs import pplcorr_fit, pplcorr_select
from pipeline.document import ARROW_SCHEMA
from tests.filters.perplexity_correlations._pool import SUBJECTS, subject_items, write_pool
from tests.filters.perplexity_correlations._tiny_models import make_tiny_hf


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> tuple[Path, Path, list[str]]:
    root = tmp_path_factory.mktemp("pplcorr")
    pool = write_pool(testdata, root / "pool")
    models = []
    for k in range(5):
        subjects = SUBJECTS[k : k + 2 + k]  # different subjects, and more text for later models
        texts = [t for s in subjects for t in subject_items(testdata, s, "dev")]
        path = root / "zoo" / f"m{k}.binary"
        train_kenlm(texts, path, order=2, memory="100M")
        models.append(f"m{k}=kenlm:{path}")
    # And one of the other family: a tiny GPT-2 (context 64, so every 64-word chunk is split).
    models.append(f"gpt=hf:{make_tiny_hf(root / 'gpt', testdata, seed=0, train_steps=20)}")
    return root, pool, models


def test_bpb_fit_select(setup: tuple[Path, Path, list[str]], testdata: Path) -> None:
    root, pool, models = setup
    out = root / "bpb"
    bench = f"{testdata}/benchmarks-gsm8k/test.jsonl:question,answer"
    args = [str(pool), "--output", str(out), "--benchmark", bench, "--chunk-words", "64", "--quiet"]
    for m in models:
        args += ["--model", m]
    assert bpb_job.main(args) == 0
    matrix = read_bpb(out / "bpb.parquet")
    assert matrix.models == [*(f"m{k}" for k in range(5)), "gpt"]
    assert len(matrix.domains) == len(SUBJECTS) and (matrix.X > 0).all()
    summary = json.loads((out / "bpb.json").read_text())
    assert summary["dropped_chunks_nan"] == 0 and not summary["failed_models"]
    assert set(summary["model_pins"]) == set(matrix.models)
    with open(out / "error.csv", encoding="utf-8") as fh:
        errors = {r["model"]: float(r["error"]) for r in csv.DictReader(fh)}
    assert set(errors) == set(matrix.models) and all(0 < e < 10 for e in errors.values())

    # A broken model fails alone; the finished ones come from the cache, untouched.
    cached = {p: p.stat().st_mtime_ns for p in (out / "cache").rglob("*.npz")}
    assert len(cached) == 12  # 6 models x (pool chunks, benchmark)
    assert bpb_job.main([*args, "--model", "broken=kenlm:" + str(root / "missing.binary")]) == 2
    assert "broken" in json.loads((out / "bpb.json").read_text())["failed_models"]
    assert {p: p.stat().st_mtime_ns for p in cached} == cached

    fit = root / "fit"
    assert pplcorr_fit.main([str(out), str(pool), "--output", str(fit), "--keep-ratio", "0.5"]) == 0
    with open(fit / "weights.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(SUBJECTS)
    assert sum(float(r["weight"]) for r in rows) == pytest.approx(1.0, abs=1e-6)
    assert all(float(r["weight"]) <= float(r["tau"]) + 1e-6 for r in rows)
    included = [r for r in rows if r["label"] == "include"]
    assert 0 < len(included) < len(rows)
    assert (fit / "student.bin").is_file() and (fit / "student.bin.sha256").is_file()

    sel = root / "selected"
    student = str(fit / "student.bin")
    select_args = [str(pool), "--output", str(sel), "--model", student, "--keep-ratio", "0.5"]
    assert pplcorr_select.main(select_args) == 0
    chosen = json.loads((sel / "selection.json").read_text())
    assert chosen["selected_words"] >= chosen["budget_words"] == round(0.5 * chosen["words"])
    tables = [pq.read_table(p) for p in sorted((sel / "data").glob("*.parquet"))]
    assert all(t.schema.remove_metadata().equals(ARROW_SCHEMA.remove_metadata()) for t in tables)
    assert sum(t.num_rows for t in tables) == chosen["selected_documents"]
    scores = [dict(m)["pplcorr"] for t in tables for m in t.column("scores").to_pylist()]
    assert min(scores) == pytest.approx(chosen["lowest_selected_score"])

    rand = root / "random"
    budget = ["--budget-words", str(chosen["budget_words"]), "--random-seed", "0"]
    assert pplcorr_select.main([str(pool), "--output", str(rand), *budget]) == 0
    assert json.loads((rand / "selection.json").read_text())["budget_words"] == chosen["budget_words"]


def test_bpb_job_needs_an_error_source(setup: tuple[Path, Path, list[str]], capsys) -> None:
    root, pool, models = setup
    with pytest.raises(SystemExit):
        bpb_job.main([str(pool), "--output", str(root / "x"), "--model", models[0]])
    assert "--benchmark" in capsys.readouterr().err


def test_pinned_models(setup: tuple[Path, Path, list[str]], testdata: Path) -> None:
    from filters.models import ModelFileError, file_sha256
    from filters.perplexity_correlations.scoring import parse_model_spec

    _, _, models = setup
    kenlm, gpt = parse_model_spec(models[0]), parse_model_spec(models[-1])
    # What jobs.bpb writes to bpb.json's model_pins: a KenLM file's sha256, a model folder's fingerprint.
    pins = {kenlm.name: file_sha256(kenlm.path), gpt.name: gpt.build().fingerprint()}
    for spec_text in (models[0], models[-1]):
        spec = parse_model_spec(f"{spec_text}#{pins[spec_text.split('=')[0]]}")
        assert spec.sha256 == pins[spec.name]
        spec.build().score(["a pinned model scores"])  # the right digest loads
        wrong = parse_model_spec(f"{spec_text}#{'0' * 64}")
        with pytest.raises(ModelFileError):
            wrong.build().score(["a tampered model is refused"])
