"""Language identification with the real lid.176 model on lingua's labelled sentences."""

from __future__ import annotations

import gzip
import pickle
import shutil
from pathlib import Path

import pytest

from filters.language import LanguageFilter
from filters.models import LID176_SHA256, ModelFileError, file_sha256, lid176_path
from tests.conftest import TESTDATA, make_doc, make_docs

SENTENCES = TESTDATA / "langid-lingua-testdata" / "sentences"  # <iso639-1>.txt.gz, the name is the label


def _sentences(lang: str, n: int = 50) -> list[str]:
    with gzip.open(SENTENCES / f"{lang}.txt.gz", "rt", encoding="utf-8") as fh:
        lines = [line.strip() for line in fh]
    sentences = [line for line in lines if line][:n]
    assert len(sentences) == n
    return sentences


@pytest.fixture(scope="module")
def english_only() -> LanguageFilter:
    stage = LanguageFilter(languages=["en"], min_score=0.65)
    stage.run([])  # loads the model once for the module
    return stage


def test_the_shipped_model_is_the_one_we_pinned() -> None:
    assert lid176_path().name == "lid.176.ftz"
    assert file_sha256(lid176_path()) == LID176_SHA256


@pytest.mark.parametrize("lang", ["en", "de", "fr", "ru", "ja"])
def test_lid176_identifies_real_sentences(lang: str) -> None:
    sentences = _sentences(lang)
    outcome = LanguageFilter(languages=[]).run(make_docs(*sentences))  # score-only: every one comes back
    assert outcome.stats.kept == len(sentences)
    correct = sum(doc.language == lang for doc in outcome.kept)
    assert correct / len(sentences) >= 0.9, (lang, correct)
    assert all(0 < doc.language_score <= 1 for doc in outcome.kept)


def test_keeps_english_and_drops_german_with_the_language_in_detail(english_only) -> None:
    english, german = _sentences("en"), _sentences("de")
    outcome = english_only.run(make_docs(*english, *german))
    kept_ids = {doc.id for doc in outcome.kept}
    english_kept = sum(f"d{i}" in kept_ids for i in range(len(english)))
    assert english_kept / len(english) >= 0.9
    assert len(kept_ids) == english_kept  # no German sentence is kept
    german_drops = [d for d in outcome.dropped if int(d.id[1:]) >= len(english)]
    assert len(german_drops) == len(german)
    assert {d.reason for d in german_drops} == {"other_language"}
    assert sum(d.detail.startswith("de ") for d in german_drops) / len(german) >= 0.9
    assert outcome.stats.seen == outcome.stats.kept + outcome.stats.dropped_total
    assert all(doc.language == "en" and doc.language_score >= 0.65 for doc in outcome.kept)


def test_min_score_drops_with_its_own_reason() -> None:
    stage = LanguageFilter(languages=["en"], min_score=1.01)  # no score reaches it
    outcome = stage.run([make_doc(" ".join(_sentences("en", 5)))])
    (drop,) = outcome.dropped
    assert drop.reason == "low_language_score" and drop.detail.startswith("en ")


def _said(verdict) -> tuple[str, str] | None:
    return None if verdict is None else (verdict.reason, verdict.detail)


def test_one_by_one_and_batched_predictions_agree(english_only) -> None:
    texts = _sentences("en", 5) + _sentences("de", 5) + ["line one\nline two\n\nline three"]
    batched, single = make_docs(*texts), make_docs(*texts)
    batch_verdicts = english_only.process_batch(batched)
    single_verdicts = [english_only.check(doc) for doc in single]  # what Stage.run falls back to
    assert [_said(v) for v in batch_verdicts] == [_said(v) for v in single_verdicts]
    assert [(d.language, d.language_score) for d in batched] == [
        (d.language, d.language_score) for d in single
    ]
    assert {d.language for d in batched} >= {"en", "de"}


def test_newlines_do_not_break_prediction(english_only) -> None:
    ((label, score),) = english_only.predict(["\n".join(_sentences("en", 8))])
    assert label == "en" and 0.65 < score <= 1


def test_score_only_mode_keeps_everything_but_annotates() -> None:
    texts = [" ".join(_sentences(lang, 3)) for lang in ("fr", "de", "en")]
    outcome = LanguageFilter(languages=[]).run(make_docs(*texts))
    assert outcome.stats.kept == 3 and outcome.stats.dropped_total == 0
    assert [doc.language for doc in outcome.kept] == ["fr", "de", "en"]
    assert LanguageFilter(languages=None).run(make_docs(texts[0])).stats.kept == 1


