"""The fast word splitter against spaCy's English tokenizer, which datatrove's filters use otherwise."""

from __future__ import annotations

import gzip
import re

import pytest
from datatrove.data import Document as DatatroveDocument
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.utils.word_tokenizers import load_word_tokenizer

from filters.heuristics import GopherQuality
from filters.word_tokenizer import FastWordTokenizer
from tests.conftest import TESTDATA, make_doc

GOLD = sorted((TESTDATA / "extraction-cleaneval-dev" / "gold").glob("*.txt.gz"))
_MARK = re.compile(r"^\s*<[phl]>", re.MULTILINE)


def _gold_texts() -> list[str]:
    texts = []
    for path in GOLD:
        text = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
        texts.append(_MARK.sub("", text.split("\n", 1)[1] if text.startswith("URL:") else text).strip())
    return [t for t in texts if t]


@pytest.fixture(scope="module")
def spacy() -> object:
    return load_word_tokenizer("en")


@pytest.mark.parametrize(
    "text",
    [
        "Don't stop: it's 10:30 and we're late (again).",
        "U.S. officials said e.g. that Mr. Smith can't go.",
        "See http://example.com/a?b=1 or mail bob@example.org!",
        "well-known K-12 schools in the 1980s cost $5,000.",
        '┌──┐ © 2024 "Quoted," she said... and left—quickly.',
        "f(x)=y. Author(s): [edit] #tag a&b <b>bold</b>",
    ],
)
def test_cuts_like_spacy_on_common_shapes(spacy, text: str) -> None:
    assert FastWordTokenizer().word_tokenize(text) == spacy.word_tokenize(text)


def test_token_counts_on_real_pages_within_half_a_percent(spacy) -> None:
    texts = _gold_texts()
    assert len(texts) >= 50
    fast = sum(len(FastWordTokenizer().word_tokenize(t)) for t in texts)
    reference = sum(len(spacy.word_tokenize(t)) for t in texts)
    assert abs(fast - reference) / reference < 0.005, (fast, reference)


def _decisions(language: object, texts: list[str]) -> list[object]:
    chain = [
        GopherRepetitionFilter(language=language),
        GopherQualityFilter(language=language),
        C4QualityFilter(filter_no_terminal_punct=False, language=language),
        FineWebQualityFilter(language=language),
    ]
    out: list[object] = []
    for i, text in enumerate(texts):
        doc, verdict = DatatroveDocument(text=text, id=str(i)), None
        for f in chain:
            result = f.filter(doc)
            if result is not True:
                verdict = (type(f).__name__, result)
                break
        out.append((verdict, doc.text))
    return out


def test_filter_decisions_equal_spacys_on_real_pages() -> None:
    texts = _gold_texts()
    fast, reference = _decisions(FastWordTokenizer(), texts), _decisions("en", texts)
    differ = sum(a != b for a, b in zip(fast, reference, strict=True))
    assert sum(v is None for v, _ in reference) >= 10  # the set exercises keeps and drops
    assert differ <= 1, differ


def test_sentences_split_at_terminal_punctuation() -> None:
    text = "One sentence. Another one! A third? Yes"
    assert FastWordTokenizer().sent_tokenize(text) == ["One sentence.", "Another one!", "A third?", "Yes"]


def test_stage_uses_the_fast_splitter_by_default_and_spacy_on_request() -> None:
    fast, slow = GopherQuality(), GopherQuality(word_tokenizer="spacy")
    fast.setup()
    slow.setup()
    assert isinstance(fast._filter.language, FastWordTokenizer)
    assert not isinstance(slow._filter.language, FastWordTokenizer)
    doc = make_doc("too short to keep")
    assert fast.check(doc) == slow.check(make_doc("too short to keep")) == "gopher_short_doc"
    with pytest.raises(ValueError, match="word_tokenizer"):
        GopherQuality(word_tokenizer="nltk")


def test_a_second_split_of_the_same_text_is_equal_and_independent() -> None:
    tokenizer = FastWordTokenizer("en")
    text = "Hello, world. It's a test (of the cache): don't mutate it!"
    first = tokenizer.word_tokenize(text)
    first.append("mutated")
    assert tokenizer.word_tokenize(text) == first[:-1]


def test_recent_splits_stay_within_their_character_budget() -> None:
    from filters.word_tokenizer import _RecentSplits

    recent = _RecentSplits(budget_chars=800)
    texts = [f"text number {i} " * 5 for i in range(40)]  # about 75 characters each
    for text in texts:
        recent.add(text, tuple(text.split()))
    assert recent.chars <= 800 and recent.chars == sum(map(len, recent.words))
    assert texts[-1] in recent.words and texts[0] not in recent.words  # the oldest went first
    recent.add("x" * 101, ("x",))  # over an eighth of the budget: not kept
    assert "x" * 101 not in recent.words
