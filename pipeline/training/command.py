"""Arguments and command of ``ccsieve validate`` (also ``python -m jobs.validate_train``)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

__all__ = ["add_validate_arguments", "validate_command"]


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", nargs="*", help="shards: Parquet files, folders, or ccsieve output folders")
    parser.add_argument("--a", nargs="+", metavar="PATH", help="A/B mode: dataset A (e.g. curated output)")
    parser.add_argument("--b", nargs="+", metavar="PATH", help="A/B mode: dataset B (e.g. raw output)")
    parser.add_argument("--output", help="folder for metrics.json, loss.png, tokenizer.json")
    parser.add_argument(
        "--check-only", action="store_true", help="only check the shards (no training; needs no torch)"
    )
    parser.add_argument(
        "--reference",
        nargs="+",
        metavar="PATH",
        help="held-out set (Parquet, JSONL with a text field, or text files); "
        "default: 5%% of the first dataset's documents by id hash, removed from training",
    )
    parser.add_argument("--tokenizer", help="a tokenizer.json to use instead of training a BPE")
    parser.add_argument("--seeds", type=int, default=1, help="runs per dataset, seeds 0..N-1 (default: 1)")
    parser.add_argument(
        "--preset", choices=("auto", "cpu-test", "cpu-tiny", "gpu-small"), default="auto",
        help="model and budget (auto: gpu-small on CUDA, else cpu-tiny)",
    )  # fmt: skip
    parser.add_argument("--tokens", type=int, help="training tokens per run (overrides the preset)")
    parser.add_argument("--vocab-size", type=int, help="BPE vocabulary size (overrides the preset)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ... (default: auto)")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile on CUDA")


def validate_command(args: argparse.Namespace) -> int:
    from pipeline.training.shards import ShardCheckError, check_shards

    if args.data and (args.a or args.b):
        print("ccsieve: error: give shards either as arguments or as --a/--b, not both", file=sys.stderr)
        return 2
    if bool(args.a) != bool(args.b):
        print("ccsieve: error: A/B mode needs both --a and --b", file=sys.stderr)
        return 2
    datasets = {"A": args.a, "B": args.b} if args.a else {"data": args.data}
    if not datasets.get("A") and not datasets.get("data"):
        print("ccsieve: error: no shards given", file=sys.stderr)
        return 2
    try:
        if args.check_only:
            for name, paths in datasets.items():
                r = check_shards(paths)
                print(f"{name}: {len(r.files)} shards, {r.rows:,} documents, {r.words:,} words, "
                      f"{r.utf8_bytes:,} bytes: checks passed")  # fmt: skip
            return 0
        if not args.output:
            print("ccsieve: error: --output is required unless --check-only", file=sys.stderr)
            return 2
        try:
            from pipeline.training.train import PRESETS, pick_device, run_check
        except ImportError as exc:
            print(f"ccsieve: error: training needs the train extra ({exc}); "
                  "pip install -e '.[train]' (see README)", file=sys.stderr)  # fmt: skip
            return 2
        device = pick_device(args.device)
        preset = (
            args.preset if args.preset != "auto" else ("gpu-small" if device.type == "cuda" else "cpu-tiny")
        )
        cfg = PRESETS[preset]
        if args.tokens:
            cfg = replace(cfg, tokens=args.tokens)
        if args.vocab_size:
            cfg = replace(cfg, vocab_size=args.vocab_size)
        metrics = run_check(
            datasets, args.output, cfg, seeds=range(args.seeds), reference=args.reference,
            tokenizer=args.tokenizer, device=str(device), compile_model=False if args.no_compile else None,
        )  # fmt: skip
    except ShardCheckError as exc:
        print(f"ccsieve: shard check failed:\n{exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"ccsieve: error: {exc}", file=sys.stderr)
        return 2
    print(f"\nheld-out bits per byte ({metrics['reference']['source']}), preset {preset}, "
          f"{cfg.tokens:,} tokens per run:")  # fmt: skip
    for name, s in metrics["summary"].items():
        b = s["heldout_bpb"]
        epochs = metrics["datasets"][name]["epochs"]
        print(f"  {name:5s} {b['mean']:.4f} ± {b['std']:.4f} (min {b['min']:.4f}, max {b['max']:.4f}, "
              f"n={b['n']}; {epochs:.2f} epochs; {s['tokens_per_s']:,.0f} tokens/s)")  # fmt: skip
    print(f"metrics: {args.output.rstrip('/')}/metrics.json")
    if metrics.get("plot"):
        print(f"plot:    {metrics['plot']}")
    return 0
