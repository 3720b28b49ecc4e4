"""The dedup job end to end on one machine: outputs, reasons, determinism, the index, the CLI."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dedup.job import DedupOptions, run_dedup
from jobs.dedup import main
from pipeline.document import ARROW_SCHEMA, from_table
from tests.dedup._corpus import corpus, write_run


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def run_a(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    tmp = tmp_path_factory.mktemp("a")
    source = write_run(tmp / "run", corpus())
    out = tmp / "out"
    opts = DedupOptions(
        inputs=[str(source)],
        output=str(out),
        exact=True,
        url=True,
        verify=0.6,
        write_index=str(out / "index"),
        progress=False,
    )
    return source, out, run_dedup(opts)


def test_outputs_and_reasons(run_a: tuple[Path, Path, dict]) -> None:
    source, out, stats = run_a
    kept = pq.read_table(out / "data")
    for shard in (out / "data").glob("*.parquet"):
        assert pq.read_schema(shard).remove_metadata() == ARROW_SCHEMA.remove_metadata()
    docs_in = pq.read_table(source / "data").num_rows
    assert stats["docs_in"] == docs_in
    assert stats["docs_out"] == kept.num_rows == docs_in - stats["removed"]
    clusters = pq.read_table(out / "clusters.parquet")
    removed = clusters.filter(pc.invert(clusters.column("is_keeper")))
    assert set(removed.column("id").to_pylist()).isdisjoint(kept.column("id").to_pylist())
    reasons = dict(zip(removed.column("id").to_pylist(), removed.column("reason").to_pylist(), strict=True))
    # The upper-cased copy scores higher than the original: the copy is kept, the original removed as exact.
    assert reasons["<urn:portal:bbc.co.uk_news_01>"] == "exact"
    # The later fetch of a URL is kept.
    assert reasons["<urn:portal:bbc.co.uk_news_02>"] == "url"
    assert stats["removed_by_reason"]["minhash"] > 50
    # The edit chain is one cluster, kept by its best-scored version.
    chain = clusters.filter(pc.starts_with(clusters.column("id"), "<urn:portal:bbc.co.uk_news_03"))
    assert chain.num_rows == 6 and len(set(chain.column("cluster_id").to_pylist())) == 1
    assert chain.filter(chain.column("is_keeper")).column("id").to_pylist() == [
        "<urn:portal:bbc.co.uk_news_03:v5>"
    ]
    assert all(0.6 <= s <= 1 for s in chain.column("similarity").to_pylist())
    report = (out / "dedup_report.md").read_text()
    assert "## Example clusters" in report and "https://gsm.example/" in report
    assert json.loads((out / "dedup_stats.json").read_text()) == stats
    # Kept documents come back through the record type unchanged.
    original = {d.id: d for d in from_table(pq.read_table(source / "data"))}
    assert all(original[d.id] == d for d in from_table(kept))


def test_deterministic_whatever_the_batch_size(run_a: tuple[Path, Path, dict], tmp_path: Path) -> None:
    source, out, _ = run_a
    again = tmp_path / "again"
    opts = DedupOptions(
        inputs=[str(source)],
        output=str(again),
        exact=True,
        url=True,
        verify=0.6,
        write_index=str(again / "index"),
        batch_rows=7,
        progress=False,
    )
    run_dedup(opts)
    assert _files(again) == _files(out)
    for name in _files(out):
        assert filecmp.cmp(out / name, again / name, shallow=False), name


def test_index_round_trip(run_a: tuple[Path, Path, dict], tmp_path: Path) -> None:
    _, out_a, _ = run_a
    # Dump B: the same GSM8K problems 60-179 (half already in A) and pages, under new ids and URLs.
    docs_b = corpus(n_gsm=120, gsm_start=60, tag="-b")
    source_b = write_run(tmp_path / "b", docs_b, shards=2)
    out_b = tmp_path / "out-b"
    stats = run_dedup(
        DedupOptions(
            inputs=[str(source_b / "data" / "*.parquet")],
            output=str(out_b),
            index=str(out_a / "index"),
            write_index=str(out_b / "index"),
            progress=False,
        )
    )
    clusters = pq.read_table(out_b / "clusters.parquet")
    index = clusters.filter(pc.equal(clusters.column("reason"), "index"))
    assert index.num_rows > 60
    assert not any(index.column("is_keeper").to_pylist())
    kept_a = set(pq.read_table(out_a / "data").column("id").to_pylist())
    old_clusters = set(pq.read_table(out_a / "index").column("cluster_id").to_pylist())
    assert set(index.column("cluster_id").to_pylist()) <= old_clusters
    # Problems 120-179 are new in B: their pairs are deduplicated within B, not against A.
    new = clusters.filter(pc.equal(clusters.column("reason"), "minhash")).column("id").to_pylist()
    assert new and all(int(i.split(":")[2]) >= 120 for i in new)
    assert stats["docs_out"] == len(docs_b) - stats["removed"]
    # The index is cumulative: A's rows, then B's kept documents.
    assert (
        pq.read_metadata(out_b / "index" / "part-00000.parquet").num_rows == len(kept_a) + stats["docs_out"]
    )


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--input", str(tmp_path / "missing"), "--output", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "no Parquet shards found" in capsys.readouterr().err
    (tmp_path / "bad.parquet").write_text("not parquet")
    assert main(["--input", str(tmp_path / "bad.parquet"), "--output", str(tmp_path / "o")]) == 2
    assert "not a readable Parquet file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--input", "x", "--output", "y", "--threshold", "0.7", "--bands", "14"])


def test_cli_runs(run_a: tuple[Path, Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, _, _ = run_a
    assert (
        main(["--input", str(source), "--output", str(tmp_path / "o"), "--threshold", "0.8", "--no-progress"])
        == 0
    )
    stats = json.loads((tmp_path / "o" / "dedup_stats.json").read_text())
    assert (stats["params"]["bands"], stats["params"]["rows"]) != (14, 8)
    assert "documents:" in capsys.readouterr().out
