"""The wrapped datatrove filters decide exactly as datatrove's own classes do, reason and edits included."""

from __future__ import annotations

import gzip
import pickle

import pytest
from datatrove.data import Document as DatatroveDocument
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

from filters.heuristics import C4Quality, FineWebQuality, GopherQuality, GopherRepetition
from pipeline.config import load_config
from pipeline.registry import ConfigError, build_stage
from tests.conftest import TESTDATA, make_doc


def _english_paragraphs() -> list[str]:
    """Paragraphs of eight real English sentences (lingua's test sentences, web text)."""
    with gzip.open(TESTDATA / "langid-lingua-testdata" / "sentences" / "en.txt.gz", "rt") as fh:
        lines = [line.strip() for line, _ in zip(fh, range(400), strict=False)]
    return [" ".join(lines[i : i + 8]) for i in range(0, 400, 8)]


PARAGRAPHS = _english_paragraphs()
TEXTS = {
    "good": "\n\n".join(PARAGRAPHS[:12]),
    "repeated_lines": "\n".join(["Buy cheap watches online today."] * 40),
    "short": "Click here.",
    "no_punctuation": "\n".join(p.replace(".", "") for p in PARAGRAPHS[:12]),
    "javascript": "\n".join([*PARAGRAPHS[:6], "Please enable JavaScript to view this page."]),
    "menu_line": "\n".join([*PARAGRAPHS[:6], "Home | About us | Contact"]),
    "lorem_ipsum": "\n".join([*PARAGRAPHS[:6], "Lorem ipsum dolor sit amet, consectetur adipiscing elit."]),
}

PAIRS = [
    (GopherRepetition, GopherRepetitionFilter, {}),
    (GopherQuality, GopherQualityFilter, {}),
    (C4Quality, C4QualityFilter, {}),
    (C4Quality, C4QualityFilter, {"filter_no_terminal_punct": False}),  # as the default config has it
    (FineWebQuality, FineWebQualityFilter, {}),
]

# Each stage and a text that it must drop.
DEGENERATE = {
    GopherRepetition: "repeated_lines",
    GopherQuality: "short",
    C4Quality: "lorem_ipsum",
    FineWebQuality: "no_punctuation",
}


def _datatrove(filter_class, params: dict, text: str) -> tuple[bool, str | None, str]:
    """What datatrove's own filter says: keep, reason, and the (possibly edited) text."""
    reference = DatatroveDocument(text=text, id="x", metadata={})
    result = filter_class(**params).filter(reference)
    keep, reason = (result, None) if isinstance(result, bool) else result
    return keep, reason, reference.text


@pytest.mark.parametrize(
    ("ours", "theirs", "params"),
    PAIRS,
    ids=[f"{ours.name}{'-' if p else ''}{'-'.join(p)}" for ours, _, p in PAIRS],
)
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_same_decision_reason_and_text_as_datatrove(ours, theirs, params, name: str) -> None:
    keep, reason, edited = _datatrove(theirs, params, TEXTS[name])
    outcome = ours(**params).run([make_doc(TEXTS[name])])
    if keep:
        assert outcome.stats.kept == 1
        assert outcome.kept[0].text == edited  # edits (C4 removes lines) are handed back
    else:
        assert outcome.stats.dropped == {reason or "filtered": 1}
        assert outcome.dropped[0].stage == ours.name and not outcome.dropped[0].quarantined


@pytest.mark.parametrize("ours", list(DEGENERATE), ids=lambda cls: cls.name)
def test_each_stage_keeps_good_text_and_drops_degenerate_text(ours) -> None:
    stage = ours()
    theirs = ours.filter_class
    assert _datatrove(theirs, {}, TEXTS["good"])[0] is True
    keep, reason, _ = _datatrove(theirs, {}, TEXTS[DEGENERATE[ours]])
    assert keep is False and reason
    outcome = stage.run([make_doc(TEXTS["good"], "good"), make_doc(TEXTS[DEGENERATE[ours]], "bad")])
    assert [d.id for d in outcome.kept] == ["good"]
    assert outcome.stats.dropped == {reason: 1}


