"""A small real-text pool for the job tests: MMLU items grouped into one domain per subject.

Each document is a few consecutive items of one subject's test file, on a URL of a domain named
after the subject; the zoo's KenLM models learn from different subjects' dev files, so the models
differ in what they have seen, as the paper's LLMs do.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from filters.perplexity_correlations.bpb_job import benchmark_texts
from pipeline.document import Document, to_table

SUBJECTS = (
    "astronomy", "college_biology", "econometrics", "elementary_mathematics", "high_school_geography",
    "high_school_mathematics", "international_law", "marketing", "nutrition", "philosophy",
    "prehistory", "sociology",
)  # fmt: skip
DOCS_PER_SUBJECT, ITEMS_PER_DOC = 4, 8


def subject_items(testdata: Path, subject: str, split: str) -> list[str]:
    return benchmark_texts([f"{testdata}/benchmarks-mmlu/{split}/{subject}_{split}.csv.gz:0,1,2,3,4"])


def write_pool(testdata: Path, folder: Path, shards: int = 2) -> Path:
    """A ccsieve-shaped output folder (``data/*.parquet``) holding the pool; returns the folder."""
    docs: list[Document] = []
    for subject in SUBJECTS:
        items = subject_items(testdata, subject, "test")
        for d in range(DOCS_PER_SUBJECT):
            text = "\n\n".join(items[d * ITEMS_PER_DOC : (d + 1) * ITEMS_PER_DOC])
            doc_id = f"{subject}-{d}"
            url = f"https://www.{subject.replace('_', '-')}.org/page/{d}"
            docs.append(Document(id=doc_id, url=url, source="pool.warc.gz", offset=len(docs), text=text))
    data = folder / "data"
    data.mkdir(parents=True)
    for s in range(shards):
        pq.write_table(to_table(docs[s::shards]), data / f"pool-{s:05d}.parquet")
    return folder
