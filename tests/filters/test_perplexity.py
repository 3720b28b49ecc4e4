"""The perplexity stage with a real KenLM model, trained here (lmplz) on real English prose.

Training text: the 1,000 English sentences of lingua's test data and the hand-cleaned paragraphs of
half the CleanEval pages. Held out: the paragraphs of the other half (clean prose), the link texts of
those pages' HTML (navigation and footer boilerplate) and the ``<meta name="keywords">`` lists of the
CleanEval pages (real SEO keyword spam). lmplz comes from ``make kenlm-tools`` (``make test`` builds it).
"""

# ruff: noqa: RUF001 -- the examples are look-alike Unicode punctuation and digits on purpose

from __future__ import annotations

import gzip
import math
import pickle
import re
import shutil
import statistics
from pathlib import Path

import kenlm
import lxml.html
import pytest

from filters.kenlm_train import TrainedModel, train_kenlm
from filters.models import ModelFileError
from filters.perplexity import (
    PerplexityAnnotator,
    bucket_of,
    compute_cutoffs,
    document_log10_prob,
    perplexity,
)
from filters.text_normalize import normalize, normalize_lines
from pipeline.registry import ConfigError, build_stage
from tests.conftest import TESTDATA, make_doc, make_docs

CLEANEVAL = TESTDATA / "extraction-cleaneval-dev"
LINGUA_EN = TESTDATA / "langid-lingua-testdata" / "sentences" / "en.txt.gz"
PAGE_IDS = sorted(int(p.name.split(".")[0]) for p in (CLEANEVAL / "gold").glob("*.txt.gz"))
TRAIN_IDS, HELD_OUT_IDS = PAGE_IDS[::2], PAGE_IDS[1::2]
_BLOCK = re.compile(r"<([phl])>")  # CleanEval gold marks paragraphs, headings and list items


def gold_paragraphs(page_id: int) -> list[str]:
    """The gold text's <p> blocks of at least five words, each joined onto one line."""
    with gzip.open(CLEANEVAL / "gold" / f"{page_id}.txt.gz", "rt", encoding="utf-8", errors="replace") as fh:
        parts = _BLOCK.split(fh.read())
    blocks = (
        " ".join(body.split()) for tag, body in zip(parts[1::2], parts[2::2], strict=True) if tag == "p"
    )
    return [b for b in blocks if len(b.split()) >= 5]


def _page(page_id: int) -> lxml.html.HtmlElement:
    with gzip.open(CLEANEVAL / "input" / f"{page_id}.html.gz", "rb") as fh:
        return lxml.html.document_fromstring(fh.read())


def link_texts(page_id: int) -> list[str]:
    return [" ".join(a.text_content().split()) for a in _page(page_id).iter("a") if a.text_content().strip()]


def meta_keywords(page_id: int) -> list[str]:
    """Keyword lists of eight terms or more, as one line of words."""
    lists = []
    for meta in _page(page_id).iter("meta"):
        if (meta.get("name") or "").lower() == "keywords":
            terms = [t.strip() for t in (meta.get("content") or "").split(",") if t.strip()]
            if len(terms) >= 8:
                lists.append(" ".join(terms))
    return lists


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    with gzip.open(LINGUA_EN, "rt", encoding="utf-8") as fh:
        texts = [fh.read()]
    texts += ["\n".join(gold_paragraphs(i)) for i in TRAIN_IDS]
    return train_kenlm(texts, tmp_path_factory.mktemp("kenlm") / "en.binary", order=3)


@pytest.fixture(scope="module")
def corpora() -> dict[str, list[str]]:
    prose = ["\n".join(gold_paragraphs(i)) for i in HELD_OUT_IDS]
    links = ["\n".join(link_texts(i)) for i in HELD_OUT_IDS]
    return {
        "prose": [p for p in prose if len(p.split()) >= 50],
        "boilerplate": [b for b in links if b.count("\n") >= 9],  # pages with ten links or more
        "spam": [k for i in PAGE_IDS for k in meta_keywords(i)],
    }


