"""``python -m jobs.train_kenlm``: real lmplz runs on real text (CCNet's JSONL output, lingua's English
sentences), through every input format, down to a tiny corpus. ``make test`` builds lmplz first."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import kenlm
import pyarrow.parquet as pq
import pytest
import yaml

from filters.kenlm_train import TOOLS_ENV, iter_texts, train_kenlm
from filters.models import file_sha256
from jobs.train_kenlm import main
from pipeline.document import to_table
from pipeline.registry import build_stage
from tests.conftest import TESTDATA, make_doc, make_docs

CCNET = TESTDATA / "ccnet-perplexity-dolma"  # 20 documents as CCNet wrote them (JSONL, `text` field)
LINGUA_EN = TESTDATA / "langid-lingua-testdata" / "sentences" / "en.txt.gz"


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    with gzip.open(LINGUA_EN, "rt", encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def test_trains_from_ccnet_jsonl_and_prints_a_working_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "models" / "en.binary"
    assert main([str(CCNET), "--output", str(output), "--sample", "20", "--keep-arpa"]) == 0
    out = capsys.readouterr().out
    assert f"sha256: {file_sha256(output)}" in out
    assert "note: cut-offs measured on the training text" in out
    assert re.search(r"bucket cut-offs from 20 documents", out)
    assert "ngram 3=" in output.with_suffix(".arpa").read_text()[:200]  # default order 3

    # The printed config entry is the one to paste: it builds and scores.
    entry = yaml.safe_load(out.split("config:\n", 1)[1])[0]
    assert entry["model_sha256"] == file_sha256(output) and len(entry["buckets"]) == 2
    stage = build_stage(entry)
    docs = make_docs(*iter_texts([CCNET]))
    assert len(docs) == 20
    stage.run(docs)
    buckets = [d.metadata["perplexity_bucket"] for d in docs]
    assert {"head", "middle", "tail"} <= set(buckets)


def test_reads_ccsieve_parquet_shards_and_plain_text(tmp_path: Path, sentences: list[str]) -> None:
    shard = tmp_path / "data" / "crawl-00000.parquet"
    shard.parent.mkdir()
    texts = ["\n".join(sentences[i : i + 20]) for i in range(0, 200, 20)]
    pq.write_table(to_table([make_doc(t, f"d{i}") for i, t in enumerate(texts)]), shard)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text(sentences[300], encoding="utf-8")
    with gzip.open(tmp_path / "notes" / "b.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write(sentences[301])
    assert list(iter_texts([shard])) == texts
    assert list(iter_texts([tmp_path / "notes"])) == [sentences[300], sentences[301]]
    assert list(iter_texts([tmp_path / "data", tmp_path / "notes"], limit=11)) == [*texts, sentences[300]]

    model = train_kenlm(iter_texts([tmp_path]), tmp_path / "m.binary", order=2)
    assert model.lines == 202 and model.order == 2
    assert model.sha256 == file_sha256(model.path)
    lm = kenlm.Model(str(model.path))
    assert lm.order == 2


def test_tiny_corpus_and_special_symbols_train(tmp_path: Path, sentences: list[str]) -> None:
    # Three sentences cannot estimate Kneser-Ney discounts (lmplz needs --discount_fallback), and web
    # text may hold a literal <s> (lmplz aborts without --skip_symbols).
    texts = [*sentences[:2], f"Tags like <s> and </s> or <unk> appear in crawled pages: {sentences[2]}"]
    model = train_kenlm(texts, tmp_path / "tiny.binary", order=3, prune=[0, 0, 1])
    assert model.lines == 3
    lm = kenlm.Model(str(model.path))
    assert lm.score("the", bos=True, eos=True) < 0


def test_missing_lmplz_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOOLS_ENV, str(tmp_path))  # an empty folder: no lmplz there
    assert main([str(CCNET), "--output", str(tmp_path / "m.binary")]) == 2
    err = capsys.readouterr().err
    assert "lmplz was not found" in err and "make kenlm-tools" in err
    assert not (tmp_path / "m.binary").exists()


def test_bad_inputs_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\x07\n", encoding="utf-8")
    assert main([str(blank), "--output", str(tmp_path / "m.binary")]) == 1
    assert "no text to train on" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine"}\nnot json\n', encoding="utf-8")
    assert main([str(broken), "--output", str(tmp_path / "m.binary")]) == 1
    assert "broken.jsonl:2: not a JSON object per line" in capsys.readouterr().err
    assert main([str(tmp_path / "absent"), "--output", str(tmp_path / "m.binary")]) == 1
    assert "no such file or folder" in capsys.readouterr().err
