"""The ``perplexity`` stage against CCNet's own perplexities, and on prose, boilerplate and spam.

A KenLM model is trained here, with ``filters.kenlm_train`` (lmplz), on real English prose from
``../shared/testdata`` (read each SOURCE.md): lingua's 1,000 English sentences, the ``<p>`` blocks of
the 58 hand-cleaned CleanEval gold texts, and the ``<p>`` blocks of the Readability test pages' expected
output that the ``language`` stage calls English. None of the documents scored below is in it.

Figures, per n-gram order:

* Spearman's rank correlation between the stage's perplexity and CCNet's ``metadata.perplexity`` on the
  20 documents of ``ccnet-perplexity-dolma`` (CCNet's Wikipedia 5-gram + SentencePiece model; all 20
  are in CCNet's head bucket, so their range is narrow: the check is of order, not of scale);
* mean and median perplexity of clean prose (those 20 CCNet documents), boilerplate (the link texts of
  the 71 CleanPortalEval news-portal pages, one link per line) and spam (the ``<meta name="keywords">``
  lists of eight terms or more of every HTML page in the extraction sets: real SEO keyword stuffing);
* the share of (prose, boilerplate) and (prose, spam) pairs where the prose scores lower.

Usage (from the repository root; needs ``make kenlm-tools``)::

    .venv/bin/python benchmarks/kenlm_ccnet.py [--orders 3 5]

Prints Markdown (the tables of docs/filters.md).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from filters.kenlm_train import train_kenlm  # noqa: E402
from filters.language import LanguageFilter  # noqa: E402
from filters.perplexity import PerplexityAnnotator  # noqa: E402
from pipeline.document import Document  # noqa: E402

DATA = REPO_ROOT.parent / "shared" / "testdata"
_BLOCK = re.compile(r"<([phl])>")
HTML_SETS = (
    "extraction-cleaneval-dev",
    "extraction-cleanportaleval",
    "extraction-mozilla-readability",
    "extraction-trafilatura",
)


def _read(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        return fh.read()


def _html(path: Path) -> lxml.html.HtmlElement | None:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    try:
        return lxml.html.document_fromstring(raw)
    except (ValueError, lxml.etree.ParserError):
        return None


def _words(text: str) -> str:
    return " ".join(text.split())


def cleaneval_paragraphs(path: Path) -> list[str]:
    """The ``<p>`` blocks of a CleanEval gold text (blocks are marked ``<p>``, ``<h>``, ``<l>``)."""
    parts = _BLOCK.split(_read(path))
    blocks = (_words(body) for tag, body in zip(parts[1::2], parts[2::2], strict=True) if tag == "p")
    return [b for b in blocks if len(b.split()) >= 5]


def readability_paragraphs(path: Path) -> list[str]:
    tree = _html(path)
    if tree is None:
        return []
    return [p for p in (_words(e.text_content()) for e in tree.iter("p")) if len(p.split()) >= 5]


def training_texts() -> list[str]:
    """One text per source document; Readability pages that lid.176 does not call English are left out."""
    texts = [_read(DATA / "langid-lingua-testdata" / "sentences" / "en.txt.gz")]
    for path in sorted((DATA / "extraction-cleaneval-dev" / "gold").glob("*.txt.gz")):
        texts.append("\n".join(cleaneval_paragraphs(path)))
    pages = [
        "\n".join(readability_paragraphs(path))
        for path in sorted((DATA / "extraction-mozilla-readability" / "gold").glob("*.txt.gz"))
    ]
    docs = [Document(id=str(i), url="", source="", offset=0, text=t) for i, t in enumerate(pages) if t]
    english = LanguageFilter(languages=["en"]).run(docs).kept
    return texts + [d.text for d in english]


def ccnet_documents() -> list[tuple[str, float]]:
    """(text, CCNet's perplexity) for the 20 CCNet documents."""
    rows = []
    for path in sorted((DATA / "ccnet-perplexity-dolma").glob("*.jsonl.gz")):
        for line in _read(path).splitlines():
            record = json.loads(line)
            rows.append((record["text"], float(record["metadata"]["perplexity"])))
    return rows


def boilerplate_documents() -> list[str]:
    """Link texts of the CleanPortalEval pages, one link per line; pages with ten links or more."""
    docs = []
    for path in sorted((DATA / "extraction-cleanportaleval" / "input").glob("*.gz")):
        tree = _html(path)
        links = [_words(a.text_content()) for a in tree.iter("a")] if tree is not None else []
        links = [link for link in links if link]
        if len(links) >= 10:
            docs.append("\n".join(links))
    return docs


def _html_pages() -> Iterator[Path]:
    for name in HTML_SETS:
        yield from sorted((DATA / name / "input").glob("*.gz"))


def spam_documents() -> list[str]:
    """``<meta name="keywords">`` lists of eight terms or more, as one line of words."""
    docs = []
    for path in _html_pages():
        tree = _html(path)
        for meta in tree.iter("meta") if tree is not None else ():
            if (meta.get("name") or "").lower() == "keywords":
                terms = [t.strip() for t in (meta.get("content") or "").split(",") if t.strip()]
                if len(terms) >= 8:
                    docs.append(" ".join(terms))
    return docs


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rho: Pearson's correlation of average ranks (ties share their mean rank)."""

    def ranks(values: list[float]) -> np.ndarray:
        array = np.asarray(values, dtype=np.float64)
        order = np.argsort(array, kind="stable")
        result = np.empty(len(array))
        result[order] = np.arange(1, len(array) + 1)
        for value in np.unique(array):
            tied = array == value
            result[tied] = result[tied].mean()
        return result

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def share_lower(low: list[float], high: list[float]) -> float:
    return sum(x < y for x in low for y in high) / (len(low) * len(high))


def score(stage: PerplexityAnnotator, texts: list[str]) -> list[float]:
    docs = [Document(id=str(i), url="", source="", offset=0, text=t) for i, t in enumerate(texts)]
    stage.run(docs)
    return [d.scores["perplexity"] for d in docs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[3, 5])
    args = parser.parse_args()

    train = training_texts()
    ccnet = ccnet_documents()
    groups = {"prose (CCNet docs)": [t for t, _ in ccnet], "boilerplate": boilerplate_documents()}
    groups["spam"] = spam_documents()
    print(f"training documents: {len(train)}; " + ", ".join(f"{k}: {len(v)}" for k, v in groups.items()))
    print()
    columns = ["order", "tokens", "model MB", "train s", "Spearman vs CCNet (n=20)"]
    columns += ["prose < boilerplate", "prose < spam"]
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for order in args.orders:
            start = time.perf_counter()
            model = train_kenlm(train, Path(tmp) / f"en{order}.binary", order=order)
            seconds = time.perf_counter() - start
            stage = PerplexityAnnotator(str(model.path), model.sha256)
            scores = {name: score(stage, texts) for name, texts in groups.items()}
            rho = spearman(scores["prose (CCNet docs)"], [pp for _, pp in ccnet])
            prose = scores["prose (CCNet docs)"]
            vs_boilerplate = share_lower(prose, scores["boilerplate"])
            vs_spam = share_lower(prose, scores["spam"])
            print(
                f"| {order} | {model.tokens:,} | {model.size_bytes / 1e6:.1f} | {seconds:.1f} | {rho:.3f} "
                f"| {vs_boilerplate:.3f} | {vs_spam:.3f} |"
            )
            rows.append((order, scores))
    print()
    print("| order | group | documents | mean perplexity | median perplexity |")
    print("| --- | --- | --- | --- | --- |")
    for order, scores in rows:
        for name, values in scores.items():
            print(
                f"| {order} | {name} | {len(values)} | {statistics.mean(values):,.0f} "
                f"| {statistics.median(values):,.0f} |"
            )
    ccnet_pp = [pp for _, pp in ccnet]
    print()
    print(f"CCNet's own perplexity on the 20 documents: {min(ccnet_pp)} to {max(ccnet_pp)}")


if __name__ == "__main__":
    main()
