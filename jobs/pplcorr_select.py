"""Keep the top-scoring documents up to a token budget (``python -m jobs.pplcorr_select``).

The last step of perplexity-correlation selection (docs/perplexity-correlations.md), a global pass
over written shards: scores every document with the student (or reads the ``pplcorr`` score the
pipeline wrote), ranks them and keeps them in order until their words reach the budget. With
``--random-seed`` it makes the random selection of the same budget instead, the baseline to beat.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from filters.classifiers import PerplexityCorrelationStudent
from filters.perplexity_correlations.select import SelectOptions, select_by_budget
from pipeline.process_exit import exit_now


def _parser() -> argparse.ArgumentParser:
    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m jobs.pplcorr_select", description=description)
    parser.add_argument("inputs", nargs="+", help="ccsieve shards or output folders")
    parser.add_argument("--output", "-o", required=True, help="folder for data/*.parquet and selection.json")
    parser.add_argument("--model", help="the student .bin (jobs.pplcorr_fit); without it, read the score")
    parser.add_argument("--sha256", help="the student's sha256 (default: its .sha256 file)")
    parser.add_argument("--score-key", default="pplcorr", help="the score to rank by (default pplcorr)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--keep-ratio", type=float, default=0.5, help="share of the words to keep")
    budget.add_argument("--budget-words", type=int, help="words to keep")
    parser.add_argument("--domain-cap", type=float, help="largest share of the budget one domain may take")
    parser.add_argument("--random-seed", type=int, help="random selection of the same budget (baseline)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        scorer = None
        if args.model and args.random_seed is None:
            sha = args.sha256
            if sha is None:
                with open(args.model + ".sha256", encoding="utf-8") as fh:
                    sha = fh.read().split()[0]
            scorer = PerplexityCorrelationStudent(model_path=args.model, model_sha256=sha)
        summary = select_by_budget(
            SelectOptions(
                inputs=args.inputs, output=args.output, score_key=args.score_key,
                keep_ratio=args.keep_ratio, budget_words=args.budget_words,
                domain_cap=args.domain_cap, random_seed=args.random_seed,
            ),
            scorer,
        )  # fmt: skip
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"kept {summary['selected_documents']:,} of {summary['documents']:,} documents, "
        f"{summary['selected_words']:,} of {summary['words']:,} words (budget {summary['budget_words']:,}), "
        f"{summary['selected_domains']:,} of {summary['domains']:,} domains: {args.output}"
    )
    return 0


if __name__ == "__main__":
    exit_now(main())
