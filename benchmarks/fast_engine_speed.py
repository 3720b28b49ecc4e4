"""Pages per second of the fast (resiliparse) engine on the bench WARC, in process, on one core.

``extract_page`` (what the sandbox child runs for each page) over every response of
``../shared/testdata/bench-warc/bench.warc.gz`` (646 pages, 140 KB of HTML on average) in three
variants, passes interleaved: the engine's defaults (boilerplate pruning and the line rules:
link-density test, empty headings), pruning without the line rules, and neither (plain resiliparse);
pages/s from the median pass.
Two option sets: ``pipeline`` (``jobs/configs/fast.yaml``'s extract stage: plain text, no math, code
or structure marks, comments off) and ``full`` (the stage's defaults: math, code and structure on).
The sandbox's pipe and the rest of the pipeline are not counted (``benchmarks/fast_mode.py`` times
those end to end).
Usage (from the repository root)::

    .venv/bin/python benchmarks/fast_engine_speed.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from extractors.engines import ExtractJob, extract_page  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402
from pipeline.document import Document  # noqa: E402

DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
OPTIONS = {
    "pipeline": {"math": False, "code": False, "structure": False, "include_comments": False},
    "full": {},
}
VARIANTS = {
    "pruned+lines": {},
    "pruned": {"link_density": False, "empty_headings": False},
    "plain": {"prune": False, "link_density": False, "empty_headings": False},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--options", default="pipeline,full", help="pipeline, full")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.cpu})
    pages = [d.html or "" for d in WarcReader().read(str(args.input)) if isinstance(d, Document)]
    variants = [(o, name) for o in args.options.split(",") for name in VARIANTS]
    seconds: dict[str, list[float]] = {f"{o}, {name}": [] for o, name in variants}
    extract_page(ExtractJob("<html><body><p>warm-up</p></body></html>", engine="resiliparse"))
    for _ in range(args.repeat):
        for option_set, name in variants:
            options = {**OPTIONS[option_set], **VARIANTS[name]}
            jobs = [ExtractJob(html, engine="resiliparse", **options) for html in pages]
            start = time.perf_counter()
            for job in jobs:
                extract_page(job)
            seconds[f"{option_set}, {name}"].append(time.perf_counter() - start)
    print(f"{len(pages)} pages of {args.input.name}, CPU {args.cpu}, {args.repeat} interleaved passes")
    rates = {}
    for name, values in seconds.items():
        rates[name] = len(pages) / statistics.median(values)
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:24s} {rates[name]:7.1f} pages/s   passes (s): {runs}")
    print(json.dumps({"pages": len(pages), "seconds": seconds, "pages_per_s": rates}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
