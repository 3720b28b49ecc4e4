"""Estimate, project and train the student (``python -m jobs.pplcorr_fit``).

The second step of perplexity-correlation selection (docs/perplexity-correlations.md): reads the BPB
job's folder, estimates each domain's weight from the correlation of its BPB with the benchmark error
over the models, projects the estimate under per-domain caps (``tau_j = tokens_j / budget``, budget
= ``--keep-ratio`` of the pool's tokens), labels the domains with positive weight "include", and trains
a fastText student on the pool's pages labelled by their domain. Prints the config entry of the
``pplcorr`` stage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from filters.perplexity_correlations.bpb import read_bpb, read_error_csv
from filters.perplexity_correlations.domains import domain_token_counts, read_pool
from filters.perplexity_correlations.estimators import ESTIMATORS
from filters.perplexity_correlations.fit import estimate_weights, train_student, write_weights
from filters.perplexity_correlations.projection import PROJECTIONS
from pipeline.process_exit import exit_now


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobs.pplcorr_fit", description=__doc__.splitlines()[0])
    parser.add_argument("bpb", help="the output folder of jobs.bpb (bpb.parquet, error.csv)")
    parser.add_argument("pool", nargs="+", help="the pool's shards (as given to jobs.bpb)")
    parser.add_argument("--output", "-o", required=True, help="folder for weights.csv and student.bin")
    parser.add_argument("--estimator", choices=sorted(ESTIMATORS), default="spearmanr")
    parser.add_argument("--projection", choices=sorted(PROJECTIONS), default="linear")
    parser.add_argument("--keep-ratio", type=float, default=0.5, help="share of the pool's tokens to keep")
    parser.add_argument("--error-csv", help="errors to use instead of the BPB job's error.csv")
    parser.add_argument("--holdout", type=float, default=0.1, help="domains held out of the student")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    try:
        matrix = read_bpb(Path(args.bpb) / "bpb.parquet")
        errors = read_error_csv(args.error_csv or Path(args.bpb) / "error.csv")
        docs = list(read_pool(args.pool))
        weights = estimate_weights(
            matrix, errors, domain_token_counts(docs), keep_ratio=args.keep_ratio,
            estimator=args.estimator, projection=args.projection,
        )  # fmt: skip
        write_weights(weights, out / "weights.csv")
        include = weights.include
        trained, metrics = train_student(
            docs, include, set(matrix.domains), out / "student.bin", holdout=args.holdout, seed=args.seed
        )
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = {
        "estimator": args.estimator,
        "projection": args.projection,
        "keep_ratio": args.keep_ratio,
        "models": weights.models,
        "domains": len(weights.domains),
        "include_domains": len(include),
        "student": str(trained.path),
        "student_sha256": trained.sha256,
        "student_heldout": None if metrics is None else metrics.summary(),
    }
    (out / "fit.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{len(include)} of {len(weights.domains)} domains include ({args.estimator}, {args.projection})")
    if metrics is not None:
        print(f"student held-out (unseen domains): {metrics.summary()}")
    print("config entry (score only; select with jobs.pplcorr_select):")
    print(f"- stage: pplcorr\n  model_path: {trained.path}\n  model_sha256: {trained.sha256}")
    return 0


if __name__ == "__main__":
    exit_now(main())
