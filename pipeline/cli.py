"""The ``ccsieve`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pipeline.config import DEFAULT_CONFIG, load_config
from pipeline.registry import ConfigError, registered_stages
from pipeline.sources import InputError

__all__ = ["main"]


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="pipeline YAML (default: %(default)s)")
    parser.add_argument("--input", nargs="+", required=True, help="WARC paths, globs, folders or fsspec URLs")
    parser.add_argument("--output", required=True, help="output folder (local path or fsspec URL)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local", help="default: %(default)s")
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes / Ray workers (default: cores)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="delete the output folder first and start over"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")


def run_command(args: argparse.Namespace) -> int:
    from pipeline.run import run_pipeline
    from pipeline.stats import summary_table

    try:
        config = load_config(args.config)
        stats = run_pipeline(
            args.input,
            args.output,
            config,
            executor=args.executor,
            workers=args.workers,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (ConfigError, InputError) as exc:
        print(f"ccsieve: error: {exc}", file=sys.stderr)
        return 2
    print()
    print(summary_table(stats))
    print()
    runner = stats.runner
    print(
        f"{len(stats.files)} input files ({runner['skipped_complete']} already complete, skipped); "
        f"{stats.responses_read:,} response records read; {stats.kept:,} documents kept"
    )
    print(f"shards:   {args.output.rstrip('/')}/data/")
    print(f"dropped:  {args.output.rstrip('/')}/dropped/  (quarantine/ for failed records)")
    print(f"stats:    {args.output.rstrip('/')}/stats.json")
    print(f"report:   {args.output.rstrip('/')}/report.md")
    failed = stats.failed_files
    for error in sorted(failed.values()):
        print(f"ccsieve: error: {error}", file=sys.stderr)
    if failed:
        print(
            f"ccsieve: {len(failed)} input file(s) could not be read to the end; see above", file=sys.stderr
        )
        return 1
    return 0


def stages_command(args: argparse.Namespace) -> int:
    for name, cls in registered_stages().items():
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{name:20s} {doc}")
        if args.verbose:
            for param, spec in cls.parameters().items():
                default = "" if spec.default is spec.empty else f" = {spec.default!r}"
                print(f"    {param}{default}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ccsieve", description="Common Crawl WARCs to curated Parquet.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a pipeline over WARC files")
    add_run_arguments(run)
    run.set_defaults(func=run_command)
    stages = sub.add_parser("stages", help="list the registered stages")
    stages.add_argument("-v", "--verbose", action="store_true", help="also list each stage's parameters")
    stages.set_defaults(func=stages_command)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
