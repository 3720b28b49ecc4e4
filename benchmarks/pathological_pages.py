"""Wall-clock time and outcome of the ``extract`` stage on three pathological pages, both engines.

The pages (generated here, as in tests/extractors/test_pathological.py): 50 MB of paragraphs, a page
nested 5,000 ``<div>`` deep, and a tag with 100,000 attributes. Each goes through ``Stage.run`` of a
warmed-up stage (sandboxed child, ``--timeout`` seconds per page), with the default 4 MB size cap and
with a 64 MB cap that lets the 50 MB page reach the child.

Usage (from the repository root)::

    .venv/bin/python benchmarks/pathological_pages.py [--timeout 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from extractors.engines import ENGINES  # noqa: E402 -- after the sys.path line above
from extractors.html import HtmlExtractor  # noqa: E402
from pipeline.document import Document  # noqa: E402

PROSE = "<p>" + "A sentence of ordinary prose that an extractor should keep as main text. " * 6 + "</p>"


def pages() -> dict[str, str]:
    attributes = " ".join(f'data-a{i}="v"' for i in range(100_000))
    return {
        "50 MB": "<html><body>" + PROSE * (50_000_000 // len(PROSE)) + "</body></html>",
        "5,000 levels": "<html><body>" + PROSE + "<div>" * 5000 + PROSE + "</div>" * 5000 + "</body></html>",
        "100,000 attributes": f"<html><body><div {attributes}>{PROSE}</div>{PROSE}</body></html>",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="timeout_s of the stage")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"| engine | size cap | page | seconds | outcome |  (timeout_s = {args.timeout:g})")
    print("| --- | --- | --- | --- | --- |")
    for engine in ENGINES:
        for cap in (4.0, 64.0):
            stage = HtmlExtractor(engine=engine, timeout_s=args.timeout, max_html_mb=cap)
            stage.run([])  # starts and warms up the child
            for name, html in pages().items():
                doc = Document(id=name, url="http://example.com/", source="bench", offset=0, html=html)
                start = time.perf_counter()
                outcome = stage.run([doc])
                seconds = time.perf_counter() - start
                result = "kept" if outcome.kept else f"dropped: {outcome.dropped[0].reason}"
                print(f"| {engine} | {cap:g} MB | {name} | {seconds:.2f} | {result} |")
            stage.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
