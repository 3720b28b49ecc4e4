"""The hashed n-gram counting of the Gopher repetition filter against datatrove's own functions."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from datatrove.data import Document as DatatroveDocument
from datatrove.pipeline.filters import GopherRepetitionFilter
from datatrove.pipeline.filters.gopher_repetition_filter import (
    find_all_duplicate,
    find_top_duplicate,
    get_n_grams,
)
from datatrove.utils.text import split_into_words

import filters.repetition as repetition
from filters.repetition import FastGopherRepetitionFilter, NGramCounts
from filters.word_tokenizer import FastWordTokenizer
from tests.conftest import TESTDATA

GOLD = sorted((TESTDATA / "extraction-cleaneval-dev" / "gold").glob("*.txt.gz"))
TOKENIZER = FastWordTokenizer("en")


def _datatrove_top(words: list[str], n: int) -> int:
    n_grams = get_n_grams(words, n)
    return find_top_duplicate(n_grams) if n_grams else 0


def _real_texts() -> list[str]:
    texts = [gzip.open(p, "rt", encoding="utf-8", errors="replace").read() for p in GOLD[:60]]
    # and pages that repeat: a page twice, a page with every third line doubled
    texts += [t + "\n\n" + t for t in texts[:5]]
    texts += ["\n".join(line + ("\n" + line if i % 3 == 0 else "") for i, line in enumerate(t.splitlines()))
              for t in texts[5:10]]  # fmt: skip
    return texts


@pytest.fixture(scope="module")
def real_words() -> list[list[str]]:
    return [split_into_words(t, TOKENIZER) for t in _real_texts()]


def test_counts_equal_datatrove_on_real_pages(real_words: list[list[str]]) -> None:
    repeats = 0
    for words in real_words:
        for n in (2, 3, 4):
            assert NGramCounts(words).top_chars(n) == _datatrove_top(words, n), n
        for n in range(5, 11):
            expected = find_all_duplicate(words, n)
            assert NGramCounts(words).repeated_chars(n) == expected, n
            repeats += expected > 0
    assert repeats > 50  # the pages do repeat n-grams: the scan was exercised, not skipped


@pytest.mark.parametrize(
    "words",
    [
        [],
        ["one"],
        ["a", "b", "a", "b", "a", "b"],
        ["ab", "c", "d", "e", "f", "a", "bc", "d", "e", "f"],  # equal when joined without spaces
        ["a b", "c", "x", "a", "b c", "x"],  # equal when joined with spaces
        ["", "", "", "", "", "", "", "", "", "", ""],
        ["x", "y"] * 40 + ["z"] * 30,  # ties and overlapping repeats
        ["naïve", "😀", "\ud800", "日本", "😀", "naïve", "\ud800", "日本", "😀", "naïve", "\ud800", "日本"],
    ],
)
def test_counts_equal_datatrove_on_the_corner_cases_of_its_joins(words: list[str]) -> None:
    for n in (2, 3, 4):
        assert NGramCounts(words).top_chars(n) == _datatrove_top(words, n), n
    for n in range(1, 11):
        assert NGramCounts(words).repeated_chars(n) == find_all_duplicate(words, n), n


def test_a_hash_collision_falls_back_to_datatrove(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every slice of the same length gets the same key: each match must be checked against the text.
    def colliding(self: object, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        return (ends - starts).astype(np.uint64)

    monkeypatch.setattr(repetition._Slices, "keys", colliding)
    words = "the cat sat on the mat and the dog sat on the mat too".split()
    for n in (2, 3, 4):
        assert NGramCounts(words).top_chars(n) == _datatrove_top(words, n)
    for n in range(5, 11):
        assert NGramCounts(words).repeated_chars(n) == find_all_duplicate(words, n)
    text = " ".join(words * 3)
    fast = FastGopherRepetitionFilter(language=TOKENIZER).filter(DatatroveDocument(text=text, id="c"))
    plain = GopherRepetitionFilter(language=TOKENIZER).filter(DatatroveDocument(text=text, id="c"))
    assert fast == plain


def test_filter_decisions_equal_datatrove_on_real_pages() -> None:
    fast = FastGopherRepetitionFilter(language=TOKENIZER)
    plain = GopherRepetitionFilter(language=TOKENIZER)
    decisions = []
    for i, text in enumerate(_real_texts()):
        doc = DatatroveDocument(text=text, id=str(i))
        decisions.append(plain.filter(doc))
        assert fast.filter(DatatroveDocument(text=text, id=str(i))) == decisions[-1], i
    assert any(d is True for d in decisions) and any(d is not True for d in decisions)
