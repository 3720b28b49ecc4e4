from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from filters.language import LanguageFilter
from filters.models import LID176_SHA256, ModelFileError, file_sha256, lid176_path
from tests.conftest import TESTDATA, make_doc

SENTENCES = TESTDATA / "langid-lingua-testdata" / "sentences"


def _sentences(lang: str, n: int = 60) -> list[str]:
    with gzip.open(SENTENCES / f"{lang}.txt.gz", "rt", encoding="utf-8") as fh:
        return [line.strip() for line, _ in zip(fh, range(n), strict=False) if line.strip()]


@pytest.fixture(scope="module")
def english_only() -> LanguageFilter:
    stage = LanguageFilter(languages=["en"], min_score=0.65)
    stage.setup()
    stage._ready = True
    return stage


def test_the_shipped_model_is_the_one_we_pinned() -> None:
    assert file_sha256(lid176_path()) == LID176_SHA256


@pytest.mark.parametrize("lang", ["en", "de", "fr", "ru", "ja"])
def test_lid176_identifies_real_sentences(english_only: LanguageFilter, lang: str) -> None:
    sentences = _sentences(lang)
    predictions = english_only.predict(sentences)
    accuracy = sum(label == lang for label, _ in predictions) / len(sentences)
    assert accuracy >= 0.85, (lang, accuracy)


def test_keeps_english_and_drops_others_with_the_language_in_detail(english_only: LanguageFilter) -> None:
    texts = [" ".join(_sentences("en", 5)), " ".join(_sentences("de", 5))]
    outcome = english_only.run([make_doc(texts[0], "en"), make_doc(texts[1], "de")])
    assert [d.id for d in outcome.kept] == ["en"]
    assert outcome.kept[0].language == "en" and outcome.kept[0].language_score > 0.65
    (drop,) = outcome.dropped
    assert drop.reason == "other_language" and drop.detail.startswith("de ")


def test_newlines_do_not_break_prediction(english_only: LanguageFilter) -> None:
    ((label, score),) = english_only.predict(["\n".join(_sentences("en", 8))])
    assert label == "en" and 0 < score <= 1


def test_score_only_mode_keeps_everything_but_annotates() -> None:
    stage = LanguageFilter(languages=[])
    outcome = stage.run([make_doc(" ".join(_sentences("fr", 3)), "fr")])
    assert outcome.stats.kept == 1
    assert outcome.kept[0].language == "fr"


def test_wrong_sha256_and_missing_file_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "lid.ftz"
    shutil.copy(lid176_path(), copy)
    with pytest.raises(ModelFileError, match="sha256"):
        LanguageFilter(model_path=str(copy), model_sha256="0" * 64).setup()
    with pytest.raises(ModelFileError, match="not found"):
        LanguageFilter(model_path=str(tmp_path / "missing.ftz")).setup()
