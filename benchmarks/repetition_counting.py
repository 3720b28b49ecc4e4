"""The Gopher repetition filter's n-gram counting: datatrove's string joins against hashed slices.

Texts: the English pages of ``benchmarks/tokenizer_agreement.py`` (bench WARC and extraction sets,
extracted as the default pipeline does, kept when lid.176 says English ≥ 0.65), split once with
``FastWordTokenizer``. On the same word lists, interleaved passes on one core:

* ``datatrove``: ``find_top_duplicate(get_n_grams(words, n))`` for n = 2, 3, 4 and
  ``find_all_duplicate(words, n)`` for n = 5 … 10, every n on every page (the filter itself stops at
  the first rule that fails; counting them all compares the counting alone);
* ``hashed``: ``filters.repetition.NGramCounts(words)``'s ``top_chars`` and ``repeated_chars``, the
  same calls.

Then the word split itself: a pass with the chunk cache empty, and a second split of the same texts
(what ``gopher_quality`` does after ``gopher_repetition``). Prints seconds per pass (median), the
ratio, and whether every count agrees. Usage (from the repository root)::

    .venv/bin/python benchmarks/repetition_counting.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from datatrove.pipeline.filters.gopher_repetition_filter import (
    find_all_duplicate,
    find_top_duplicate,
    get_n_grams,
)
from tokenizer_agreement import english_texts

import filters.word_tokenizer as word_tokenizer
from filters.repetition import NGramCounts

TOP, DUPLICATED = (2, 3, 4), tuple(range(5, 11))


def count_datatrove(pages: list[list[str]]) -> list[int]:
    out = []
    for words in pages:
        for n in TOP:
            grams = get_n_grams(words, n)
            out.append(find_top_duplicate(grams) if grams else 0)
        out.extend(find_all_duplicate(words, n) for n in DUPLICATED)
    return out


def count_hashed(pages: list[list[str]]) -> list[int]:
    out = []
    for words in pages:
        counts = NGramCounts(words)  # the filter builds one per page
        out.extend(counts.top_chars(n) for n in TOP)
        out.extend(counts.repeated_chars(n) for n in DUPLICATED)
    return out


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.cpu})
    texts = english_texts()
    splitter = word_tokenizer.FastWordTokenizer("en")
    seconds: dict[str, list[float]] = {"datatrove": [], "hashed": [], "split cold": [], "split again": []}
    agree = True
    for _ in range(args.repeat):
        word_tokenizer._chunk_cache.clear()
        word_tokenizer._recent_splits.words.clear()
        word_tokenizer._recent_splits.chars = 0
        pages, cold = timed(lambda: [splitter.word_tokenize(t) for t in texts])
        _, again = timed(lambda: [splitter.word_tokenize(t) for t in texts[-100:]])  # within the budget
        seconds["split cold"].append(cold)
        seconds["split again"].append(again * len(texts) / 100)
        expected, plain = timed(count_datatrove, pages)
        got, hashed = timed(count_hashed, pages)
        seconds["datatrove"].append(plain)
        seconds["hashed"].append(hashed)
        agree = agree and expected == got
    medians = {k: statistics.median(v) for k, v in seconds.items()}
    words = sum(len(splitter.word_tokenize(t)) for t in texts)
    print(f"{len(texts)} English texts, {words:,} words; counts agree on every page and n: {agree}")
    for name, values in seconds.items():
        print(f"{name:12s} median {medians[name]:6.2f} s   runs {[round(v, 2) for v in values]}")
    print(f"counting: hashed is {medians['datatrove'] / medians['hashed']:.1f}x datatrove's speed")
    print(json.dumps({"texts": len(texts), "words": words, "agree": agree, "seconds": seconds}))
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
