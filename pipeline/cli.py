"""The ``ccsieve`` command line."""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pipeline.config import DEFAULT_CONFIG, load_config
from pipeline.process_exit import exit_now
from pipeline.registry import ConfigError, registered_stages
from pipeline.sources import InputError
from pipeline.training.command import add_validate_arguments, validate_command

if TYPE_CHECKING:
    from extractors.engines import Engine
    from extractors.html import HtmlExtractor

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
    print(f"report:   {args.output.rstrip('/')}/report.md (and report.html)")
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


# `ccsieve extract --engine` names: what a user picks, mapped to the stage's engine parameter.
EXTRACT_ENGINES: dict[str, Engine] = {"default": "trafilatura", "fast": "resiliparse", "combined": "combined"}


def read_page(path: Path) -> str:
    """A saved page as text: gunzipped when gzip-compressed, decoded as the WARC reader decodes pages."""
    from extractors.http import decode_html

    body = path.read_bytes()
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return decode_html(body, None)[0]


def _extract_one(extractor: HtmlExtractor, page: str, url: str | None) -> tuple[str | None, str | None]:
    """(text, None) for a page with text, else (None, the reason)."""
    from pipeline.stage import Drop

    try:
        result = extractor.extract(read_page(Path(page)), url)
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    except Drop as drop:  # too large, timed out, crashed
        return None, drop.reason
    except RuntimeError as exc:  # the engine raised inside the child
        return None, f"error: {exc}"
    if result.reason is not None:
        return None, result.reason
    if not result.text or not result.text.strip():
        return None, "no_text"
    return result.text, None


def extract_command(args: argparse.Namespace) -> int:
    from extractors.html import HtmlExtractor

    extractor = HtmlExtractor(engine=EXTRACT_ENGINES[args.engine], timeout_s=args.timeout)
    extractor.setup()
    failures = 0
    try:
        for page in args.pages:
            text, reason = _extract_one(extractor, page, args.url)
            if reason is not None:
                failures += 1
                print(f"ccsieve: {page}: {reason}", file=sys.stderr)
            if len(args.pages) > 1:
                line = {"path": page, "text": text} | ({"reason": reason} if reason else {})
                print(json.dumps(line, ensure_ascii=False))
            elif text is not None:
                print(text)
    finally:
        extractor.close()
    return 1 if failures else 0


def report_command(args: argparse.Namespace) -> int:
    """Rebuild ``report.html`` of a finished run from its ``stats.json`` and shards."""
    from pipeline.report_html import write_report_html

    try:
        print(write_report_html(args.run, args.output, args.dedup))
    except FileNotFoundError as exc:
        print(f"ccsieve: error: {exc}", file=sys.stderr)
        return 2
    return 0


def release_command(args: argparse.Namespace) -> int:
    """Stage a run as a Hugging Face dataset (shards + card) and upload it, or only show it (--dry-run)."""
    from pipeline.release import redact, stage_release, upload_release

    try:
        plan = stage_release(
            args.run, args.repo, staging=args.staging, shard_mb=args.shard_mb, license_id=args.license
        )
        print(f"staging: {plan.staging}  ({plan.rows:,} documents)")
        for f in plan.files:
            print(f"{f.size:>14,}  {f.path}")
        if args.dry_run:
            print()
            print(plan.card)
            print(f"dry run: nothing uploaded to {args.repo}")
            return 0
        print(f"uploaded: {upload_release(plan, args.repo, private=args.private)}")
    except Exception as exc:  # the Hub's errors are many; show one redacted line, never the token
        print(f"ccsieve: error: {redact(f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
        return 1
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
    extract = sub.add_parser(
        "extract",
        help="print the main text of saved HTML pages",
        description="Print the extracted text of one saved page (.html or .html.gz); with several pages, "
        'one JSON line per page: {"path": ..., "text": ...}.',
    )
    extract.add_argument("pages", nargs="+", metavar="PAGE", help="saved HTML page, plain or gzip")
    extract.add_argument(
        "--engine",
        choices=tuple(EXTRACT_ENGINES),
        default="default",
        help="default: trafilatura; fast: resiliparse (four to seven times faster); combined: both, fused",
    )
    extract.add_argument("--url", default=None, help="the page's URL, given to the extractor")
    extract.add_argument("--timeout", type=float, default=5.0, help="seconds per page (default: %(default)s)")
    extract.set_defaults(func=extract_command)
    validate = sub.add_parser(
        "validate", help="check shards and train a small LM on them (A/B: --a/--b; docs/validation.md)"
    )
    add_validate_arguments(validate)
    validate.set_defaults(func=validate_command)
    report = sub.add_parser("report", help="rebuild a run's self-contained report.html (docs/report.md)")
    report.add_argument("run", metavar="RUN", help="output folder of a run (local path or fsspec URL)")
    report.add_argument("--output", default=None, help="HTML file to write (default: RUN/report.html)")
    report.add_argument("--dedup", default=None, help="a dedup_stats.json (default: RUN/dedup_stats.json)")
    report.set_defaults(func=report_command)
    release = sub.add_parser("release", help="publish a run as a Hugging Face dataset (docs/release.md)")
    release.add_argument("run", metavar="RUN", help="output folder of a finished run")
    release.add_argument("--repo", required=True, help="dataset repo on the Hub, user/name")
    release.add_argument(
        "--dry-run", action="store_true", help="stage and show the files and card; upload nothing"
    )
    release.add_argument(
        "--shard-mb", type=float, default=500.0, help="target shard size in MB (default: %(default)s)"
    )
    release.add_argument("--license", default="odc-by", help="card license id (default: %(default)s)")
    release.add_argument("--private", action="store_true", help="create the repo private")
    release.add_argument("--staging", default=None, help="local staging folder (default: RUN/release)")
    release.set_defaults(func=release_command)
    args = parser.parse_args(argv)
    return int(args.func(args))


def run() -> NoReturn:
    """The ``ccsieve`` command: :func:`main`, ended by :func:`pipeline.process_exit.exit_now`."""
    exit_now(main())


if __name__ == "__main__":
    run()
