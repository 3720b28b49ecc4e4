"""Score histograms: counted by the stage protocol, merged across workers, shown in stats and report."""

from __future__ import annotations

import gzip
import json
import math
import random

import pytest

from filters.language import LanguageFilter
from pipeline.document import Document
from pipeline.histogram import ScoreHistogram, bin_edges, bin_index
from pipeline.processing import StageChain
from pipeline.stage import Annotator, Filter, StageStats, Verdict
from pipeline.stats import RunStats, _report_markdown
from tests.conftest import TESTDATA, make_docs

SENTENCES = TESTDATA / "langid-lingua-testdata" / "sentences"


class Length(Annotator):
    """Scores the text's length in characters (a perplexity-like range: 0 to thousands)."""

    name = "length"

    def score(self, doc: Document) -> float:
        if doc.text == "boom":
            raise ValueError("no score")
        return float(len(doc.text))


class Ratio(Annotator):
    """A probability-like score: the share of vowels in the text."""

    name = "vowels"

    def score(self, doc: Document) -> float:
        return sum(c in "aeiou" for c in doc.text) / max(1, len(doc.text))


class Short(Filter):
    name = "short"

    def check(self, doc: Document) -> Verdict:
        return "too_short" if len(doc.text) < 3 else None


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(rng.randint(0, 3000)))
        for _ in range(n)
    ]


def _counts(stats: StageStats) -> dict:
    return {k: v for k, v in stats.to_dict().items() if k != "seconds"}


def test_annotator_in_score_only_mode_is_counted_by_the_protocol() -> None:
    texts = _texts(200)
    outcome = Length().run(make_docs(*texts))  # no threshold: every document is kept, and scored
    assert outcome.stats.kept == outcome.stats.seen == 200
    hist = outcome.stats.scores["length"]
    assert hist.count == 200 and hist.nonfinite == 0
    assert (hist.min, hist.max) == (min(map(len, texts)), max(map(len, texts)))
    # Percentiles are exact to one bin: 20 per decade above 1, i.e. within 12 %.
    lengths = sorted(map(len, texts))
    for q in (0.1, 0.5, 0.9):
        exact = lengths[int(q * len(lengths))]
        assert abs(hist.quantile(q) - exact) <= 0.13 * exact + 0.01, q


def test_dropped_documents_are_counted_and_failed_ones_are_not() -> None:
    outcome = Length(threshold=10).run(make_docs("a" * 5, "a" * 50, "boom", "a" * 500))
    assert outcome.stats.dropped == {"below_threshold": 1, "error:ValueError": 1}
    hist = outcome.stats.scores["length"]
    assert hist.count == 3  # the dropped one too; the one that raised has no score
    assert sorted(bin_index(v) for v in (5.0, 50.0, 500.0)) == sorted(hist.bins.elements())


def test_scores_carried_along_are_not_counted_again_but_a_rescoring_is() -> None:
    docs = make_docs(*_texts(20))
    Length().run(docs)
    assert Short().run(docs).stats.scores == {}  # carries doc.scores["length"], wrote nothing
    # Documents read back from shards carry their scores; scoring them again counts, equal values or not.
    again = Length().run(docs)
    assert again.stats.scores["length"].count == 20


def test_language_score_histogram_after_the_language_stage() -> None:
    with gzip.open(SENTENCES / "en.txt.gz", "rt", encoding="utf-8") as fh:
        english = [line.strip() for line, _ in zip(fh, range(60), strict=False)]
    with gzip.open(SENTENCES / "de.txt.gz", "rt", encoding="utf-8") as fh:
        german = [line.strip() for line, _ in zip(fh, range(40), strict=False)]
    outcome = LanguageFilter(languages=["en"]).run(make_docs(*english, *german))
    stats = outcome.stats
    assert stats.dropped_total >= 35  # the German ones
    hist = stats.scores["language_score"]
    assert hist.count == stats.seen == 100  # the dropped ones are in the histogram
    assert hist.is_probability and 0 < hist.min <= hist.quantile(0.5) <= hist.max <= 1
    assert set(stats.to_dict()["scores"]) == {"language_score"}


def test_two_workers_add_up_to_one_pass() -> None:
    texts = _texts(300, seed=1)
    one = StageChain([Length(), Ratio(), Short()]).run(make_docs(*texts)).stats
    # Two workers see the halves, in another order; their stats travel as JSON (markers, Ray rows).
    first = StageChain([Length(), Ratio(), Short()]).run(make_docs(*texts[150:])).stats
    second = StageChain([Length(), Ratio(), Short()]).run(make_docs(*texts[:150])).stats
    for label in one:
        merged = StageStats.from_dict(json.loads(json.dumps(first[label].to_dict(), allow_nan=False)))
        merged.add(StageStats.from_dict(json.loads(json.dumps(second[label].to_dict(), allow_nan=False))))
        assert _counts(merged) == _counts(one[label]), label
    assert one["length"].scores["length"].count == 300
    assert one["vowels"].scores["vowels"].is_probability
    assert "scores" not in one["short"].to_dict()  # stages that score nothing serialise as before


def test_stats_without_scores_read_as_before() -> None:
    old = {"seen": 3, "kept": 2, "dropped": {"too_short": 1}, "seconds": 0.5}  # a marker from before
    stats = StageStats.from_dict(old)
    assert stats.scores == {} and stats.to_dict() == old


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 0.009, 0.01, 0.5, 0.65, 0.999, 1.0],  # probabilities, 1.0 included
        [1.0, 1.5, 37.0, 999.0, 1e5, 3e7],  # perplexities
        [-120.5, -3.0, -0.25, 0.0, 2.0],  # log-probabilities and mixed signs
        [1e30, -1e30],  # beyond the last bins
    ],
)
def test_histogram_bins_round_trip_and_contain_their_values(values: list[float]) -> None:
    hist = ScoreHistogram()
    for v in [*values, math.nan, math.inf]:
        hist.record(v)
    assert hist.count == len(values) and hist.nonfinite == 2
    for v in values:
        low, high = bin_edges(bin_index(v))
        assert (low <= v < high) if v >= 0 else (low < v <= high), v
    data = json.loads(json.dumps(hist.to_dict(), allow_nan=False))  # strict JSON: no Infinity or NaN
    assert ScoreHistogram.from_dict(data) == hist
    assert hist.min <= hist.quantile(0.1) <= hist.quantile(0.5) <= hist.quantile(0.9) <= hist.max


def test_report_renders_a_text_histogram_per_score() -> None:
    chain = StageChain([Length(), Ratio()])
    stats = chain.run(make_docs(*_texts(100, seed=2))).stats
    markers = [
        {
            "source": "a.warc.gz",
            "status": "ok",
            "error": None,
            "responses_read": 100,
            "rows": 100,
            "shards": [],
            "stages": {label: s.to_dict() for label, s in stats.items()},
        }
    ]
    run = RunStats.from_markers(markers, ["length", "vowels"])
    report = _report_markdown(run, "out")
    assert "## Scores" in report and "### length: `length`" in report and "### vowels: `vowels`" in report
    vowels = report.split("### vowels: `vowels`")[1]
    assert "[0.95, 1]" in vowels and "█" in vowels  # a probability: the fixed [0, 1] axis in 0.05 bars
    for key in ("p10", "p50", "p90"):
        assert key in vowels.splitlines()[3]
    assert run.to_dict()["stages"]["length"]["scores"]["length"]["count"] == 100
