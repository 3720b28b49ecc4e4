"""Pages per second of the fast (resiliparse) engine on the bench WARC, in process, on one core.

``extract_page`` (what the sandbox child runs for each page) over every response of
``../shared/testdata/bench-warc/bench.warc.gz`` (646 pages, 140 KB of HTML on average) in three
variants, passes interleaved: the engine's defaults (boilerplate pruning and the line rules:
link-density test, empty headings, lines above the title), pruning without the line rules, and
neither (plain resiliparse);
the defaults once more with the raw-HTML scans in Python instead of C (``extractors/native.py``); and
resiliparse alone (parse, main content, the same output options: the floor any wrapper of it stands
on). Pages/s from the median pass.
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
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from resiliparse.extract.html2text import extract_plain_text  # noqa: E402
from resiliparse.parse.html import HTMLTree  # noqa: E402

from extractors import native  # noqa: E402
from extractors.engines import LINE_RULES, TEXT_OPTIONS, ExtractJob, extract_page  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402
from pipeline.document import Document  # noqa: E402

DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
OPTIONS = {
    "pipeline": {"math": False, "code": False, "structure": False, "include_comments": False},
    "full": {},
}
_BUILT = native.module
_BARE_OPTIONS = {**TEXT_OPTIONS, "comments": False}  # the engine's, with fast.yaml's comments off
VARIANTS: dict[str, dict[str, bool]] = {
    "pruned+lines": {},
    "pruned": dict.fromkeys(LINE_RULES, False),
    "plain": {"prune": False, **dict.fromkeys(LINE_RULES, False)},
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
    runs: dict[str, Callable[[], object]] = {"bare resiliparse": lambda: _bare(pages)}
    for option_set in args.options.split(","):
        for name, variant in VARIANTS.items():
            options = {**OPTIONS[option_set], **variant}
            jobs = [ExtractJob(html, engine="resiliparse", **options) for html in pages]
            runs[f"{option_set}, {name}"] = partial(_extract_all, jobs, native.module)
            if name == "pruned+lines" and native.module is not None:
                runs[f"{option_set}, {name}, pure Python"] = partial(_extract_all, jobs, None)
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    extract_page(ExtractJob("<html><body><p>warm-up</p></body></html>", engine="resiliparse"))
    for _ in range(args.repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    print(f"{len(pages)} pages of {args.input.name}, CPU {args.cpu}, {args.repeat} interleaved passes")
    rates = {}
    for name, values in seconds.items():
        rates[name] = len(pages) / statistics.median(values)
        passes = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:38s} {rates[name]:7.1f} pages/s   passes (s): {passes}")
    print(json.dumps({"pages": len(pages), "seconds": seconds, "pages_per_s": rates}))
    return 0


def _extract_all(jobs: list[ExtractJob], scans: ModuleType | None) -> None:
    """Every page through the engine, with the C scans or (``None``) their Python versions."""
    native.module = scans
    try:
        for job in jobs:
            extract_page(job)
    finally:
        native.module = _BUILT


def _bare(pages: list[str]) -> None:
    """resiliparse alone: parse and main content, with the engine's options; nothing of ccsieve."""
    for html in pages:
        extract_plain_text(HTMLTree.parse(html), main_content=True, **_BARE_OPTIONS)


if __name__ == "__main__":
    raise SystemExit(main())