def test_the_stage_pickles_without_its_model(english_only) -> None:
    copy = pickle.loads(pickle.dumps(english_only))
    assert copy._model is None
    outcome = copy.run(make_docs(" ".join(_sentences("en", 3)), " ".join(_sentences("de", 3))))
    assert [d.id for d in outcome.kept] == ["d0"]


def test_wrong_sha256_and_missing_file_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "lid.ftz"
    shutil.copy(lid176_path(), copy)
    with pytest.raises(ModelFileError, match=r"lid\.ftz.*sha256"):
        LanguageFilter(model_path=str(copy), model_sha256="0" * 64).setup()
    # The right sha256 (uppercase too) loads it.
    LanguageFilter(model_path=str(copy), model_sha256=LID176_SHA256.upper()).setup()
    missing = tmp_path / "missing.ftz"
    with pytest.raises(ModelFileError, match=r"not found.*missing\.ftz"):
        LanguageFilter(model_path=str(missing), model_sha256=LID176_SHA256).setup()
    with pytest.raises(ModelFileError):  # setup errors are not swallowed
        LanguageFilter(model_path=str(missing), model_sha256=LID176_SHA256).run(make_docs("text"))
    with pytest.raises(ValueError, match="model_sha256 is required"):
        LanguageFilter(model_path=str(copy))


# --- language_prefilter ------------------------------------------------------------------------------

BENCH = TESTDATA / "bench-warc" / "bench.warc.gz"


@pytest.fixture(scope="module")
def bench_pages() -> list:
    from itertools import islice

    from extractors.warc import WarcReader
    from pipeline.document import Document

    return [d for d in islice(WarcReader().read(str(BENCH)), 120) if isinstance(d, Document)]


def test_prefilter_drops_only_pages_the_language_stage_drops(bench_pages, english_only) -> None:
    from filters.language import LanguagePrefilter
    from pipeline.registry import build_stage

    prefilter = LanguagePrefilter(languages=["en"])
    outcome = prefilter.run(list(bench_pages))
    assert outcome.stats.seen == len(bench_pages)
    assert outcome.stats.dropped_total >= len(bench_pages) // 4  # real work is spared
    assert {d.reason for d in outcome.dropped} == {"other_language"}
    dropped_ids = {d.id for d in outcome.dropped}
    extract = build_stage({"stage": "extract", "math": False, "code": False, "structure": False})
    extracted = extract.run([d for d in bench_pages if d.id in dropped_ids]).kept
    try:
        after = english_only.run(extracted)
    finally:
        extract.close()
    assert after.stats.kept == 0, [d.url for d in after.kept]  # none of them was English after all


def test_prefilter_passes_pages_without_html_or_text_and_needs_languages() -> None:
    from filters.language import LanguagePrefilter

    with pytest.raises(ValueError, match="languages"):
        LanguagePrefilter()
    stage = LanguagePrefilter(languages=["en"])
    docs = [make_doc("", "a"), make_doc("", "b")]
    docs[1].html = "<html><body><script>var x = 1;</script></body></html>"
    outcome = stage.run(docs)
    assert outcome.stats.kept == 2


def test_prefilter_passes_a_page_its_text_dump_cannot_finish_within_the_bound() -> None:
    import time

    from filters.language import LanguagePrefilter

    stage = LanguagePrefilter(languages=["en"], timeout_s=0.5)
    deep, german = make_doc("", "deep"), make_doc("", "de")
    # resiliparse's main-content pass is quadratic in depth: 30,000 levels take tens of seconds.
    deep.html = "<html><body>" + "<div>" * 30_000 + "Guten Tag" + "</div>" * 30_000 + "</body></html>"
    german.html = "<html><body><p>" + " ".join(_sentences("de", 20)) + "</p></body></html>"
    start = time.perf_counter()
    outcome = stage.run([deep, german])
    assert time.perf_counter() - start < 10
    assert [d.id for d in outcome.kept] == ["deep"]  # unjudged, passed on to the bounded extraction
    assert [d.id for d in outcome.dropped] == ["de"]  # the sandbox restarted and judged the next page
    stage.close()
