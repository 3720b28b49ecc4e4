"""Real test documents for the clustering and job tests, written as a ccsieve output folder.

GSM8K (``benchmarks-gsm8k``): line i of test.jsonl and of test_socratic.jsonl are labelled near-duplicates
(the same question, the answer rewritten), every cross pair is not. CleanPortalEval's gold texts: 71 real
news articles from 4 portals, a negative set (same sites, different articles). Two planted cases on top:
an exact duplicate (case and punctuation changed) and a refetch of one URL a day later.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.document import Document, to_table

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
GSM = TESTDATA / "benchmarks-gsm8k"
PORTAL = TESTDATA / "extraction-cleanportaleval" / "gold"
DAY0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def gsm_pairs(n: int, start: int = 0) -> list[tuple[str, str]]:
    """The first ``n`` (from ``start``) GSM8K problems as (test, socratic) texts."""

    def read(name: str) -> list[str]:
        lines = (GSM / name).read_text().splitlines()[start : start + n]
        return [(r := json.loads(line))["question"] + "\n" + r["answer"] for line in lines]

    return list(zip(read("test.jsonl"), read("test_socratic.jsonl"), strict=True))


def portal_texts() -> list[tuple[str, str]]:
    """(file stem, gold text) of the CleanPortalEval pages."""
    out = []
    for path in sorted(PORTAL.glob("*.txt.gz")):
        out.append((path.name.removesuffix(".txt.gz"), gzip.decompress(path.read_bytes()).decode("utf-8")))
    return out


def _doc(doc_id: str, url: str, text: str, quality: float, day: int = 0) -> Document:
    return Document(
        id=doc_id,
        url=url,
        source="corpus",
        offset=0,
        text=text,
        warc_date=DAY0 + dt.timedelta(days=day),
        scores={"quality": quality},
    )


def corpus(n_gsm: int = 120, gsm_start: int = 0, tag: str = "") -> list[Document]:
    """Documents: GSM8K pairs, the portal pages, one exact duplicate and one URL refetch."""
    docs = []
    for i, (a, b) in enumerate(gsm_pairs(n_gsm, gsm_start)):
        k = gsm_start + i
        # Quality from the text (not a constant) so the keeper rule is exercised both ways.
        docs.append(_doc(f"<urn:gsm:{k:04d}:a{tag}>", f"https://gsm.example/{k}{tag}", a, len(a) % 7 / 7))
        docs.append(
            _doc(f"<urn:gsm:{k:04d}:b{tag}>", f"https://socratic.example/{k}{tag}", b, len(b) % 7 / 7)
        )
    pages = portal_texts()
    for stem, text in pages:
        docs.append(_doc(f"<urn:portal:{stem}{tag}>", f"https://portal.example/{stem}{tag}", text, 0.5))
    stem, text = pages[0]
    docs.append(
        _doc(
            f"<urn:portal:{stem}:copy{tag}>", f"https://mirror.example/{stem}{tag}", text.upper() + " !!", 0.9
        )
    )
    # An edit chain: each version drops another 4 % of the words of a real article, so neighbours are
    # near-duplicates and the ends less so; clusters larger than pairs, joined over several hops.
    stem, text = pages[2]
    words = text.split()
    cut = max(1, len(words) // 25)
    for v in range(1, 6):
        kept = words[: v * 3 * cut] + words[v * 4 * cut :]
        docs.append(
            _doc(
                f"<urn:portal:{stem}:v{v}{tag}>",
                f"https://edit.example/{stem}/{v}{tag}",
                " ".join(kept),
                v / 10,
            )
        )
    stem, text = pages[1]
    docs.append(
        _doc(
            f"<urn:portal:{stem}:refetch{tag}>",
            f"https://PORTAL.example/{stem}{tag}",
            text[: len(text) // 2],
            0.1,
            day=1,
        )
    )
    return docs


def write_run(folder: Path, docs: list[Document], shards: int = 3) -> Path:
    """Write ``docs`` as a ccsieve output folder (``data/part-N.parquet``) and return the folder."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for s in range(shards):
        pq.write_table(to_table(docs[s::shards]), folder / "data" / f"part-{s}.parquet")
    return folder
