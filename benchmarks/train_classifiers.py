"""Held-out precision and recall of the ``quality`` and ``math_score`` fastText classifiers, trained
on real pages from ../shared/testdata (nothing downloaded). docs/filters.md holds the
figures and explains the corpora; in short:

* quality: positives are the human (CleanEval, CleanPortalEval) or Readability.js gold main text of
  245 pages; negatives are the boilerplate of the *same* pages (the lines of the whole-page text
  that are not in the gold). Same pages, same languages, same topics on both sides, so the model can
  only learn prose-versus-boilerplate, a narrow stand-in for DCLM's OH-2.5/ELI5-versus-web contrast.
* math: positives are the math pages of math-pages, benchmarks/math-labelled and math-wikipedia as
  ccsieve extracts them (formulas as LaTeX); negatives are the pages of the four extraction sets
  (bench-warc's pages, less the ones holding formulas) plus the no-math controls, extracted the same
  way. Documents are cut into passages of about 60-250 words.

Every document carries its site as its group: the held-out split and the cross-validation folds
move whole sites. Usage (from the repository root)::

    .venv/bin/python benchmarks/train_classifiers.py                 # both, 10 % held out + 5-fold CV
    .venv/bin/python benchmarks/train_classifiers.py --write-corpora out/corpora   # JSONL for the job
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
LABELLED = REPO_ROOT / "benchmarks" / "math-labelled"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from extractors.engines import Engine, ExtractJob, extract_page  # noqa: E402 -- after sys.path
from extractors.http import decode_html  # noqa: E402
from filters.training import (  # noqa: E402
    TASKS,
    Example,
    Metrics,
    Task,
    TrainSettings,
    cross_validate,
    dedupe,
    evaluate,
    split_holdout,
    train_model,
)
from filters.training_data import write_jsonl  # noqa: E402

GOLD_SETS = ("extraction-cleaneval-dev", "extraction-mozilla-readability", "extraction-cleanportaleval")
# math-pages folders without formulas (gold empty on purpose): negatives, not positives.
NO_MATH_FOLDERS = ("stackexchange", "no-math-controls")
# bench pages that hold formulas (found by extractors.prefilter) or repeat a math-pages page.
MATH_BENCH_PAGES = {"en.wikipedia.org.tsne.html.gz", "wikipedia-3.html.gz", "quanta-1.html.gz"}
_MARKER = re.compile(r"^\s*<[phl]>\s*", re.MULTILINE)  # CleanEval's paragraph/heading/list marks
_TRAILING_NUMBER = re.compile(r"[-_]?\d+$")


def _html(path: Path) -> str:
    return decode_html(gzip.decompress(path.read_bytes()), None)[0]


def _plain_text(html: str) -> str:
    """Every visible line of a page (no main-content detection), one block per line."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    return extract_plain_text(HTMLTree.parse(html), preserve_formatting=True, main_content=False)


def _norm(line: str) -> str:
    return " ".join(line.lower().split())


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def site_group(name: str) -> str:
    """A page's site from its file name: 'nytimes-2' → 'nytimes', 'bbc.co.uk_news_01' → 'bbc.co.uk',
    'tao-247b-notes3' → 'tao'; every Wikipedia page is one group."""
    stem = name.split(".html")[0].split(".txt")[0]
    if "wikipedia" in stem:
        return "wikipedia"
    if "_" in stem:
        return stem.split("_")[0]
    return _TRAILING_NUMBER.sub("", stem).split("-")[0] or stem


# --- quality ------------------------------------------------------------------------------------


def _gold_text(source: str, gold: Path) -> str:
    raw = gzip.decompress(gold.read_bytes()).decode("utf-8", errors="replace")
    if source == "extraction-mozilla-readability":
        return _plain_text(raw)  # Readability's gold is HTML
    lines = raw.splitlines()
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    return _MARKER.sub("", "\n".join(lines))


def _boilerplate(page_text: str, gold_text: str) -> str:
    """The lines of the whole-page text that are not main text: most of their word 3-grams are not in
    the gold (short lines: the line itself is not a gold line)."""
    gold_lines = {_norm(line) for line in gold_text.splitlines()}
    gold_shingles = _shingles(_norm(gold_text).split())
    kept = []
    for line in page_text.splitlines():
        norm = _norm(line)
        if not norm:
            continue
        words = norm.split()
        if len(words) >= 3:
            grams = _shingles(words)
            if sum(g in gold_shingles for g in grams) >= 0.5 * len(grams):
                continue
        elif norm in gold_lines:
            continue
        kept.append(line.strip())
    return "\n".join(kept)


def quality_corpus(min_words: int = 30, every: int = 1) -> list[Example]:
    """Gold main text (positive) and the boilerplate of the same page (negative) for the pages of
    the three gold-text extraction sets; ``every=n`` keeps every n-th page (tests use a subset)."""
    examples = []
    for source in GOLD_SETS:
        inputs = sorted((TESTDATA / source / "input").glob("*.gz"))
        for page in inputs[::every]:
            name = page.name.removesuffix(".gz").removesuffix(".html")
            gold_path = TESTDATA / source / "gold" / f"{name}.txt.gz"
            if not gold_path.is_file():
                continue
            gold = _gold_text(source, gold_path)
            group = f"{source}:{site_group(name)}"
            if source == "extraction-cleaneval-dev":
                group = f"{source}:{name}"  # 58 different 2006 sites, named by number
            negative = _boilerplate(_plain_text(_html(page)), gold)
            for text, positive in ((gold, True), (negative, False)):
                if len(text.split()) >= min_words:
                    examples.append(Example(text, positive, group))
    return examples


