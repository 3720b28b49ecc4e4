"""Perplexity-correlation selection end to end on real text, and the test of the method itself.

1. Pool: ccsieve (extract + English) over bench-warc: the candidate pages, grouped by domain.
2. Zoo: ``--zoo`` KenLM models of varied quality, orders 2-4, each trained on a random share (10-90 %)
   of 59 text sources: the 57 MMLU subjects, English sentences of langid-lingua-testdata, and the pool's
   text outside the BPB sample. Models that differ in their pretraining data, as the open LLMs of
   the paper do.
3. Benchmark: GSM8K test split in two halves by item. Each model's error is its BPB on half A.
4. BPB job, estimate (spearmanr), linear projection at ``--keep-ratio``, fastText student, token-budget
   selection; random selections of the same budget (seeds 0..R-1).
5. Test: fresh models trained on the selection and on each random selection at equal tokens, scored
   on GSM8K half B (never used to select): the transformer of ``ccsieve validate`` (seeds 0..S-1),
   and a KenLM 3-gram.

Usage (from the repository root; needs lmplz, built by ``make kenlm-tools``, and the train extra)::

    .venv/bin/python benchmarks/pplcorr_end_to_end.py --work /tmp/pplcorr
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from filters.classifiers import PerplexityCorrelationStudent  # noqa: E402
from filters.kenlm_train import train_kenlm  # noqa: E402 -- after sys.path
from filters.perplexity_correlations.bpb import benchmark_bpb, read_bpb, read_error_csv  # noqa: E402
from filters.perplexity_correlations.bpb_job import BPBOptions, benchmark_texts, run_bpb  # noqa: E402
from filters.perplexity_correlations.domains import (  # noqa: E402
    chunk_text,
    domain_token_counts,
    read_pool,
    sample_chunks,
)
from filters.perplexity_correlations.fit import estimate_weights, train_student, write_weights  # noqa: E402
from filters.perplexity_correlations.kenlm_family import KenLMScorer  # noqa: E402
from filters.perplexity_correlations.scoring import ModelSpec, score_cached  # noqa: E402
from filters.perplexity_correlations.select import SelectOptions, select_by_budget  # noqa: E402

CHUNK_WORDS, CHUNKS_PER_DOMAIN = 256, 16


def _pool(work: Path) -> Path:
    pool = work / "pool"
    if not (pool / "stats.json").is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "run",
                "--config",
                str(REPO_ROOT / "benchmarks/pplcorr/pool.yaml"),
                "--input",
                str(TESTDATA / "bench-warc/bench.warc.gz"),
                "--output",
                str(pool),
                "--no-progress",
                "--overwrite",
            ],
            check=True,
            cwd=REPO_ROOT,
        )
    return pool


def _benchmark_halves(work: Path) -> tuple[Path, Path]:
    items = benchmark_texts([str(TESTDATA / "benchmarks-gsm8k/test.jsonl:question,answer")])
    halves = []
    for name, part in (("gsm8k-a.jsonl", items[::2]), ("gsm8k-b.jsonl", items[1::2])):
        path = work / name
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in part), encoding="utf-8")
        halves.append(path)
    return halves[0], halves[1]


def _zoo_sources(pool: Path) -> dict[str, list[str]]:
    """Text the zoo trains on, by source: each MMLU subject (dev and test items), English sentences,
    and the pool's chunks outside the BPB sample. Never GSM8K."""
    import gzip

    sources: dict[str, list[str]] = {}
    for path in sorted((TESTDATA / "benchmarks-mmlu").glob("*/*.csv.gz")):
        subject = path.name.rsplit("_", 1)[0]
        sources.setdefault(f"mmlu:{subject}", []).extend(benchmark_texts([f"{path}:0,1,2,3,4"]))
    with gzip.open(TESTDATA / "langid-lingua-testdata/sentences/en.txt.gz", "rt", encoding="utf-8") as fh:
        sources["sentences:en"] = [line.strip() for line in fh if line.strip()]
    docs = list(read_pool([pool]))
    sample = sample_chunks(docs, chunk_words=CHUNK_WORDS, chunks_per_domain=CHUNKS_PER_DOMAIN)
    sampled = {(c.doc_id, c.index) for c in sample}
    sources["pool:rest"] = [
        piece
        for doc in docs
        for i, piece in enumerate(chunk_text(doc.text, CHUNK_WORDS))
        if (doc.id, i) not in sampled
    ]
    return sources


def _zoo(work: Path, pool: Path, size: int) -> list[ModelSpec]:
    """Models that differ in their pretraining data, as the open LLMs of the paper do: model m trains
    on each source with probability s_m ~ U(0.1, 0.9), n-gram order 2-4."""
    sources = _zoo_sources(pool)
    names = sorted(sources)
    specs = []
    for m in range(size):
        path = work / "zoo" / f"m{m:02d}.binary"
        if not path.is_file():
            rng = random.Random(m)
            share = rng.uniform(0.1, 0.9)
            chosen = [n for n in names if rng.random() < share] or [rng.choice(names)]
            train_kenlm([t for n in chosen for t in sources[n]], path, order=2 + m % 3, memory="200M")
        specs.append(ModelSpec(f"m{m:02d}", "kenlm", str(path)))
    return specs