def make_stage(model: TrainedModel, **params: object) -> PerplexityAnnotator:
    return PerplexityAnnotator(model_path=str(model.path), model_sha256=model.sha256, **params)


def scores_of(stage: PerplexityAnnotator, texts: list[str]) -> list[float]:
    docs = make_docs(*texts)
    outcome = stage.run(docs)
    assert len(outcome.kept) == len(docs)
    return [d.scores["perplexity"] for d in docs]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Café ÉTÉ à Zürich  ", "cafe ete a zurich"),
        ("Tel. 0123 456-789, ９ and ٣", "tel. 0000 000-000, 0 and 0"),
        ("«Bonjour» — dit-il…", '"bonjour"  -  dit-il...'),
        ("【Note】（１）：ok！", "[note](0):ok!"),
        ("it’s “quoted”", 'it\'s "quoted"'),
        ("tab\there\x00\x85end", "tabhereend"),  # control characters go, as in CCNet
        ("   ", ""),
    ],
)
def test_normalize_is_ccnets(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_lines_splits_paragraphs_and_collapses_spaces() -> None:
    text = "First  Line — here.\n\n   \nSecond 2 line\n\x07\n"
    assert normalize_lines(text) == ["first line - here.", "second 0 line"]


def test_document_perplexity_is_ccnets_formula(model: TrainedModel) -> None:
    lm = kenlm.Model(str(model.path))
    text = "The Council met on 12 May.\n\nIts members agreed to publish the report."
    lines = ["the council met on 00 may.", "its members agreed to publish the report."]
    log_prob, length = document_log10_prob(lm, text)
    assert log_prob == pytest.approx(sum(lm.score(line, bos=True, eos=True) for line in lines))
    assert length == 6 + 1 + 7 + 1  # words plus one </s> per line
    assert perplexity(log_prob, length) == pytest.approx(10 ** (-log_prob / length))
    empty_log_prob, empty_length = document_log10_prob(lm, " \n ")
    assert empty_length == 1 and math.isfinite(perplexity(empty_log_prob, empty_length))


def test_clean_prose_scores_lower_than_boilerplate_and_spam(
    model: TrainedModel, corpora: dict[str, list[str]]
) -> None:
    stage = make_stage(model)
    scores = {name: scores_of(stage, texts) for name, texts in corpora.items()}
    assert min(len(v) for v in scores.values()) >= 5, {k: len(v) for k, v in scores.items()}
    medians = {name: statistics.median(v) for name, v in scores.items()}
    assert medians["prose"] < medians["boilerplate"] < medians["spam"], medians

    def share_lower(low: list[float], high: list[float]) -> float:
        return sum(a < b for a in low for b in high) / (len(low) * len(high))

    # Link lists hold headlines that read like prose, so the two overlap; keyword lists do not.
    assert share_lower(scores["prose"], scores["boilerplate"]) > 0.6
    assert share_lower(scores["prose"], scores["spam"]) > 0.9


def test_score_only_by_default_keeps_every_document(
    model: TrainedModel, corpora: dict[str, list[str]]
) -> None:
    stage = make_stage(model)
    docs = make_docs(*corpora["spam"], *corpora["prose"][:3], "")
    outcome = stage.run(docs)
    assert outcome.kept == docs and outcome.dropped == []
    assert outcome.stats.kept == len(docs)
    assert all(d.scores["perplexity"] > 1 and "perplexity_bucket" not in d.metadata for d in docs)


def test_max_perplexity_drops_documents_above_it(model: TrainedModel, corpora: dict[str, list[str]]) -> None:
    texts = corpora["prose"][:5] + corpora["spam"][:5]
    scores = scores_of(make_stage(model), texts)
    limit = statistics.median(scores)
    stage = make_stage(model, max_perplexity=limit)
    outcome = stage.run(make_docs(*texts))
    assert {d.reason for d in outcome.dropped} == {"above_threshold"}
    assert len(outcome.dropped) == sum(s > limit for s in scores)
    assert all(d.scores["perplexity"] <= limit for d in outcome.kept)


def test_cutoffs_and_buckets_follow_ccnet() -> None:
    assert compute_cutoffs(range(1, 101)) == pytest.approx([33.67, 66.34])
    assert compute_cutoffs([5.0, float("nan"), 1.0, 3.0], percentiles=(50, 90)) == pytest.approx([3.0, 4.6])
    assert [bucket_of(v, [10.0, 20.0]) for v in (1, 10, 10.5, 20, 21)] == [
        "head",
        "head",
        "middle",
        "middle",
        "tail",
    ]
    with pytest.raises(ValueError, match="no finite"):
        compute_cutoffs([])


def test_bucketed_stage_writes_head_middle_tail(model: TrainedModel, corpora: dict[str, list[str]]) -> None:
    sample = corpora["prose"] + corpora["boilerplate"] + corpora["spam"]
    cutoffs = compute_cutoffs(scores_of(make_stage(model), sample))
    stage = make_stage(model, buckets=cutoffs)
    docs = make_docs(*sample)
    stage.run(docs)
    buckets = [d.metadata["perplexity_bucket"] for d in docs]
    assert all(b == bucket_of(d.scores["perplexity"], cutoffs) for b, d in zip(buckets, docs, strict=True))
    counts = {name: buckets.count(name) for name in ("head", "middle", "tail")}
    assert min(counts.values()) >= len(docs) // 3 - 1, counts  # the sample splits in thirds
    prose_buckets = buckets[: len(corpora["prose"])]
    spam_buckets = buckets[-len(corpora["spam"]) :]
    assert prose_buckets.count("head") > prose_buckets.count("tail")
    assert set(spam_buckets) == {"tail"}


def test_tampered_model_is_refused(model: TrainedModel, tmp_path: Path) -> None:
    tampered = tmp_path / "en.binary"
    shutil.copyfile(model.path, tampered)
    with open(tampered, "r+b") as fh:
        fh.seek(tampered.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    stage = PerplexityAnnotator(model_path=str(tampered), model_sha256=model.sha256)
    with pytest.raises(ModelFileError, match=rf"sha256 is [0-9a-f]{{64}}, the config expects {model.sha256}"):
        stage.run(make_docs("Some text."))
    missing = PerplexityAnnotator(model_path=str(tmp_path / "nope.binary"), model_sha256=model.sha256)
    with pytest.raises(ModelFileError, match="model file not found"):
        missing.run(make_docs("Some text."))


def test_config_requires_a_sha256_and_sane_buckets(model: TrainedModel) -> None:
    base = {"stage": "perplexity", "model_path": str(model.path)}
    with pytest.raises(ConfigError, match="model_sha256"):
        build_stage(base)
    with pytest.raises(ConfigError, match="64-hex-digit sha256"):
        build_stage({**base, "model_sha256": "abc123"})
    with pytest.raises(ConfigError, match="two increasing"):
        build_stage({**base, "model_sha256": model.sha256, "buckets": [500.0, 100.0]})


def test_built_from_config_with_a_label(model: TrainedModel) -> None:
    stage = build_stage(
        {
            "stage": "perplexity",
            "label": "pp_en",
            "model_path": str(model.path),
            "model_sha256": model.sha256.upper(),
            "buckets": [100, 1000],
        }
    )
    doc = make_doc("The committee published its annual report on the state of the regional economy.")
    stage.run([doc])
    assert set(doc.scores) == {"pp_en"} and doc.metadata["pp_en_bucket"] in ("head", "middle", "tail")


def test_stage_pickles_without_the_model(model: TrainedModel, corpora: dict[str, list[str]]) -> None:
    stage = make_stage(model)
    texts = corpora["prose"][:3]
    before = scores_of(stage, texts)
    assert stage._model is not None
    blob = pickle.dumps(stage)
    assert len(blob) < 2_000 < model.size_bytes
    clone = pickle.loads(blob)
    assert clone._model is None and clone._ready is False
    assert scores_of(clone, texts) == before  # setup() reloads the model in the new process
