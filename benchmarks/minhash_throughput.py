"""MinHash signature throughput: datasketch against ccsieve's MinHasher, side by side, same texts.

Texts: the main content of every HTML page of the bench WARC (../shared/testdata/bench-warc, 646 real
pages), extracted once with trafilatura (or resiliparse, ``--engine``) before any timing. Each
contender turns the same list of texts into signatures of ``--num-perm`` permutations over word
``--ngram``-grams (FineWeb's 112 x 5-grams by default), single-threaded:

* ``datasketch-sha1``: datasketch at its best: ``MinHash.bulk`` (one permutation set, ``copy`` +
  ``update_batch`` per document) with its default ``sha1_hash32``, over ``dedup.normalize.shingles``;
* ``datasketch-shingle_hash32``: the same with ``hashfunc=dedup.minhash.shingle_hash32``: the rows
  it gives are checked equal to MinHasher's;
* ``ccsieve``: ``MinHasher.signatures(texts)``.

Every timing covers text -> signatures, normalisation and shingling included (``shingles-only``
shows that shared part alone). Runs alternate the contenders round by round; the median of
``--repeat`` rounds is printed, as documents/s and MB/s of input text (UTF-8), and MinHasher's
speed-up over each datasketch row.

Usage (from the repository root)::

    .venv/bin/python benchmarks/minhash_throughput.py [--engine trafilatura|resiliparse] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from datasketch import MinHash

from dedup.minhash import MinHasher, shingle_hash32
from dedup.normalize import shingles
from extractors.warc import WarcReader
from pipeline.document import Document

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"


def load_texts(path: Path, engine: str) -> list[str]:
    if engine == "trafilatura":
        import trafilatura

        def extract(html: str) -> str:
            return trafilatura.extract(html, deduplicate=False) or ""
    else:
        from resiliparse.extract.html2text import extract_plain_text

        def extract(html: str) -> str:
            return extract_plain_text(html, main_content=True)

    texts = []
    for record in WarcReader().read(str(path)):
        if isinstance(record, Document) and record.html:
            text = extract(record.html)
            if text.strip():
                texts.append(text)
    return texts


def run_datasketch(texts: list[str], num_perm: int, ngram: int, hashfunc: Callable | None) -> np.ndarray:
    kwargs = {"num_perm": num_perm, "seed": 1}
    if hashfunc is not None:
        kwargs["hashfunc"] = hashfunc
    batches = ([s.encode("utf-8") for s in shingles(t, ngram)] for t in texts)
    return np.vstack([m.hashvalues for m in MinHash.generator(batches, **kwargs)]).astype(np.uint64)


def run_shingles(texts: list[str], num_perm: int, ngram: int) -> None:
    for text in texts:
        [s.encode("utf-8") for s in shingles(text, ngram)]


def timed_rounds(
    contenders: list[tuple[str, Callable[[], object]]], repeat: int
) -> dict[str, tuple[float, object]]:
    # Rounds interleave the contenders, so a change of machine load hits all of them alike.
    seconds: dict[str, list[float]] = {name: [] for name, _ in contenders}
    results: dict[str, object] = {}
    for _ in range(repeat):
        for name, fn in contenders:
            start = time.perf_counter()
            results[name] = fn()
            seconds[name].append(time.perf_counter() - start)
    return {name: (statistics.median(seconds[name]), results[name]) for name, _ in contenders}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--engine", choices=["trafilatura", "resiliparse"], default="trafilatura")
    parser.add_argument("--num-perm", type=int, default=112)
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    texts = load_texts(args.input, args.engine)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(
        f"{len(texts)} texts, {megabytes:.2f} MB, extracted with {args.engine} "
        f"in {time.perf_counter() - start:.1f} s (not timed below)"
    )
    hasher = MinHasher(num_perm=args.num_perm, seed=1, ngram=args.ngram)
    hasher.signatures(texts[:2])  # builds the separator table and power caches, outside the timer
    n, k, r = args.num_perm, args.ngram, args.repeat
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("shingles-only", lambda: run_shingles(texts, n, k)),
        ("datasketch-sha1", lambda: run_datasketch(texts, n, k, None)),
        ("datasketch-shingle_hash32", lambda: run_datasketch(texts, n, k, shingle_hash32)),
        ("ccsieve", lambda: hasher.signatures(texts)),
    ]
    results = timed_rounds(contenders, r)
    ours, ours_rows = results["ccsieve"]
    if not np.array_equal(ours_rows, results["datasketch-shingle_hash32"][1]):
        raise SystemExit("MinHasher rows differ from datasketch with shingle_hash32")

    print(f"num_perm={n} ngram={k}, median of {r} interleaved rounds, single thread")
    print(f"{'contender':<28}{'seconds':>9}{'docs/s':>10}{'MB/s':>8}{'ccsieve speed-up':>18}")
    for name, (seconds, _) in results.items():
        speedup = f"{seconds / ours:.1f}x" if name.startswith("datasketch") else ""
        print(
            f"{name:<28}{seconds:>9.3f}{len(texts) / seconds:>10.0f}{megabytes / seconds:>8.2f}{speedup:>18}"
        )
    print("rows of ccsieve == rows of datasketch-shingle_hash32: yes")


if __name__ == "__main__":
    main()
