"""The stage protocol: counting, drops, quarantine and the per-document fallback live in Stage.run."""

from __future__ import annotations

import pickle
import time

from pipeline.document import Document
from pipeline.stage import Annotator, Drop, Filter, Mapper, Stage, StageStats, Verdict
from tests.conftest import make_doc, make_docs


class ShortText(Filter):
    """Drops texts under three characters; "boom" raises, "fail" raises a quarantining Drop."""

    name = "short_text"

    def check(self, doc: Document) -> Verdict:
        if doc.text == "boom":
            raise ValueError("bad record")
        if doc.text == "fail":
            raise Drop("unreadable", quarantine=True, detail="why")
        if doc.text == "judged":
            return Drop("judged_bad", detail="as a returned Drop")
        return "too_short" if len(doc.text) < 3 else None


class Length(Annotator):
    name = "length"

    def score(self, doc: Document) -> float:
        if doc.text == "boom":
            raise KeyError("no score")
        return float(len(doc.text))


class Upper(Mapper):
    name = "upper"

    def map(self, doc: Document) -> Document:
        if doc.text == "skip":
            raise Drop("skipped")
        return make_doc(doc.text.upper(), doc.id)


class BrokenBatch(ShortText):
    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        raise RuntimeError("the vectorised path failed")


class ShortBatch(ShortText):
    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        return [None]  # one result for the whole batch: wrong, so Stage.run must not trust it


class VectorisedBatch(ShortText):
    batches = 0

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        type(self).batches += 1
        return [self.check(doc) for doc in docs]


class Slow(Filter):
    name = "slow"

    def check(self, doc: Document) -> Verdict:
        time.sleep(0.02)
        return None


def test_filter_counts_seen_kept_and_dropped_by_reason() -> None:
    outcome = ShortText().run(make_docs("hello", "a", "bb", "world", "judged"))
    assert [d.text for d in outcome.kept] == ["hello", "world"]
    assert outcome.stats.seen == 5 and outcome.stats.kept == 2
    assert outcome.stats.dropped == {"too_short": 2, "judged_bad": 1}
    assert outcome.stats.dropped_total == 3
    assert outcome.stats.seen == outcome.stats.kept + outcome.stats.dropped_total
    assert {(d.id, d.stage, d.reason, d.quarantined, d.detail) for d in outcome.dropped} == {
        ("d1", "short_text", "too_short", False, None),
        ("d2", "short_text", "too_short", False, None),
        ("d4", "short_text", "judged_bad", False, "as a returned Drop"),
    }
    assert all(d.payload is None for d in outcome.dropped)  # decisions keep no payload


def test_seconds_measure_the_work() -> None:
    outcome = Slow().run(make_docs("a", "b", "c"))
    assert outcome.stats.seconds >= 0.06
    assert outcome.stats.seconds < 5


def test_empty_batch() -> None:
    outcome = ShortText().run([])
    assert (outcome.kept, outcome.dropped, outcome.stats.seen, outcome.stats.kept) == ([], [], 0, 0)


def test_drop_with_quarantine_keeps_detail_and_payload() -> None:
    outcome = ShortText().run(make_docs("fail", "hello"))
    (bad,) = outcome.dropped
    assert (bad.id, bad.reason, bad.quarantined, bad.detail) == ("d0", "unreadable", True, "why")
    assert bad.payload == "fail"
    assert [d.id for d in outcome.kept] == ["d1"]


def test_an_exception_quarantines_only_that_document() -> None:
    outcome = ShortText().run(make_docs("hello", "boom", "world", "a"))
    assert [d.id for d in outcome.kept] == ["d0", "d2"]
    assert outcome.stats.dropped == {"error:ValueError": 1, "too_short": 1}
    bad = next(d for d in outcome.dropped if d.id == "d1")
    assert (bad.reason, bad.quarantined, bad.stage) == ("error:ValueError", True, "short_text")
    assert "ValueError: bad record" in (bad.detail or "")
    assert bad.payload == "boom"


def test_failing_process_batch_falls_back_to_one_by_one() -> None:
    outcome = BrokenBatch().run(make_docs("hello", "a", "boom"))
    assert [d.id for d in outcome.kept] == ["d0"]
    assert outcome.stats.seen == 3
    assert outcome.stats.dropped == {"too_short": 1, "error:ValueError": 1}


