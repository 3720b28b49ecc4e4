"""Benchmark decontamination and PII redaction on real pages and real benchmark items.

Prints, for the ``decontaminate`` stage with GSM8K (question, answer) and MMLU test (question and four
choices) from ../shared/testdata:

* index build: seconds, n-grams, bytes held (``NGramIndex.nbytes``), the process's resident memory
  before and after, and the peak Python allocation during the build (tracemalloc, in a second build:
  tracing slows the build several times);
* recall: every GSM8K test question and every MMLU test item (question and choices laid out as a quiz)
  planted into a clean page, once verbatim and once reformatted (case, whitespace, punctuation);
  MMLU recall is also given over the items that have a field of at least ``min_words`` words, the
  only ones the stage can find by design;
* hits on the clean pages of the bench WARC (extracted with the chosen engine), each listed with the
  matched n-gram so that a person can judge it; the same for smaller ``min_words``;
* throughput of the stage on the clean pages (documents and MB of text per second, one process);

and for the ``pii`` stage on the same pages: replacements by kind, each match in context, docs/s.

Usage (from the repository root)::

    .venv/bin/python benchmarks/decontamination.py [--engine trafilatura|resiliparse] [--sample K]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import re
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from extractors.html import HtmlExtractor  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402
from filters.decontamination import Decontaminate, NGramIndex, normalize_words  # noqa: E402
from filters.pii import PiiRedactor  # noqa: E402
from pipeline.document import Document  # noqa: E402

TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
GSM8K = TESTDATA / "benchmarks-gsm8k" / "test.jsonl"
MMLU = TESTDATA / "benchmarks-mmlu" / "test"
BENCH_WARC = TESTDATA / "bench-warc" / "bench.warc.gz"
BENCHMARKS = [
    {"name": "gsm8k", "path": str(GSM8K), "fields": ["question", "answer"]},
    {"name": "mmlu", "path": str(MMLU / "*_test.csv.gz"), "fields": [0, 1, 2, 3, 4]},
]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def clean_pages(engine: str) -> list[tuple[str, str]]:
    docs = [d for d in WarcReader().read(str(BENCH_WARC)) if isinstance(d, Document)]
    extractor = HtmlExtractor(engine=engine, math=False, code=False, structure=False, include_comments=False)
    start = time.perf_counter()
    kept = extractor.run(docs).kept
    extractor.close()
    print(
        f"pages: {len(docs)} responses, {len(kept)} with text ({engine}, {time.perf_counter() - start:.1f} s)"
    )
    return [(d.url, d.text) for d in kept]


def items() -> list[tuple[str, str, list[str]]]:
    """(benchmark, item id, fields) of every GSM8K test question and MMLU test item."""
    out = []
    with open(GSM8K, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            out.append(("gsm8k", f"test.jsonl:{n}", [json.loads(line)["question"]]))
    for path in sorted(MMLU.glob("*_test.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                out.append(("mmlu", f"{path.name}:{n}", row[:5]))
    return out


def layout(fields: list[str]) -> str:
    question, *choices = fields
    return "\n".join([question, *(f"{label}) {c}" for label, c in zip("ABCD", choices, strict=False))])


def reformat(text: str, rng: random.Random) -> str:
    text = rng.choice([str.upper, str.lower, str.title, lambda s: s])(text)
    text = text.replace("'", "\u2019") if rng.random() < 0.5 else text.replace("\u2019", "'")
    text = re.sub(r"([?!;:])(?=\s|$)", lambda m: rng.choice([" " + m.group(1), ".", " -", ""]), text)
    return re.sub(r"\s+", lambda _: rng.choice([" ", "  ", "\n", "\t", " \n "]), text)


def plant(page: str, snippet: str) -> str:
    paragraphs = page.split("\n")
    middle = len(paragraphs) // 2
    return "\n".join([*paragraphs[:middle], snippet, *paragraphs[middle:]])


def bench_index() -> Decontaminate:
    before = rss_mb()
    stage = Decontaminate(benchmarks=BENCHMARKS)
    start = time.perf_counter()
    stage.setup()
    stage._ready = True
    seconds = time.perf_counter() - start
    index = stage._index
    assert index is not None
    after = rss_mb()
    tracemalloc.start()
    NGramIndex(stage.specs, stage.n, stage.min_words)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        "\n## index (GSM8K question+answer, MMLU test question+choices; "
        f"n={stage.n}, min_words={stage.min_words})"
    )
    print(
        f"fields read: {index.items}, segments indexed: {len(index.segments)}, distinct n-grams: {len(index)}"
    )
    print(
        f"build: {seconds:.2f} s; held: {index.nbytes / 2**20:.1f} MiB; RSS {before:.0f} -> {after:.0f} MiB"
    )
    print(f"tracemalloc during a build: peak {peak / 2**20:.1f} MiB, retained {current / 2**20:.1f} MiB")
    return stage


def bench_recall(stage: Decontaminate, pages: list[tuple[str, str]], sample: int | None) -> None:
    rng = random.Random(0)
    all_items = items()
    if sample:
        all_items = rng.sample(all_items, sample)
    min_words = stage.min_words
    indexable = {i for b, i, f in all_items if max(len(normalize_words(x)) for x in f) >= min_words}
    print(f"\n## recall: {len(all_items)} items planted into clean pages, verbatim and reformatted")
    for variant in ("verbatim", "reformatted"):
        texts = []
        for k, (_, _, fields) in enumerate(all_items):
            snippet = layout(fields)
            texts.append(
                plant(
                    pages[k % len(pages)][1], reformat(snippet, rng) if variant == "reformatted" else snippet
                )
            )
        docs = [Document(id=str(k), url="", source="", offset=0, text=t) for k, t in enumerate(texts)]
        start = time.perf_counter()
        outcome = stage.run(docs)
        seconds = time.perf_counter() - start
        found = {int(d.id) for d in outcome.dropped}
        named = sum(1 for d in outcome.dropped if d.detail.startswith(all_items[int(d.id)][0] + ": "))
        for bench in ("gsm8k", "mmlu"):
            ks = [k for k, (b, _, _) in enumerate(all_items) if b == bench]
            ok = [k for k in ks if all_items[k][1] in indexable]
            hit, hit_ok = sum(k in found for k in ks), sum(k in found for k in ok)
            print(
                f"{variant:11} {bench:5}: {hit}/{len(ks)} = {hit / max(len(ks), 1):.4f}; "
                f"items with a field of >= {min_words} words: {hit_ok}/{len(ok)} "
                f"= {hit_ok / max(len(ok), 1):.4f}"
            )
        print(
            f"{variant:11} detail names the right benchmark: {named}/{len(found)}; "
            f"{len(docs) / seconds:.0f} docs/s"
        )


def bench_clean(pages: list[tuple[str, str]]) -> None:
    print(f"\n## clean pages: {len(pages)}")
    for min_words in (8, 5):
        stage = Decontaminate(benchmarks=BENCHMARKS, min_words=min_words)
        stage.setup()
        stage._ready = True
        docs = [Document(id=str(k), url=u, source="", offset=0, text=t) for k, (u, t) in enumerate(pages)]
        start = time.perf_counter()
        outcome = stage.run(docs)
        seconds = time.perf_counter() - start
        mb = sum(len(t.encode()) for _, t in pages) / 1e6
        print(
            f"min_words={min_words}: {len(outcome.dropped)} hits; {len(docs) / seconds:.0f} docs/s, "
            f"{mb / seconds:.1f} MB/s ({mb:.1f} MB of text)"
        )
        for drop in outcome.dropped:
            print(f"    {drop.url}: {drop.detail}")


def bench_pii(pages: list[tuple[str, str]]) -> None:
    stage = PiiRedactor()
    stage.setup()
    start = time.perf_counter()
    totals: Counter[str] = Counter()
    docs_with = 0
    for _, text in pages:
        _, counts = stage.redact(text)
        totals.update(counts)
        docs_with += bool(counts)
    seconds = time.perf_counter() - start
    print(
        f"\n## pii on the clean pages: {dict(totals)} in {docs_with} pages; {len(pages) / seconds:.0f} docs/s"
    )
    assert stage._replacers is not None
    for url, text in pages:
        for kind, replacer, counter in stage._replacers:
            for m in replacer.regex.finditer(text):
                if counter.accept(m.group(0)):
                    context = text[max(0, m.start() - 30) : m.end() + 10].replace("\n", " ")
                    print(f"    {kind:5} {m.group(0):40} {url[:60]}  ...{context}...")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", default="trafilatura", choices=["trafilatura", "resiliparse"])
    parser.add_argument("--sample", type=int, default=None, help="plant K random items instead of all")
    args = parser.parse_args()
    stage = bench_index()
    pages = clean_pages(args.engine)
    bench_clean(pages)
    bench_recall(stage, pages, args.sample)
    bench_pii(pages)


if __name__ == "__main__":
    main()