# --- math ---------------------------------------------------------------------------------------


def passages(text: str, min_words: int = 60, max_words: int = 250) -> Iterator[str]:
    """Consecutive lines joined until they reach ``min_words``; a line over ``max_words`` is cut."""
    lines: list[str] = []
    count = 0
    for line in text.splitlines():
        words = line.split()
        for i in range(0, len(words), max_words):
            piece = words[i : i + max_words]
            lines.append(" ".join(piece))
            count += len(piece)
            if count >= min_words:
                yield "\n".join(lines)
                lines, count = [], 0
    if count >= min_words // 2:
        yield "\n".join(lines)


def extract(html: str, engine: Engine) -> str:
    """The page's text as the math config extracts it (formulas as LaTeX, code, Markdown structure)."""
    result = extract_page(ExtractJob(html, engine=engine, math=True, favor_recall=True))
    return result.text or ""


def _math_pages() -> Iterator[tuple[str, str, bool]]:
    """(name, html, is math) for math-pages, benchmarks/math-labelled and math-wikipedia."""
    for root in (TESTDATA / "math-pages", LABELLED):
        for path in sorted(root.glob("*/*.html.gz")):
            yield path.name, _html(path), path.parent.name not in NO_MATH_FOLDERS
    for path in sorted((TESTDATA / "math-wikipedia").glob("*.html.gz")):
        yield path.name, _html(path), True


def _bench_pages(every: int) -> Iterator[tuple[str, str, str]]:
    """(name, html, site) for the pages of bench-warc (read from their source folders)."""
    with open(TESTDATA / "bench-warc" / "pages.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for row in rows[::every]:
        if row["file"] in MATH_BENCH_PAGES:
            continue
        sub = "html" if row["source"] == "extraction-trafilatura" else "input"
        host = (row["url"].split("/")[2] if "://" in row["url"] else row["url"]).removeprefix("www.")
        site = site_group(row["file"]) if host.endswith(".example") else host
        yield row["file"], _html(TESTDATA / row["source"] / sub / row["file"]), site


def math_corpus(
    engine: Engine = "trafilatura", every: int = 1, max_positive: int = 25, max_negative: int = 2
) -> list[Example]:
    """Math passages (positive) and non-math passages (negative), at most ``max_positive`` /
    ``max_negative`` per page so that one long page or the many negatives do not swamp the rest."""
    examples = []
    for name, html, is_math in _math_pages():
        cap = max_positive if is_math else max_negative
        for text in list(passages(extract(html, engine)))[:cap]:
            examples.append(Example(text, is_math, site_group(name)))
    for _name, html, site in _bench_pages(every):
        for text in list(passages(extract(html, engine)))[:max_negative]:
            examples.append(Example(text, False, site_group(site) if "wikipedia" in site else site))
    return examples


# --- report -------------------------------------------------------------------------------------


def report(
    name: str, examples: list[Example], task: Task, settings: TrainSettings, folds: int
) -> dict[str, Metrics]:
    """Print and return the 10 % held-out and the pooled group k-fold figures of one classifier."""
    settings = replace(settings, preprocessing=task.preprocessing)
    labels = (task.positive_label, task.negative_label)
    examples, removed = dedupe(examples, settings.max_chars, settings.preprocessing)
    pos = sum(ex.positive for ex in examples)
    groups = len({ex.group for ex in examples})
    print(f"\n## {name} (preprocessing {settings.preprocessing})\n")
    print(f"{len(examples)} documents ({pos} positive, {len(examples) - pos} negative) from {groups} sites;")
    print(f"{removed} empty or duplicate texts removed\n")
    train, held = split_holdout(examples, 0.1, settings.seed)
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_model(train, Path(tmp) / f"{name}.bin", *labels, settings)
        holdout = evaluate(trained.load(), held, labels[0], 0.5, settings.max_chars, settings.preprocessing)
    held_pos = sum(ex.positive for ex in held)
    held_groups = len({ex.group for ex in held})
    print(f"held out (10 %, {len(held)} documents, {held_pos} positive, {held_groups} sites):")
    print(f"  {holdout.summary()}")
    per_fold = cross_validate(examples, folds, *labels, settings, settings.seed)
    pooled = sum(per_fold[1:], per_fold[0])
    print(f"{folds}-fold cross-validation by site, pooled:\n  {pooled.summary()}")
    print("  per fold: " + ", ".join(f"P {m.precision:.2f} R {m.recall:.2f}" for m in per_fold))
    return {"holdout": holdout, "cv": pooled}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="trafilatura", choices=["trafilatura", "resiliparse"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write-corpora", type=Path, help="also write the corpora as JSONL here")
    args = parser.parse_args(argv)
    settings = TrainSettings(seed=args.seed)
    print(f"settings: {settings}")
    start = time.perf_counter()
    quality = quality_corpus()
    math = math_corpus(args.engine)
    print(f"corpora built in {time.perf_counter() - start:.1f}s (math extraction: {args.engine})")
    if args.write_corpora:
        args.write_corpora.mkdir(parents=True, exist_ok=True)
        for name, examples in (("quality", quality), ("math", math)):
            for flag, kind in ((True, "positive"), (False, "negative")):
                path = args.write_corpora / f"{name}-{kind}.jsonl"
                n = write_jsonl(path, ((ex.text, ex.group) for ex in examples if ex.positive is flag))
                print(f"wrote {n} documents to {path}")
    start = time.perf_counter()
    report("quality", quality, TASKS["quality"], settings, args.folds)
    report("math_score", math, TASKS["math"], settings, args.folds)
    print(f"\ntrained and evaluated in {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
