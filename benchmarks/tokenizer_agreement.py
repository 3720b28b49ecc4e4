"""The fast word splitter against spaCy's inside datatrove's filters: tokens, decisions, time.

Texts: every page of ../shared/testdata/bench-warc (646), extraction-trafilatura (401) and
extraction-cleaneval-dev (58), extracted by ccsieve's trafilatura engine with the default pipeline's
options (plain text, comments off) and kept when lid.176 calls them English with a score ≥ 0.65, as the
default pipeline does. On each text, datatrove's spaCy splitter (``load_word_tokenizer("en")``) and
``filters.word_tokenizer.FastWordTokenizer``: total tokens, texts with identical tokens, the tokens one
has and the other lacks, and the default pipeline's four filters in a row (Gopher repetition, Gopher
quality, C4 with ``filter_no_terminal_punct=False``, FineWeb) with each splitter: the verdicts that
differ, and the seconds each takes. Usage (from the repository root)::

    .venv/bin/python benchmarks/tokenizer_agreement.py
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
sys.path.insert(0, str(REPO_ROOT))

from datatrove.data import Document as DatatroveDocument  # noqa: E402
from datatrove.pipeline.filters import (  # noqa: E402
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.utils.word_tokenizers import load_word_tokenizer  # noqa: E402

from extractors.engines import ExtractJob, extract_page  # noqa: E402
from extractors.http import decode_html  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402
from filters.language import LanguageFilter  # noqa: E402
from filters.word_tokenizer import FastWordTokenizer  # noqa: E402
from pipeline.document import Document  # noqa: E402


def english_texts() -> list[str]:
    pages = [d.html or "" for d in WarcReader().read(str(TESTDATA / "bench-warc" / "bench.warc.gz"))
             if isinstance(d, Document)]  # fmt: skip
    for pattern in ("extraction-trafilatura/html/*.gz", "extraction-cleaneval-dev/input/*"):
        for path in sorted(TESTDATA.glob(pattern)):
            raw = path.read_bytes()
            pages.append(decode_html(gzip.decompress(raw) if path.suffix == ".gz" else raw, None)[0])
    options = {"math": False, "code": False, "structure": False, "include_comments": False}
    texts = [t for html in pages if (t := extract_page(ExtractJob(html, **options)).text)]
    language = LanguageFilter(languages=["en"])
    language.setup()
    return [t for t, (lang, score) in zip(texts, language.predict(texts), strict=True)
            if lang == "en" and score >= 0.65]  # fmt: skip


def verdicts(splitter: Any, texts: list[str]) -> tuple[list[Any], float]:
    chain = [
        GopherRepetitionFilter(language=splitter),
        GopherQualityFilter(language=splitter),
        C4QualityFilter(filter_no_terminal_punct=False, language=splitter),
        FineWebQualityFilter(language=splitter),
    ]
    out: list[Any] = []
    start = time.perf_counter()
    for i, text in enumerate(texts):
        doc, verdict = DatatroveDocument(text=text, id=str(i)), None
        for step in chain:
            result = step.filter(doc)
            if result is not True:
                verdict = (type(step).__name__, result[1] if isinstance(result, tuple) else "dropped")
                break
        out.append(verdict)
    return out, time.perf_counter() - start


def main() -> int:
    texts = english_texts()
    spacy, fast = load_word_tokenizer("en"), FastWordTokenizer()
    spacy.word_tokenize("warm up")  # spaCy's set-up is not counted against it
    timed: dict[str, tuple[list[list[str]], float]] = {}
    for name, splitter in (("spacy", spacy), ("fast", fast)):
        start = time.perf_counter()
        timed[name] = ([splitter.word_tokenize(t) for t in texts], time.perf_counter() - start)
    (ref, ref_s), (ours, ours_s) = timed["spacy"], timed["fast"]
    only_spacy: Counter[str] = Counter()
    only_fast: Counter[str] = Counter()
    for a, b in zip(ref, ours, strict=True):
        only_spacy.update(Counter(a) - Counter(b))
        only_fast.update(Counter(b) - Counter(a))
    ref_v, ref_vs = verdicts("en", texts)
    our_v, our_vs = verdicts(fast, texts)
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(ref_v, our_v, strict=True)) if a != b]
    summary = {
        "texts": len(texts),
        "tokens_spacy": sum(map(len, ref)),
        "tokens_fast": sum(map(len, ours)),
        "identical_texts": sum(a == b for a, b in zip(ref, ours, strict=True)),
        "split_seconds": {"spacy": round(ref_s, 2), "fast": round(ours_s, 2)},
        "filter_seconds": {"spacy": round(ref_vs, 2), "fast": round(our_vs, 2)},
        "kept": {"spacy": sum(v is None for v in ref_v), "fast": sum(v is None for v in our_v)},
        "verdicts_differ": len(differ),
        "differences": [{"text": i, "spacy": a, "fast": b} for i, a, b in differ],
        "only_spacy_top": only_spacy.most_common(15),
        "only_fast_top": only_fast.most_common(15),
    }
    tokens = f"tokens spaCy {summary['tokens_spacy']:,}, fast {summary['tokens_fast']:,}"
    print(f"{len(texts)} English texts; {tokens}; identical on {summary['identical_texts']}")
    print(f"splitting: spaCy {ref_s:.2f} s, fast {ours_s:.2f} s")
    print(f"four filters: spaCy {ref_vs:.2f} s, fast {our_vs:.2f} s")
    print(f"verdicts differ on {len(differ)} of {len(texts)}: {differ}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
