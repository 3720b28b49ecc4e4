"""Bits per byte of N language models on a per-domain sample of a pool (``python -m jobs.bpb``).

The first step of perplexity-correlation selection (docs/perplexity-correlations.md): chunks the
pool's documents, groups them by the registered domain of their URL, scores every chunk with every
model (KenLM files or local Hugging Face causal LMs; ``--ray`` puts each model on its own actor, on a
GPU when the cluster has them) and writes the BPB matrix and the benchmark error of each model.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from filters.perplexity_correlations.bpb_job import BPBOptions, run_bpb
from filters.perplexity_correlations.scoring import parse_model_spec
from pipeline.process_exit import exit_now


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobs.bpb", description=__doc__.splitlines()[0])
    parser.add_argument("pool", nargs="+", help="ccsieve shards or output folders: the candidate pages")
    parser.add_argument("--output", "-o", required=True, help="folder for bpb.parquet, error.csv, bpb.json")
    parser.add_argument(
        "--model", action="append", default=[], metavar="[NAME=]KIND:PATH",
        help="a model of the zoo, kenlm:FILE or hf:DIR (repeat); see also --models",
    )  # fmt: skip
    parser.add_argument("--models", help="a text file with one [NAME=]KIND:PATH per line")
    error = parser.add_mutually_exclusive_group(required=True)
    error.add_argument(
        "--benchmark", nargs="+", metavar="PATH[:FIELDS]",
        help="measure each model's error as its BPB on this text, e.g. gsm8k/test.jsonl:question,answer",
    )  # fmt: skip
    error.add_argument("--error-csv", help="the benchmark error per model: a CSV with columns model,error")
    parser.add_argument("--chunk-words", type=int, default=256, help="words per chunk (default 256)")
    parser.add_argument("--chunks-per-domain", type=int, default=16, help="chunks per domain (default 16)")
    parser.add_argument("--min-chunks", type=int, default=1, help="leave out domains with fewer chunks")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-domain sample")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per model call")
    parser.add_argument("--ray", action="store_true", help="one Ray actor per model (GPU for hf models)")
    parser.add_argument("--device", default="auto", help="hf models: auto, cpu, cuda (default auto)")
    parser.add_argument("--max-length", type=int, help="hf models: context to split chunks at")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    specs = list(args.model)
    if args.models:
        with open(args.models, encoding="utf-8") as fh:
            specs += [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
    try:
        models = [parse_model_spec(s) for s in specs]
        hf_options: dict[str, object] = {"device": args.device}
        if args.max_length:
            hf_options["max_length"] = args.max_length
        summary = run_bpb(
            BPBOptions(
                pool=args.pool, models=models, output=args.output, benchmark=args.benchmark or (),
                error_csv=args.error_csv, chunk_words=args.chunk_words,
                chunks_per_domain=args.chunks_per_domain, min_chunks=args.min_chunks, seed=args.seed,
                batch_size=args.batch_size, executor="ray" if args.ray else "local",
                hf_options=hf_options, progress=not args.quiet,
            )
        )  # fmt: skip
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{len(summary['models'])} models x {summary['domains']:,} domains "
        f"({summary['chunks']:,} chunks, {summary['dropped_chunks_nan']} dropped as NaN); "
        f"wrote {args.output}/bpb.parquet and error.csv"
    )
    return 2 if summary["failed_models"] else 0


if __name__ == "__main__":
    exit_now(main())
