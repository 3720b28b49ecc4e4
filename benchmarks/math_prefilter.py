"""Recall and pass rate of the ``math_prefilter`` stage (``extractors.prefilter``).

* Recall: every page of ../shared/testdata/math-pages whose ``.gold.txt`` lists at least one formula,
  and the two pages of math-wikipedia (100 formulas), must pass. Pages with an empty gold (Stack
  Exchange wrappers, pages that load MathJax without using it) and the MathJax 3 page (no TeX in the
  markup, so no gold file) are reported apart: passing them costs one extraction, no more.
* Pass rate: the 646 pages of bench-warc, read as the pipeline reads them (``WarcReader``). They are
  news, blogs and portals, but not all math-free: trafilatura's t-SNE Wikipedia page and
  Readability's wikipedia-3 hold formulas, so the pages that pass are listed with their marker.
* Cost: milliseconds per page, one core, over the bench pages.

Usage (from the repository root)::

    .venv/bin/python benchmarks/math_prefilter.py
"""

from __future__ import annotations

import gzip
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from extractors.http import decode_html  # noqa: E402 -- after the sys.path line above
from extractors.prefilter import find_math_marker  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402


def math_pages() -> list[tuple[str, str, bool]]:
    """(name, html, has gold formulas) for math-pages and math-wikipedia."""
    pages = []
    labelled = REPO_ROOT / "benchmarks" / "math-labelled"  # ours: see its SOURCE.md
    shared = sorted((TESTDATA / "math-pages").glob("*/*.html.gz"))
    for path in [*shared, *sorted(labelled.glob("*/*.html.gz"))]:
        gold = path.with_name(path.name.replace(".html.gz", ".gold.txt"))
        has_formulas = gold.is_file() and bool(gold.read_text(encoding="utf-8").strip())
        html = decode_html(gzip.decompress(path.read_bytes()), None)[0]
        prefix = "labelled:" if path.is_relative_to(labelled) else ""
        pages.append((f"{prefix}{path.parent.name}/{path.name}", html, has_formulas))
    for path in sorted((TESTDATA / "math-wikipedia").glob("*.html.gz")):
        html = decode_html(gzip.decompress(path.read_bytes()), None)[0]
        pages.append((f"math-wikipedia/{path.name}", html, True))
    return pages


def bench_pages() -> list[tuple[str, str]]:
    docs = WarcReader().read(str(TESTDATA / "bench-warc" / "bench.warc.gz"))
    return [(doc.url, doc.html) for doc in docs if getattr(doc, "html", None)]


def main() -> int:
    print("## Recall on pages with math\n")
    print("| page | gold formulas | marker |")
    print("| --- | --- | --- |")
    with_formulas = passed = 0
    for name, html, has_formulas in math_pages():
        marker = find_math_marker(html)
        with_formulas += has_formulas
        passed += has_formulas and marker is not None
        print(f"| {name} | {'yes' if has_formulas else 'none'} | {marker or '**dropped**'} |")
    print(f"\nrecall: {passed} / {with_formulas} pages with gold formulas pass\n")

    pages = bench_pages()
    start = time.perf_counter()
    markers = [find_math_marker(html) for _, html in pages]
    seconds = time.perf_counter() - start
    passing = [(url, m) for (url, _), m in zip(pages, markers, strict=True) if m]
    print("## Pass rate on bench-warc\n")
    print(f"{len(passing)} / {len(pages)} pages pass ({100 * len(passing) / len(pages):.2f} %); ", end="")
    print(f"{1000 * seconds / len(pages):.2f} ms per page ({len(pages) / seconds:.0f} pages/s, one core)")
    print(f"markers: {dict(Counter(m for _, m in passing))}\n")
    for url, marker in passing:
        print(f"- {url} ({marker})")
    return 0 if passed == with_formulas else 1


if __name__ == "__main__":
    sys.exit(main())
