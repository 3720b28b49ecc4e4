"""Train a KenLM model for the ``perplexity`` stage (``python -m jobs.train_kenlm``).

Reads Parquet (the ``text`` column of ccsieve shards), JSONL (the ``text`` field) or plain text files,
normalises them as CCNet does, trains with lmplz and writes a KenLM binary; prints the config entry
with the model's sha256, and with ``--sample N`` the head/middle/tail cut-offs measured on N documents.
Needs lmplz and build_binary: ``make kenlm-tools`` builds them once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from filters.kenlm_train import KenLMToolsMissing, iter_texts, train_kenlm
from filters.perplexity import compute_cutoffs, document_log10_prob, load_kenlm, perplexity
from pipeline.process_exit import exit_now


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobs.train_kenlm", description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="Parquet / JSONL / text files or folders to train on")
    parser.add_argument(
        "--output", "-o", required=True, help="the KenLM binary to write, e.g. models/en.binary"
    )
    parser.add_argument("--order", type=int, default=3, help="n-gram order (CCNet: 5, on far more text)")
    parser.add_argument(
        "--prune",
        type=int,
        nargs="+",
        default=None,
        help="lmplz --prune count thresholds per order, e.g. 0 0 1 (default: none, best for small corpora)",
    )
    parser.add_argument("--memory", default="1G", help="lmplz -S sort memory (default 1G)")
    parser.add_argument("--max-docs", type=int, default=None, help="train on at most this many documents")
    parser.add_argument("--keep-arpa", action="store_true", help="also keep the ARPA file beside the binary")
    parser.add_argument(
        "--sample", type=int, default=0, help="score this many documents and print the bucket cut-offs"
    )
    parser.add_argument(
        "--sample-input",
        nargs="+",
        default=None,
        help="documents for --sample, e.g. ccsieve shards of the crawl (default: the training inputs, "
        "which score lower than unseen text)",
    )
    parser.add_argument(
        "--percentiles", type=float, nargs=2, default=(33.0, 66.0), help="bucket percentiles (CCNet: 33 66)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        model = train_kenlm(
            iter_texts(args.inputs, limit=args.max_docs),
            args.output,
            order=args.order,
            prune=args.prune,
            memory=args.memory,
            keep_arpa=args.keep_arpa,
        )
    except KenLMToolsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"trained {model.order}-gram model on {model.lines} lines, {model.tokens} tokens: "
        f"{model.path} ({model.size_bytes / 1e6:.1f} MB)"
    )
    print(f"sha256: {model.sha256}")
    config = ["- stage: perplexity", f"  model_path: {model.path}", f"  model_sha256: {model.sha256}"]
    if args.sample > 0:
        if args.sample_input is None:
            print("note: cut-offs measured on the training text; pass --sample-input with crawl output")
        lm = load_kenlm(model.path, model.sha256)
        sample = args.sample_input or args.inputs
        values = [perplexity(*document_log10_prob(lm, t)) for t in iter_texts(sample, limit=args.sample)]
        cutoffs = compute_cutoffs(values, args.percentiles)
        print(f"bucket cut-offs from {len(values)} documents: {[round(c, 1) for c in cutoffs]}")
        config.append(f"  buckets: [{cutoffs[0]:.1f}, {cutoffs[1]:.1f}]")
    print("config:\n" + "\n".join(config))
    return 0


if __name__ == "__main__":
    exit_now(main())