def _kenlm_fresh(work: Path, name: str, selection: Path, bench_b: list[str]) -> float:
    from filters.kenlm_train import iter_texts

    path = work / "fresh" / f"{name}.binary"
    train_kenlm(iter_texts([selection / "data"]), path, order=3, memory="200M")
    scorer = KenLMScorer(name, path)
    return benchmark_bpb(score_cached(scorer, bench_b, None), bench_b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, help="scratch folder (reused: finished steps are kept)")
    parser.add_argument("--zoo", type=int, default=24, help="models in the zoo (default 24)")
    parser.add_argument("--keep-ratio", type=float, default=0.5)
    parser.add_argument("--randoms", type=int, default=3, help="random selections (default 3)")
    parser.add_argument("--seeds", type=int, default=3, help="transformer seeds per dataset (default 3)")
    parser.add_argument("--estimator", default="spearmanr")
    parser.add_argument("--no-transformer", action="store_true", help="only the KenLM fresh models")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pool = _pool(work)
    bench_a, bench_b = _benchmark_halves(work)
    zoo = _zoo(work, pool, args.zoo)
    print(f"pool and zoo of {len(zoo)} KenLM models ready ({time.perf_counter() - t0:.0f} s)")

    run_bpb(
        BPBOptions(
            pool=[str(pool)],
            models=zoo,
            output=str(work / "bpb"),
            benchmark=[str(bench_a)],
            chunk_words=CHUNK_WORDS,
            chunks_per_domain=CHUNKS_PER_DOMAIN,
            progress=False,
        )
    )
    matrix = read_bpb(work / "bpb" / "bpb.parquet")
    errors = read_error_csv(work / "bpb" / "error.csv")
    print(f"zoo GSM8K-A BPB: {min(errors.values()):.3f} .. {max(errors.values()):.3f}")
    docs = list(read_pool([pool]))
    weights = estimate_weights(
        matrix, errors, domain_token_counts(docs), keep_ratio=args.keep_ratio, estimator=args.estimator
    )
    write_weights(weights, work / "weights.csv")
    student, metrics = train_student(docs, weights.include, set(matrix.domains), work / "student.bin")
    print(
        f"{len(weights.include)} of {len(weights.domains)} domains include; student held-out: "
        f"{metrics.summary() if metrics else 'n/a'}"
    )
    scorer = PerplexityCorrelationStudent(model_path=str(student.path), model_sha256=student.sha256)
    selections = {"selected": work / "selected"}
    summary = select_by_budget(
        SelectOptions([str(pool)], str(selections["selected"]), keep_ratio=args.keep_ratio), scorer
    )
    for r in range(args.randoms):
        selections[f"random-{r}"] = work / f"random-{r}"
        select_by_budget(
            SelectOptions(
                [str(pool)],
                str(selections[f"random-{r}"]),
                budget_words=summary["budget_words"],
                random_seed=r,
            )
        )
    words = {
        n: json.loads((p / "selection.json").read_text())["selected_words"] for n, p in selections.items()
    }
    print(f"selected words: {words}")

    bench_b_texts = benchmark_texts([str(bench_b)])
    kenlm = {n: _kenlm_fresh(work, n, p, bench_b_texts) for n, p in selections.items()}
    results: dict[str, object] = {
        "kenlm_3gram_gsm8k_b_bpb": kenlm,
        "selected_words": words,
        "include_domains": len(weights.include),
        "domains": len(weights.domains),
        "student_heldout": metrics.summary() if metrics else None,
    }
    rand = [v for n, v in kenlm.items() if n != "selected"]
    print(
        f"KenLM 3-gram on GSM8K-B: selected {kenlm['selected']:.4f} bpb; random mean "
        f"{statistics.mean(rand):.4f} (min {min(rand):.4f}, max {max(rand):.4f})"
    )
    if not args.no_transformer:
        from pipeline.training.train import PRESETS, run_check

        metrics_tf = run_check(
            {n: [str(p)] for n, p in selections.items()},
            work / "validate",
            PRESETS["cpu-tiny"],
            seeds=range(args.seeds),
            reference=[str(bench_b)],
        )
        per = {n: d["heldout_bpb"] for n, d in metrics_tf["summary"].items()}
        results["transformer_gsm8k_b_bpb"] = per
        print(f"transformer (cpu-tiny) on GSM8K-B: {json.dumps(per, indent=1)}")
    results["seconds"] = round(time.perf_counter() - t0)
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {work / 'results.json'} ({results['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
