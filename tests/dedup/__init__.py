"""Real texts shared by the dedup tests: extracted bench-WARC pages and GSM8K problem pairs."""

from __future__ import annotations

import json
from functools import lru_cache

from tests.conftest import TESTDATA

BENCH_WARC = TESTDATA / "bench-warc" / "bench.warc.gz"
GSM8K = TESTDATA / "benchmarks-gsm8k"


@lru_cache(maxsize=1)
def web_texts(limit: int = 300) -> tuple[str, ...]:
    """Main-content text of the first ``limit`` HTML pages of the bench WARC (resiliparse: ~2 s)."""
    from resiliparse.extract.html2text import extract_plain_text

    from extractors.warc import WarcReader
    from pipeline.document import Document

    texts = []
    for record in WarcReader().read(str(BENCH_WARC)):
        if isinstance(record, Document) and record.html:
            texts.append(extract_plain_text(record.html, main_content=True))
            if len(texts) == limit:
                break
    return tuple(texts)


@lru_cache(maxsize=1)
def gsm8k_pairs() -> tuple[tuple[str, str], ...]:
    """(test.jsonl, test_socratic.jsonl) question + answer texts, line by line: labelled near-duplicates."""

    def load(name: str) -> list[str]:
        with open(GSM8K / name, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        return [row["question"] + "\n" + row["answer"] for row in rows]

    return tuple(zip(load("test.jsonl"), load("test_socratic.jsonl"), strict=True))
