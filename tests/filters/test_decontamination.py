"""Benchmark decontamination on real pages: real GSM8K and MMLU test items planted into real page text.

The pages are the 646 of the bench WARC (../shared/testdata/bench-warc), extracted with the fast
engine (about 5 s for all of them); the benchmark items are read from the shared GSM8K and MMLU files.
"""

from __future__ import annotations

import csv
import gzip
import json
import pickle
import random
import re
from pathlib import Path

import pytest

from extractors.html import HtmlExtractor
from extractors.warc import WarcReader
from filters.decontamination import Decontaminate, NGramIndex, normalize_words
from pipeline.document import Document
from pipeline.registry import ConfigError, build_stage
from tests.conftest import TESTDATA, make_doc

GSM8K = TESTDATA / "benchmarks-gsm8k" / "test.jsonl"
MMLU_TEST = TESTDATA / "benchmarks-mmlu" / "test"
BENCH_WARC = TESTDATA / "bench-warc" / "bench.warc.gz"
RSQUO = "\u2019"  # the right single quotation mark, GSM8K's apostrophe
BENCHMARKS = [
    {"name": "gsm8k", "path": str(GSM8K), "fields": ["question", "answer"]},
    {"name": "mmlu", "path": str(MMLU_TEST / "*_test.csv.gz"), "fields": [0, 1, 2, 3, 4]},
]


@pytest.fixture(scope="module")
def pages() -> list[tuple[str, str]]:
    """(url, text) of every bench-WARC page that extracts to text."""
    docs = [d for d in WarcReader().read(str(BENCH_WARC)) if isinstance(d, Document)]
    extractor = HtmlExtractor(engine="resiliparse", isolate=False, math=False, code=False, structure=False)
    kept = extractor.run(docs).kept
    assert len(kept) > 600
    return [(d.url, d.text) for d in kept]


@pytest.fixture(scope="module")
def stage() -> Decontaminate:
    stage = Decontaminate(benchmarks=BENCHMARKS)
    stage.setup()
    stage._ready = True
    return stage


