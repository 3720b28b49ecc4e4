"""Near-duplicate detection quality of ``python -m jobs.dedup`` on real labelled data.

Corpus (../shared/testdata; read benchmarks-gsm8k/SOURCE.md and extraction-cleanportaleval/SOURCE.md):

* the 646 pages of bench-warc, extracted as the default pipeline does (trafilatura, plain text);
* GSM8K ``test`` and ``test_socratic``, question and answer as one document each: line i of the two
  files is a labelled near-duplicate pair (1,319 pairs), every other pair is not.

Each setting runs the real dedup job (``dedup.job.run_dedup``) over the corpus written as a ccsieve
shard; the predicted pairs are all pairs of documents inside one cluster. Pair precision and recall are
measured against the GSM8K labels over the pairs that involve a GSM8K document (a GSM8K document
paired with a bench page is a false pair). bench-warc holds real, unlabelled duplicates (Readability's
Lorem-ipsum test pages, the same article in two extraction sets): pairs of two bench pages are listed
apart, with their true word 5-gram Jaccard, for a person to judge.

False merges: the 71 CleanPortalEval pages (4 news portals: same templates, different articles) are
extracted (main text) and deduplicated alone. A predicted pair is a false merge when the two pages'
gold main texts differ (word 5-gram Jaccard of the gold below 0.5); the set holds one real duplicate,
washingtonpost.com_blog1_8 and _15 (the same post fetched as www. and without), which is listed as a
true merge.

Usage (from the repository root)::

    .venv/bin/python benchmarks/dedup_eval.py [--settings default,recommended,...]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pyarrow.parquet as pq  # noqa: E402

from dedup.clusters import jaccard  # noqa: E402
from dedup.job import DedupOptions, run_dedup  # noqa: E402
from dedup.lsh import collision_probability, optimal_bands_rows  # noqa: E402
from dedup.normalize import shingles  # noqa: E402
from dedup.signatures import SignatureParams  # noqa: E402
from extractors.html import HtmlExtractor  # noqa: E402
from extractors.http import decode_html  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402
from pipeline.document import Document, to_table  # noqa: E402

TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
GSM8K = TESTDATA / "benchmarks-gsm8k"


@dataclass(frozen=True)
class Setting:
    name: str
    params: SignatureParams
    verify: float | None = None


def settings() -> dict[str, Setting]:
    base = SignatureParams()
    out = {"default": Setting("default (FineWeb 14x8, 5-grams, 112 perms)", base)}
    for threshold in (0.5, 0.4, 0.3):
        bands, rows = optimal_bands_rows(threshold, base.num_perm)
        name = f"optimal for {threshold} ({bands}x{rows})"
        out[f"t{threshold}"] = Setting(name, replace(base, bands=bands, rows=rows))
    bands, rows = optimal_bands_rows(0.4, base.num_perm)
    params = replace(base, bands=bands, rows=rows)
    out["t0.4-verify0.3"] = Setting(f"optimal for 0.4 ({bands}x{rows}), verified Jaccard >= 0.3", params, 0.3)
    bands, rows = optimal_bands_rows(0.3, base.num_perm)
    params = replace(base, bands=bands, rows=rows)
    out["t0.3-verify0.25"] = Setting(
        f"optimal for 0.3 ({bands}x{rows}), verified Jaccard >= 0.25", params, 0.25
    )
    return out


def _extractor() -> HtmlExtractor:
    # the default pipeline's extraction (jobs/configs/default.yaml)
    return HtmlExtractor(math=False, code=False, structure=False, include_comments=False)


def bench_documents() -> list[Document]:
    docs = [
        d
        for d in WarcReader().read(str(TESTDATA / "bench-warc" / "bench.warc.gz"))
        if isinstance(d, Document)
    ]
    extractor = _extractor()
    kept = extractor.run(docs).kept
    extractor.close()
    for doc in kept:
        doc.html = None
    return kept


def gsm8k_documents() -> tuple[list[Document], set[tuple[str, str]]]:
    docs, pairs = [], set()
    for split in ("test", "test_socratic"):
        lines = (GSM8K / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            item = json.loads(line)
            doc_id = f"gsm8k-{split}-{i:04d}"
            docs.append(Document(id=doc_id, url=f"https://gsm8k.example/{split}/{i}", source=f"{split}.jsonl",
                                 offset=i, text=f"{item['question']}\n{item['answer']}"))  # fmt: skip
    n = len(docs) // 2
    pairs = {(f"gsm8k-test-{i:04d}", f"gsm8k-test_socratic-{i:04d}") for i in range(n)}
    return docs, pairs


def portal_gold(name: str) -> str:
    path = TESTDATA / "extraction-cleanportaleval" / "gold" / f"{name}.txt.gz"
    lines = gzip.decompress(path.read_bytes()).decode("utf-8", "replace").splitlines()
    return "\n".join(line for line in lines if not line.startswith("URL:"))


def gold_jaccard(a: str, b: str) -> float:
    return jaccard(shingles(portal_gold(a)), shingles(portal_gold(b)))


def portal_documents() -> list[Document]:
    extractor = _extractor()
    extractor.setup()
    docs = []
    for path in sorted((TESTDATA / "extraction-cleanportaleval" / "input").glob("*.gz")):
        html = decode_html(gzip.decompress(path.read_bytes()), None)[0]
        text = extractor.extract(html, None).text or ""
        if text.strip():
            name = path.name.removesuffix(".html.gz")
            docs.append(Document(id=name, url=f"https://{name}", source=path.name, offset=0, text=text))
    extractor.close()
    return docs


def predicted_pairs(clusters_file: Path) -> set[tuple[str, str]]:
    table = pq.read_table(clusters_file, columns=["cluster_id", "id"])
    members: dict[str, list[str]] = {}
    for cluster, doc_id in zip(
        table.column("cluster_id").to_pylist(), table.column("id").to_pylist(), strict=True
    ):
        members.setdefault(cluster, []).append(doc_id)
    return {(a, b) for group in members.values() for a, b in itertools.combinations(sorted(group), 2)}


def run(docs: Iterable[Document], setting: Setting, folder: Path) -> tuple[set[tuple[str, str]], float, dict]:
    data = folder / "in" / "data"
    data.mkdir(parents=True)
    pq.write_table(to_table(list(docs)), data / "corpus-00000.parquet")
    options = DedupOptions(inputs=[str(folder / "in")], output=str(folder / "out"), params=setting.params,
                           verify=setting.verify, progress=False)  # fmt: skip
    start = time.perf_counter()
    stats = run_dedup(options)
    seconds = time.perf_counter() - start
    return predicted_pairs(folder / "out" / "clusters.parquet"), seconds, stats


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--settings", default=",".join(settings()), help="comma-separated setting keys")
    options = arguments.parse_args()
    chosen = [settings()[key] for key in options.settings.split(",")]
    bench = bench_documents()
    gsm, gold = gsm8k_documents()
    portals = portal_documents()
    print(f"corpus: {len(bench)} bench-warc texts + {len(gsm)} GSM8K documents ({len(gold)} labelled pairs); "
          f"{len(portals)} CleanPortalEval pages\n")  # fmt: skip
    print(
        "| setting | P(merge) at J=0.3 / 0.5 / 0.7 | predicted pairs | TP | precision | recall | F1 | "
        "pairs of two bench pages | CleanPortalEval false merges (true merges) | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for setting in chosen:
        with tempfile.TemporaryDirectory(prefix="ccsieve-dedup-eval-") as tmp:
            pairs, seconds, _ = run(bench + gsm, setting, Path(tmp) / "main")
            portal_pairs, _, _ = run(portals, setting, Path(tmp) / "portals")
        false_merges = [(a, b) for a, b in portal_pairs if gold_jaccard(a, b) < 0.5]
        labelled = {p for p in pairs if p[0].startswith("gsm8k-") or p[1].startswith("gsm8k-")}
        tp = len(labelled & gold)
        precision = tp / len(labelled) if labelled else 1.0
        texts = {d.id: d.text for d in bench}
        bench_j = [jaccard(shingles(texts[a]), shingles(texts[b])) for a, b in pairs - labelled]
        recall = tp / len(gold)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        p = setting.params
        probs = " / ".join(f"{collision_probability(j, p.bands, p.rows):.2f}" for j in (0.3, 0.5, 0.7))
        scores = f"{precision:.3f} | {recall:.3f} | {f1:.3f}"
        bench_cell = f"{len(bench_j)} (true Jaccard min {min(bench_j, default=float('nan')):.2f})"
        portal_cell = f"{len(false_merges)} ({len(portal_pairs) - len(false_merges)} true)"
        print(f"| {setting.name} | {probs} | {len(pairs)} | {tp} | {scores} | {bench_cell} | {portal_cell} | "
              f"{seconds:.1f} |")  # fmt: skip
        for a, b in false_merges[:5]:
            print(f"|   false merge: {a} ~ {b} |")
        for a, b in sorted(labelled - gold)[:5]:
            print(f"|   false pair: {a} ~ {b} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
