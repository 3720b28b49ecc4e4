"""Train a fastText classifier for the ``quality`` or ``math_score`` stage (``python -m jobs.train_quality``).

Positives and negatives are files or folders of Parquet (a ``text`` column: ccsieve's own output
works as is), JSONL (a ``text`` field, optional ``group``/``url``) or plain text (one document per
blank-line-separated block, or per file with ``--text-unit file``). Documents are grouped by site
(``group`` field, else the URL's host) and whole groups go to the held-out split. Prints held-out
precision, recall and F1 of the positive class at ``--threshold``, writes the model and
``<model>.sha256``, and prints the config entry for it::

    python -m jobs.train_quality --positives good.jsonl --negatives web.parquet --output models/quality.bin
    python -m jobs.train_quality --task math --positives math/ --negatives other/ --output models/math.bin
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace

from filters.training import TASKS, TrainSettings, train_and_evaluate
from filters.training_data import read_documents
from pipeline.process_exit import exit_now


def _parser() -> argparse.ArgumentParser:
    defaults = TrainSettings()
    parser = argparse.ArgumentParser(prog="python -m jobs.train_quality", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--positives", nargs="+", required=True, help="files or folders of positive documents"
    )
    parser.add_argument(
        "--negatives", nargs="+", required=True, help="files or folders of negative documents"
    )
    parser.add_argument("--output", required=True, help="the model file to write (.bin)")
    parser.add_argument("--task", choices=sorted(TASKS), default="quality", help="labels and stage preset")
    parser.add_argument("--positive-label", help="override the task's positive label (quality: hq)")
    parser.add_argument("--negative-label", help="override the task's negative label (quality: cc)")
    parser.add_argument("--preprocessing", choices=["dclm", "tokens"], help="override the task's scheme")
    parser.add_argument("--holdout", type=float, default=0.1, help="fraction held out, by whole groups")
    parser.add_argument("--threshold", type=float, default=0.5, help="threshold for the held-out figures")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--text-unit", choices=["block", "file"], default="block", help="plain-text documents"
    )
    parser.add_argument("--text-field", default="text", help="the Parquet column / JSON field holding text")
    parser.add_argument("--dim", type=int, default=defaults.dim)
    parser.add_argument("--epoch", type=int, default=defaults.epoch)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--word-ngrams", type=int, default=defaults.word_ngrams)
    parser.add_argument("--min-count", type=int, default=defaults.min_count)
    parser.add_argument("--bucket", type=int, default=defaults.bucket)
    parser.add_argument(
        "--threads", type=int, default=defaults.threads, help="more is faster, not reproducible"
    )
    parser.add_argument("--no-balance", action="store_true", help="do not repeat the rarer class")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    task = TASKS[args.task]
    task = replace(
        task,
        positive_label=args.positive_label or task.positive_label,
        negative_label=args.negative_label or task.negative_label,
        preprocessing=args.preprocessing or task.preprocessing,
    )
    settings = TrainSettings(
        dim=args.dim,
        epoch=args.epoch,
        lr=args.lr,
        word_ngrams=args.word_ngrams,
        min_count=args.min_count,
        bucket=args.bucket,
        threads=args.threads,
        seed=args.seed,
        balance=not args.no_balance,
        preprocessing=task.preprocessing,
    )

    def docs(paths: list[str]) -> list[tuple[str, str]]:
        return [d for p in paths for d in read_documents(p, args.text_unit, args.text_field)]

    try:
        report = train_and_evaluate(
            docs(args.positives),
            docs(args.negatives),
            args.output,
            task,
            settings,
            args.holdout,
            args.threshold,
        )
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    held = report.held_out
    held_pos = sum(ex.positive for ex in held)
    print(f"trained on {report.train_positive} positive and {report.train_negative} negative documents")
    print(f"  ({report.duplicates_removed} empty or duplicate removed; {settings})")
    if report.metrics is None:
        print("no held-out documents (--holdout 0): no figures")
    else:
        groups = len({ex.group for ex in held})
        print(f"held out: {len(held)} documents ({held_pos} positive) from {groups} groups")
        print(f"  {report.metrics.summary()}")
    print(f"model:  {report.model.path}\nsha256: {report.model.sha256}\n\nconfig entry:\n")
    print(report.yaml_snippet())
    return 0


if __name__ == "__main__":
    exit_now(main())