def _gsm8k_items(step: int) -> list[tuple[str, str]]:
    """(item id, question) for every ``step``-th GSM8K test question."""
    with open(GSM8K, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return [(f"test.jsonl:{i + 1}", rows[i]["question"]) for i in range(0, len(rows), step)]


def _mmlu_items(per_subject: int) -> list[tuple[str, list[str]]]:
    """(item id, [question, A, B, C, D]) for the first rows of every subject that have a field of at
    least 8 words: shorter items are not indexed by design (see test_short_items_are_not_indexed)."""
    items = []
    for path in sorted(MMLU_TEST.glob("*_test.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            rows = [(n, row[:5]) for n, row in enumerate(csv.reader(fh), start=1)]
        usable = [(n, r) for n, r in rows if max(len(normalize_words(f)) for f in r) >= 8]
        items += [(f"{path.name}:{n}", r) for n, r in usable[:per_subject]]
    return items


def _plant(page: str, snippet: str) -> str:
    """The page with ``snippet`` inserted as a paragraph at its middle paragraph boundary."""
    paragraphs = page.split("\n")
    middle = len(paragraphs) // 2
    return "\n".join([*paragraphs[:middle], snippet, *paragraphs[middle:]])


def _quiz(fields: list[str]) -> str:
    question, *choices = fields
    return "\n".join([question, *(f"{label}. {c}" for label, c in zip("ABCD", choices, strict=True))])


def _reformat(text: str, rng: random.Random) -> str:
    """Same words, other case, whitespace and punctuation: what copying a question into a page does."""
    text = rng.choice([str.upper, str.lower, str.title, lambda s: s])(text)
    text = text.replace("'", RSQUO) if rng.random() < 0.5 else text.replace(RSQUO, "'")
    text = re.sub(r"([?!;:])(?=\s|$)", lambda m: rng.choice([" " + m.group(1), ".", " -", ""]), text)
    return re.sub(r"\s+", lambda _: rng.choice([" ", "  ", "\n", "\t", " \n "]), text)


def _docs(texts: list[str]) -> list[Document]:
    return [make_doc(text, f"d{i}") for i, text in enumerate(texts)]


def _planted_cases(pages: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(benchmark, item id, page text with the item planted), exact and reformatted copies."""
    rng = random.Random(4)
    cases = []
    for item, question in _gsm8k_items(step=25):
        cases.append(("gsm8k", item, question))
        cases.append(("gsm8k", item, _reformat(question, rng)))
    for item, fields in _mmlu_items(per_subject=1):
        cases.append(("mmlu", item, _quiz(fields)))
        cases.append(("mmlu", item, _reformat(_quiz(fields), rng)))
    return [(bench, item, _plant(pages[i % len(pages)][1], s)) for i, (bench, item, s) in enumerate(cases)]


def test_normalisation_ignores_case_whitespace_and_punctuation() -> None:
    question = _gsm8k_items(step=10_000)[0][1]  # "Janet<RSQUO>s ducks lay 16 eggs per day. ..."
    variants = [
        question.upper(),
        question.replace(RSQUO, "'"),
        question.replace(RSQUO, ""),
        " \n ".join(question.split()),
        question.replace(".", " .").replace("$", "$ "),
    ]
    for variant in variants:
        assert normalize_words(variant) == normalize_words(question)
    assert normalize_words("16-3-4 = 1,000 ______ Q(sqrt(2))") == ["16", "3", "4", "1000", "q", "sqrt", "2"]
    assert normalize_words("at 4:00 pm") == normalize_words("AT 4.00 PM") == ["at", "400", "pm"]


def test_clean_pages_have_no_hits(stage: Decontaminate, pages: list[tuple[str, str]]) -> None:
    outcome = stage.run(_docs([text for _, text in pages]))
    details = [f"{d.url}: {d.detail}" for d in outcome.dropped]
    assert not details, "benchmark n-grams found in clean pages:\n" + "\n".join(details)
    assert all(d.scores["decontaminate"] == 0.0 for d in outcome.kept)
    assert outcome.stats.seen == len(pages)


def test_planted_items_are_all_found(stage: Decontaminate, pages: list[tuple[str, str]]) -> None:
    cases = _planted_cases(pages)
    assert sum(b == "gsm8k" for b, _, _ in cases) >= 100 and sum(b == "mmlu" for b, _, _ in cases) >= 100
    outcome = stage.run(_docs([text for _, _, text in cases]))
    assert not outcome.kept, "planted copies missed:\n" + "\n".join(d.text[:200] for d in outcome.kept)
    by_id = {d.id: d for d in outcome.dropped}
    for i, (bench, item, _) in enumerate(cases):
        drop = by_id[f"d{i}"]
        assert drop.reason == "benchmark_contamination"
        assert drop.detail.startswith(f"{bench}: ")
        if bench == "gsm8k":  # no repeats in GSM8K: the item itself is named
            assert drop.detail.startswith(f"gsm8k: {item} question ")


def test_flag_mode_keeps_and_annotates(pages: list[tuple[str, str]]) -> None:
    stage = Decontaminate(benchmarks=BENCHMARKS, action="flag")
    item, question = _gsm8k_items(step=100)[3]
    mmlu_item, fields = _mmlu_items(per_subject=1)[7]
    texts = [pages[0][1], _plant(pages[1][1], question), _plant(pages[2][1], _quiz(fields))]
    outcome = stage.run(_docs(texts))
    assert len(outcome.kept) == 3 and not outcome.dropped
    clean, gsm, mmlu = outcome.kept
    assert clean.scores["decontaminate"] == 0.0 and "contamination" not in clean.metadata
    assert gsm.metadata["contamination"] == "gsm8k"
    assert gsm.metadata["contamination_detail"].startswith(f"gsm8k: {item} question ")
    # Every 13-word window of the planted question is a benchmark n-gram, each counted once.
    words = normalize_words(question)
    assert gsm.scores["decontaminate"] == len({tuple(words[i : i + 13]) for i in range(len(words) - 12)})
    assert mmlu.metadata["contamination"] == "mmlu" and mmlu.scores["decontaminate"] >= 1
    assert mmlu.metadata["contamination_detail"].startswith(f"mmlu: {mmlu_item} ")


def test_repeated_benchmark_items_are_counted_once(
    stage: Decontaminate, pages: list[tuple[str, str]]
) -> None:
    # MMLU repeats some questions verbatim; a page quoting one must count each n-gram once and name
    # the first occurrence.
    seen: dict[str, str] = {}
    repeated = None
    for path in sorted(MMLU_TEST.glob("*_test.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                if len(normalize_words(row[0])) >= 20 and row[0] in seen and repeated is None:
                    repeated = (seen[row[0]], f"{path.name}:{n}", row[0])
                seen.setdefault(row[0], f"{path.name}:{n}")
    assert repeated is not None
    first, _later, question = repeated
    doc = make_doc(_plant(pages[5][1], question))
    outcome = stage.run([doc])
    words = normalize_words(question)
    assert outcome.dropped[0].detail.startswith(f"mmlu: {first} 0 ")
    assert doc.scores["decontaminate"] == len({tuple(words[i : i + 13]) for i in range(len(words) - 12)})


def test_short_items_are_matched_whole_or_not_at_all(pages: list[tuple[str, str]]) -> None:
    with gzip.open(MMLU_TEST / "high_school_us_history_test.csv.gz", "rt", encoding="utf-8") as fh:
        choices = [row[1] for row in csv.reader(fh)]
    medium = next(c for c in choices if 9 <= len(normalize_words(c)) <= 12)  # indexed whole
    short = next(c for c in choices if 3 <= len(normalize_words(c)) <= 6)  # too generic: not indexed
    mmlu_a = [{"name": "mmlu", "path": str(MMLU_TEST / "*_test.csv.gz"), "fields": [1]}]
    outcome = Decontaminate(benchmarks=mmlu_a).run(
        _docs(
            [
                _plant(pages[3][1], medium.upper()),
                _plant(pages[3][1], medium.rsplit(maxsplit=1)[0]),  # one word short: not the item
                _plant(pages[3][1], short),
            ]
        )
    )
    assert [d.id for d in outcome.dropped] == ["d0"]
    assert outcome.dropped[0].detail.startswith("mmlu: ") and " 1 " in outcome.dropped[0].detail


def test_min_matches(pages: list[tuple[str, str]]) -> None:
    question = _gsm8k_items(step=200)[2][1]
    words = question.split()
    thirteen = " ".join(words[:14])  # one or two 13-grams, depending on punctuation
    count = len(normalize_words(thirteen)) - 12
    assert count >= 1
    strict = Decontaminate(benchmarks=BENCHMARKS[:1], min_matches=count + 1)
    loose = Decontaminate(benchmarks=BENCHMARKS[:1], min_matches=count)
    text = _plant(pages[4][1], thirteen)
    assert strict.run([make_doc(text)]).kept
    assert loose.run([make_doc(text)]).dropped


def test_index_size_and_pickling(stage: Decontaminate) -> None:
    index = stage._index
    assert isinstance(index, NGramIndex)
    assert index.items > 1319 + 14_000 and len(index) > 400_000
    assert index.nbytes < 64 << 20
    clone = pickle.loads(pickle.dumps(stage))
    assert clone._index is None  # the index is rebuilt per worker, never shipped
    assert len(pickle.dumps(stage)) < 10_000


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"benchmarks": []}, "at least one"),
        ({"benchmarks": [{"name": "x", "path": "/nonexistent/*.jsonl", "fields": ["q"]}]}, "no file matches"),
        ({"benchmarks": [{"name": "x", "path": str(GSM8K)}]}, "missing keys"),
        ({"benchmarks": [{"name": "x", "path": str(GSM8K), "fields": ["q"], "split": 1}]}, "unknown keys"),
        ({"benchmarks": BENCHMARKS, "action": "remove"}, "action"),
        ({"benchmarks": BENCHMARKS, "n": 5, "min_words": 8}, "min_words"),
        ({"benchmarks": [BENCHMARKS[0], BENCHMARKS[0]]}, "unique"),
    ],
)
def test_bad_configs_fail_when_the_config_loads(spec: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_stage({"stage": "decontaminate", **spec})


def test_missing_field_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bench.jsonl"
    # The blank line still counts: numbers are the file's line numbers.
    path.write_text(json.dumps({"question": "a b c d e f g h i j"}) + "\n\n" + json.dumps({"q": "x"}) + "\n")
    stage = Decontaminate(benchmarks=[{"name": "b", "path": str(path), "fields": ["question"]}])
    with pytest.raises(ValueError, match=r"bench.jsonl:3 has no field 'question'"):
        stage.setup()
