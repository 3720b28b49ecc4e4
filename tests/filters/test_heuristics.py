"""The wrapped datatrove filters decide exactly as datatrove's own classes do."""

from __future__ import annotations

import gzip

import pytest
from datatrove.data import Document as DatatroveDocument
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

from filters.heuristics import C4Quality, FineWebQuality, GopherQuality, GopherRepetition
from pipeline.registry import ConfigError, build_stage
from tests.conftest import TESTDATA, make_doc


def _english_paragraphs() -> list[str]:
    with gzip.open(TESTDATA / "langid-lingua-testdata" / "sentences" / "en.txt.gz", "rt") as fh:
        lines = [line.strip() for line, _ in zip(fh, range(400), strict=False)]
    return [" ".join(lines[i : i + 8]) for i in range(0, 400, 8)]


TEXTS = {
    "good": "\n\n".join(_english_paragraphs()[:12]),
    "repeated_lines": "\n".join(["Buy cheap watches online today."] * 40),
    "short": "Click here.",
    "no_punctuation": "\n".join(p.replace(".", "") for p in _english_paragraphs()[:12]),
    "javascript": "\n".join([*_english_paragraphs()[:6], "Please enable JavaScript to view this page."]),
}

PAIRS = [
    (GopherRepetition, GopherRepetitionFilter, {}),
    (GopherQuality, GopherQualityFilter, {}),
    (C4Quality, C4QualityFilter, {"filter_no_terminal_punct": False}),
    (FineWebQuality, FineWebQualityFilter, {}),
]


@pytest.mark.parametrize(("ours", "theirs", "params"), PAIRS)
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_same_decision_reason_and_text_as_datatrove(ours, theirs, params, name: str) -> None:
    text = TEXTS[name]
    reference = DatatroveDocument(text=text, id="x", metadata={})
    result = theirs(**params).filter(reference)
    keep, reason = (result, None) if isinstance(result, bool) else result
    outcome = ours(**params).run([make_doc(text)])
    if keep:
        assert outcome.stats.kept == 1
        assert outcome.kept[0].text == reference.text  # edits (C4 removes lines) are handed back
    else:
        assert outcome.stats.dropped == {reason or "filtered": 1}


def test_the_texts_exercise_both_outcomes() -> None:
    decisions = {
        (ours.name, name): ours().run([make_doc(text)]).stats.kept
        for ours, _, _ in PAIRS
        for name, text in TEXTS.items()
    }
    assert decisions[("gopher_repetition", "good")] == 1
    assert decisions[("gopher_repetition", "repeated_lines")] == 0
    assert decisions[("gopher_quality", "short")] == 0


def test_c4_removes_the_javascript_line() -> None:
    outcome = C4Quality().run([make_doc(TEXTS["javascript"])])
    assert outcome.stats.kept == 1
    assert "JavaScript" not in outcome.kept[0].text


def test_yaml_lists_become_tuples_and_bad_parameters_are_refused() -> None:
    stage = build_stage({"stage": "gopher_repetition", "top_n_grams": [[2, 0.2], [3, 0.18]]})
    assert stage.params["top_n_grams"] == ((2, 0.2), (3, 0.18))
    with pytest.raises(ConfigError, match="exclusion_writer"):
        build_stage({"stage": "c4_quality", "exclusion_writer": None})
