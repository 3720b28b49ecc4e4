from __future__ import annotations

import pickle

from pipeline.document import Document
from pipeline.stage import Annotator, Drop, Filter, Mapper, StageStats, Verdict
from tests.conftest import make_doc


class ShortText(Filter):
    name = "short_text"

    def check(self, doc: Document) -> Verdict:
        if doc.text == "boom":
            raise ValueError("bad record")
        if doc.text == "fail":
            raise Drop("unreadable", quarantine=True, detail="why")
        return "too_short" if len(doc.text) < 3 else None


class Length(Annotator):
    name = "length"

    def score(self, doc: Document) -> float:
        return float(len(doc.text))


class Upper(Mapper):
    name = "upper"

    def map(self, doc: Document) -> Document:
        return make_doc(doc.text.upper(), doc.id)


class BrokenBatch(ShortText):
    calls = 0

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        raise RuntimeError("the vectorised path failed")


def _batch(*texts: str) -> list[Document]:
    return [make_doc(t, f"d{i}") for i, t in enumerate(texts)]


def test_filter_counts_seen_kept_and_dropped_by_reason() -> None:
    outcome = ShortText().run(_batch("hello", "a", "bb", "world"))
    assert [d.text for d in outcome.kept] == ["hello", "world"]
    assert outcome.stats.seen == 4 and outcome.stats.kept == 2
    assert outcome.stats.dropped == {"too_short": 2}
    assert outcome.stats.seconds >= 0
    assert {(d.id, d.stage, d.reason, d.quarantined) for d in outcome.dropped} == {
        ("d1", "short_text", "too_short", False),
        ("d2", "short_text", "too_short", False),
    }


def test_an_exception_quarantines_only_that_document() -> None:
    outcome = ShortText().run(_batch("hello", "boom", "world"))
    assert [d.id for d in outcome.kept] == ["d0", "d2"]
    (bad,) = outcome.dropped
    assert (bad.id, bad.reason, bad.quarantined) == ("d1", "error:ValueError", True)
    assert "bad record" in (bad.detail or "")
    assert bad.payload == "boom"


def test_drop_with_quarantine_and_detail() -> None:
    outcome = ShortText().run(_batch("fail"))
    (bad,) = outcome.dropped
    assert (bad.reason, bad.quarantined, bad.detail) == ("unreadable", True, "why")


def test_failing_process_batch_falls_back_to_one_by_one() -> None:
    outcome = BrokenBatch().run(_batch("hello", "a", "boom"))
    assert [d.id for d in outcome.kept] == ["d0"]
    assert outcome.stats.dropped == {"too_short": 1, "error:ValueError": 1}


def test_annotator_scores_only_without_threshold() -> None:
    outcome = Length().run(_batch("abc", "a"))
    assert [d.scores["length"] for d in outcome.kept] == [3.0, 1.0]
    assert outcome.stats.dropped_total == 0


def test_annotator_threshold_both_directions() -> None:
    above = Length(threshold=2).run(_batch("abc", "a"))
    assert [d.id for d in above.kept] == ["d0"] and above.stats.dropped == {"below_threshold": 1}
    below = Length(threshold=2, keep_above=False).run(_batch("abc", "a"))
    assert [d.id for d in below.kept] == ["d1"] and below.stats.dropped == {"above_threshold": 1}


def test_mapper_result_replaces_the_document_in_place() -> None:
    docs = _batch("abc")
    outcome = Upper().run(docs)
    assert outcome.kept[0] is docs[0]
    assert docs[0].text == "ABC"


def test_setup_runs_once_and_label_names_the_stats() -> None:
    class Counting(ShortText):
        setups = 0

        def setup(self) -> None:
            type(self).setups += 1

    stage = Counting()
    stage.label = "first_filter"
    stage.run(_batch("hello"))
    outcome = stage.run(_batch("a"))
    assert Counting.setups == 1
    assert outcome.dropped[0].stage == "first_filter"


def test_stats_add_and_serialise() -> None:
    a = StageStats(2, 1)
    a.dropped["x"] = 1
    b = StageStats(3, 3, seconds=0.5)
    a.add(b)
    assert (a.seen, a.kept, a.dropped_total) == (5, 4, 1)
    assert StageStats.from_dict(a.to_dict()) == a


def test_parameters_come_from_init() -> None:
    assert list(Length.parameters()) == ["threshold", "keep_above"]
    assert pickle.loads(pickle.dumps(Length(threshold=1.0))).threshold == 1.0
