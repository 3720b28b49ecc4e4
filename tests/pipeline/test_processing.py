"""StageChain: per-document stages run depth-first, vectorised ones see the batch; counts are the same."""

from __future__ import annotations

from pipeline.document import Document
from pipeline.processing import StageChain
from pipeline.stage import Filter, Verdict


class Recorder(Filter):
    name = "recorder"

    def __init__(
        self, label: str, log: list[tuple[str, str]], drop_ids: frozenset[str] = frozenset()
    ) -> None:
        super().__init__()
        self.label = label
        self.log = log
        self.drop_ids = drop_ids

    def check(self, doc: Document) -> Verdict:
        self.log.append((self.label, doc.id))
        return "unwanted" if doc.id in self.drop_ids else None


class BatchRecorder(Recorder):
    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        self.log.append((self.label, f"batch of {len(docs)}"))
        return [self.check(doc) for doc in docs]


def _docs(n: int) -> list[Document]:
    return [Document(id=f"d{i}", url=f"http://x/{i}", source="s", offset=i, text="t") for i in range(n)]


def test_per_document_stages_run_depth_first() -> None:
    log: list[tuple[str, str]] = []
    chain = StageChain([Recorder("a", log, frozenset({"d1"})), Recorder("b", log)])
    outcome = chain.run(_docs(3))
    # d1 is dropped by a, so b never sees it; each document goes through both before the next.
    assert log == [("a", "d0"), ("b", "d0"), ("a", "d1"), ("a", "d2"), ("b", "d2")]
    assert [d.id for d in outcome.kept] == ["d0", "d2"]
    assert outcome.stats["a"].seen == 3 and outcome.stats["a"].dropped == {"unwanted": 1}
    assert outcome.stats["b"].seen == 2 and outcome.stats["b"].kept == 2
    assert [(d.stage, d.reason) for d in outcome.dropped] == [("a", "unwanted")]


def test_vectorised_stage_sees_the_whole_batch_between_per_document_runs() -> None:
    log: list[tuple[str, str]] = []
    chain = StageChain([Recorder("a", log), BatchRecorder("v", log, frozenset({"d0"})), Recorder("b", log)])
    outcome = chain.run(_docs(3))
    assert ("v", "batch of 3") in log
    assert log.index(("v", "batch of 3")) == 3  # after a has seen all three documents
    assert [d.id for d in outcome.kept] == ["d1", "d2"]
    assert {label: s.seen for label, s in outcome.stats.items()} == {"a": 3, "v": 3, "b": 2}


def test_empty_batch_gives_zero_counts_for_every_stage() -> None:
    chain = StageChain([Recorder("a", []), Recorder("b", [])])
    outcome = chain.run([])
    assert outcome.kept == [] and outcome.dropped == []
    assert {label: s.seen for label, s in outcome.stats.items()} == {"a": 0, "b": 0}
