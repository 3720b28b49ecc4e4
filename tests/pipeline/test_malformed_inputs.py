"""Hostile inputs through the real job: the hand-made malformed WARCs and seeded mutations of real
ones (benchmarks/malformed_warcs.py, which runs a thousand). Nothing crashes, nothing is lost, every
failure has a reason, every quarantined record is in the quarantine table."""

from __future__ import annotations

from pathlib import Path

from benchmarks.malformed_warcs import REPO_ROOT, check_run, malformed_corpus, run_job, write_corpus


def test_malformed_corpus_and_mutations(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    count = write_corpus(corpus, mutations=24, seed=7)
    code, stderr, _ = run_job(corpus, tmp_path / "out", REPO_ROOT / "benchmarks/reliability/fast.yaml", 600)
    assert code in (0, 1) and "Traceback" not in stderr, stderr[-3000:]
    result = check_run(tmp_path / "out", sorted(corpus.iterdir()))
    assert result["inputs"] == count
    # The damaged files are reported, and the hand-made cases give the reasons they are about.
    assert result["failed_inputs"] >= 6
    assert {"truncated", "payload_too_large", "binary_payload", "bad_http_headers"} <= set(result["reasons"])
    assert len(malformed_corpus()) == 18
