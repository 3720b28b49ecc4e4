"""Entry point: exact, URL and MinHash-LSH deduplication of ccsieve shards (``python -m jobs.dedup``).

A barrier job over written Parquet, the same on one machine and as a Ray job::

    python -m jobs.dedup --input out/run1 --output out/run1-dedup --exact --url
    ray job submit --working-dir . -- python -m jobs.dedup --executor ray --input ... --output ...
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dedup.job import DedupOptions, run_dedup
from dedup.lsh import FINEWEB_PRESET, optimal_bands_rows
from dedup.signatures import SignatureParams
from pipeline.process_exit import exit_now


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m jobs.dedup", description=__doc__.splitlines()[0])
    p.add_argument(
        "--input",
        nargs="+",
        required=True,
        help="ccsieve output folder(s), folder(s) of Parquet shards, or globs",
    )
    p.add_argument(
        "--output", required=True, help="output folder: data/, clusters.parquet, dedup_stats.json, ..."
    )
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="Jaccard threshold: choose bands x rows for it (datasketch's optimiser)",
    )
    p.add_argument("--bands", type=int, default=None, help=f"LSH bands (default {FINEWEB_PRESET[0]})")
    p.add_argument("--rows", type=int, default=None, help=f"rows per band (default {FINEWEB_PRESET[1]})")
    p.add_argument("--num-perm", type=int, default=112)
    p.add_argument("--ngram", type=int, default=5, help="word n-gram size of the shingles")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--verify-jaccard",
        type=float,
        default=None,
        help="drop candidate pairs whose exact shingle Jaccard is below this (reads the texts)",
    )
    p.add_argument(
        "--keep-score",
        default="quality",
        help="scores[] entry ranking the documents of a cluster: highest kept, then lowest id",
    )
    p.add_argument("--index", default=None, help="an older run's index: remove documents it already holds")
    p.add_argument(
        "--write-index", default=None, help="write this run's index (cumulative with --index) here"
    )
    p.add_argument("--exact", action="store_true", help="exact-text dedup (normalised text) before MinHash")
    p.add_argument("--url", action="store_true", help="URL dedup (latest fetch per normalised URL) first")
    p.add_argument("--no-minhash", action="store_true", help="skip the MinHash stage")
    p.add_argument("--batch-rows", type=int, default=1024, help="documents per signature batch")
    p.add_argument("--partitions", type=int, default=None, help="Ray: hash partitions per shuffle")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.threshold is not None and (args.bands or args.rows):
        parser.error("give --threshold or --bands/--rows, not both")
    if args.threshold is not None:
        bands, rows = optimal_bands_rows(args.threshold, args.num_perm)
    else:
        bands, rows = args.bands or FINEWEB_PRESET[0], args.rows or FINEWEB_PRESET[1]
    try:
        params = SignatureParams(
            num_perm=args.num_perm,
            seed=args.seed,
            ngram=args.ngram,
            bands=bands,
            rows=rows,
            keep_score=args.keep_score,
        )
        opts = DedupOptions(
            inputs=args.input,
            output=args.output,
            params=params,
            executor=args.executor,
            minhash=not args.no_minhash,
            exact=args.exact,
            url=args.url,
            verify=args.verify_jaccard,
            index=args.index,
            write_index=args.write_index,
            batch_rows=args.batch_rows,
            partitions=args.partitions,
            progress=not args.no_progress,
        )
        stats = run_dedup(opts)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"documents: {stats['docs_in']} in, {stats['docs_out']} out; removed {stats['removed_by_reason']}")
    print(f"output: {args.output}/data/  clusters.parquet  dedup_stats.json  dedup_report.md")
    return 0


if __name__ == "__main__":
    exit_now(main())