def test_process_batch_with_the_wrong_number_of_results_falls_back() -> None:
    outcome = ShortBatch().run(make_docs("hello", "a", "world"))
    assert [d.id for d in outcome.kept] == ["d0", "d2"]
    assert outcome.stats.dropped == {"too_short": 1}


def test_a_working_process_batch_is_used() -> None:
    VectorisedBatch.batches = 0
    outcome = VectorisedBatch().run(make_docs("hello", "a", "fail"))
    assert VectorisedBatch.batches == 1
    assert outcome.stats.dropped == {"too_short": 1, "unreadable": 1}


def test_annotator_scores_only_without_threshold() -> None:
    outcome = Length().run(make_docs("abc", "a", ""))
    assert [d.scores["length"] for d in outcome.kept] == [3.0, 1.0, 0.0]
    assert outcome.stats.kept == 3 and outcome.stats.dropped_total == 0


def test_annotator_threshold_both_directions() -> None:
    above = Length(threshold=2).run(make_docs("abc", "a", "ab"))
    assert [d.id for d in above.kept] == ["d0", "d2"]  # equal to the threshold is kept
    assert above.stats.dropped == {"below_threshold": 1}
    assert above.dropped[0].id == "d1"
    below = Length(threshold=2, keep_above=False).run(make_docs("abc", "a", "ab"))
    assert [d.id for d in below.kept] == ["d1", "d2"]
    assert below.stats.dropped == {"above_threshold": 1}


def test_annotator_writes_under_its_label_and_scores_dropped_documents_too() -> None:
    stage = Length(threshold=2)
    stage.label = "length_v2"
    docs = make_docs("abc", "a")
    outcome = stage.run(docs)
    assert outcome.kept[0].scores == {"length_v2": 3.0}
    assert docs[1].scores == {"length_v2": 1.0}
    assert outcome.dropped[0].stage == "length_v2"


def test_annotator_error_is_quarantined() -> None:
    outcome = Length().run(make_docs("abc", "boom"))
    assert outcome.stats.dropped == {"error:KeyError": 1}
    assert outcome.stats.kept == 1


def test_mapper_result_replaces_the_document_in_place() -> None:
    docs = make_docs("abc", "skip")
    outcome = Upper().run(docs)
    assert outcome.kept[0] is docs[0]
    assert docs[0].text == "ABC"
    assert outcome.stats.dropped == {"skipped": 1}
    assert outcome.dropped[0].quarantined is False


def test_setup_runs_once_and_label_names_the_stats() -> None:
    class Counting(ShortText):
        setups = 0

        def setup(self) -> None:
            type(self).setups += 1

    stage = Counting()
    stage.label = "first_filter"
    stage.run(make_docs("hello"))
    outcome = stage.run(make_docs("a"))
    assert Counting.setups == 1
    assert outcome.dropped[0].stage == "first_filter"


def test_stats_add_and_serialise() -> None:
    a = ShortText().run(make_docs("hello", "a")).stats
    b = ShortText().run(make_docs("boom", "world", "b")).stats
    a.add(b)
    assert (a.seen, a.kept, a.dropped_total) == (5, 2, 3)
    assert a.dropped == {"too_short": 2, "error:ValueError": 1}
    data = a.to_dict()
    assert list(data["dropped"]) == ["error:ValueError", "too_short"]  # sorted, stable output
    back = StageStats.from_dict(data)
    assert (back.seen, back.kept, back.dropped) == (a.seen, a.kept, a.dropped)
    assert abs(back.seconds - a.seconds) < 1e-5


def test_parameters_come_from_init_and_stages_pickle() -> None:
    assert list(Length.parameters()) == ["threshold", "keep_above"]
    assert list(ShortText.parameters()) == []
    copy = pickle.loads(pickle.dumps(Length(threshold=1.0)))
    assert copy.threshold == 1.0
    assert copy.run(make_docs("", "ab")).stats.dropped == {"below_threshold": 1}
    assert repr(copy) == "Length(label='length')"
    assert issubclass(Length, Stage)
