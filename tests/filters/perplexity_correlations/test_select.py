"""Token-budget selection over written shards: ranking, budget, per-domain cap, random baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from filters.perplexity_correlations.select import SelectOptions, select_by_budget
from pipeline.document import ARROW_SCHEMA, Document, from_table, to_table


def _pool(folder: Path) -> Path:
    # 3 domains; doc i has i+1 hundred words and a stored score that rises with i.
    docs = []
    for i in range(12):
        domain = ("a", "b", "c")[i % 3]
        docs.append(
            Document(id=f"d{i:02d}", url=f"https://{domain}.com/{i}", source="s.warc.gz", offset=i,
                     text=" ".join(["w"] * 100 * (i + 1)), scores={"pplcorr": i / 12, "other": 1.0})
        )  # fmt: skip
    (folder / "data").mkdir(parents=True)
    pq.write_table(to_table(docs[:6]), folder / "data" / "p-00000.parquet")
    pq.write_table(to_table(docs[6:]), folder / "data" / "p-00001.parquet")
    return folder


def _selected(out: Path) -> list[Document]:
    docs = []
    for shard in sorted((out / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        assert table.schema.remove_metadata().equals(ARROW_SCHEMA.remove_metadata())
        docs += from_table(table)
    return docs


def test_keeps_the_best_until_the_budget(tmp_path: Path) -> None:
    pool = _pool(tmp_path / "pool")
    total = sum(100 * (i + 1) for i in range(12))  # 7,800 words
    summary = select_by_budget(SelectOptions([str(pool)], str(tmp_path / "out"), keep_ratio=0.3))
    kept = _selected(tmp_path / "out")
    # d11 (1,200) + d10 (1,100) = 2,300 < 2,340; d09 brings it to 3,300: the last one crosses the budget.
    assert [d.id for d in kept] == ["d09", "d10", "d11"]
    assert summary["budget_words"] == round(0.3 * total) and summary["selected_words"] == 3300
    assert all(d.scores["other"] == 1.0 for d in kept)  # the rows are copied whole
    assert json.loads((tmp_path / "out" / "selection.json").read_text())["selected_documents"] == 3


def test_domain_cap(tmp_path: Path) -> None:
    pool = _pool(tmp_path / "pool")
    summary = select_by_budget(
        SelectOptions([str(pool)], str(tmp_path / "out"), budget_words=3000, domain_cap=0.3)
    )
    # 900 words per domain at most: d11, d10, d09 are each too big alone; d08 (c), d07 (b), d06 (a)
    # fit, then only d00 (a, 100 words) still fits under its domain's cap. The cap binds before the
    # budget does, and says so in the summary.
    assert [d.id for d in _selected(tmp_path / "out")] == ["d00", "d06", "d07", "d08"]
    assert summary["selected_words"] == 2500 < summary["budget_words"]


def test_random_baseline_same_budget_differs_by_seed(tmp_path: Path) -> None:
    pool = _pool(tmp_path / "pool")
    a = select_by_budget(SelectOptions([str(pool)], str(tmp_path / "r0"), budget_words=3000, random_seed=0))
    b = select_by_budget(SelectOptions([str(pool)], str(tmp_path / "r0b"), budget_words=3000, random_seed=0))
    c = select_by_budget(SelectOptions([str(pool)], str(tmp_path / "r1"), budget_words=3000, random_seed=1))
    ids = lambda out: [d.id for d in _selected(tmp_path / out)]  # noqa: E731
    assert ids("r0") == ids("r0b") and ids("r0") != ids("r1")
    assert a["budget_words"] == b["budget_words"] == c["budget_words"] == 3000
    assert a["selected_words"] >= 3000 and c["selected_words"] >= 3000
    assert a["ranked_by"] == "random (seed 0)"
    assert all("random" in d.scores for d in _selected(tmp_path / "r1"))


def test_missing_score_is_an_error_naming_the_shard(tmp_path: Path) -> None:
    pool = _pool(tmp_path / "pool")
    with pytest.raises(ValueError, match=r"p-00000\.parquet: 6 documents have no score 'quality'"):
        select_by_budget(SelectOptions([str(pool)], str(tmp_path / "out"), score_key="quality"))
    with pytest.raises(ValueError, match="keep_ratio"):
        select_by_budget(SelectOptions([str(pool)], str(tmp_path / "out"), keep_ratio=0))