def test_repeated_lines_are_dropped_for_their_duplicate_lines() -> None:
    (drop,) = GopherRepetition().run([make_doc(TEXTS["repeated_lines"])]).dropped
    assert drop.reason.startswith("dup_line")


def test_c4_edits_are_handed_back() -> None:
    for name, removed in (("javascript", "JavaScript"), ("menu_line", "Home | About us")):
        outcome = C4Quality().run([make_doc(TEXTS[name])])
        (doc,) = outcome.kept
        assert removed in TEXTS[name] and removed not in doc.text
        assert doc.text == _datatrove(C4QualityFilter, {}, TEXTS[name])[2]
        assert set(doc.text.splitlines()) < set(TEXTS[name].splitlines())  # lines removed, none changed
    # Without the punctuation rule the menu line stays; the javascript line still goes.
    relaxed = C4Quality(filter_no_terminal_punct=False)
    assert "Home | About us" in relaxed.run([make_doc(TEXTS["menu_line"])]).kept[0].text
    assert "JavaScript" not in relaxed.run([make_doc(TEXTS["javascript"])]).kept[0].text


def test_language_from_the_document_does_not_change_english_decisions() -> None:
    for ours in DEGENERATE:
        docs = [make_doc(TEXTS["good"], "good", language="en"), make_doc(TEXTS[DEGENERATE[ours]], "bad")]
        docs[1].language = "en"
        assert [d.id for d in ours().run(docs).kept] == ["good"]


def test_yaml_lists_become_tuples_and_work(tmp_path) -> None:
    config = tmp_path / "ngrams.yaml"
    config.write_text(
        "stages:\n"
        "  - stage: gopher_repetition\n"
        "    dup_n_grams: [[5, 0.15], [6, 0.14]]\n"
        "    top_n_grams: [[2, 0.2], [3, 0.18], [4, 0.16]]\n"
    )
    (stage,) = load_config(config).build_stages()
    assert stage.params["top_n_grams"] == ((2, 0.2), (3, 0.18), (4, 0.16))
    assert stage.params["dup_n_grams"] == ((5, 0.15), (6, 0.14))
    params = {"dup_n_grams": ((5, 0.15), (6, 0.14)), "top_n_grams": ((2, 0.2), (3, 0.18), (4, 0.16))}
    for name in ("good", "repeated_lines", "short"):
        keep, reason, _ = _datatrove(GopherRepetitionFilter, params, TEXTS[name])
        outcome = stage.run([make_doc(TEXTS[name])])
        assert outcome.stats.kept == int(keep)
        assert outcome.stats.dropped == ({} if keep else {reason: 1})


def test_parameters_are_datatroves_and_unknown_ones_are_refused() -> None:
    assert "min_doc_words" in GopherQuality.parameters()
    assert "exclusion_writer" not in GopherQuality.parameters()
    assert "filter_no_terminal_punct" in C4Quality.parameters()
    with pytest.raises(ValueError, match=r"min_doc_wrds.*min_doc_words"):
        GopherQuality(min_doc_wrds=10)
    with pytest.raises(ConfigError, match="exclusion_writer"):
        build_stage({"stage": "c4_quality", "exclusion_writer": None})
    # A known parameter changes the decision exactly as it does in datatrove.
    strict = GopherQuality(min_doc_words=10_000)
    keep, reason, _ = _datatrove(GopherQualityFilter, {"min_doc_words": 10_000}, TEXTS["good"])
    assert keep is False
    assert strict.run([make_doc(TEXTS["good"])]).stats.dropped == {reason: 1}


def test_stages_pickle_without_their_filter() -> None:
    stage = GopherRepetition(top_n_grams=[[2, 0.2]])
    stage.run([make_doc(TEXTS["good"])])
    copy = pickle.loads(pickle.dumps(stage))
    assert copy._filter is None and copy.params == {"top_n_grams": ((2, 0.2),)}
    assert copy.run([make_doc(TEXTS["repeated_lines"])]).stats.kept == 0
