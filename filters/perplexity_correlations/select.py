"""Token-budget selection: a global pass over written shards, not a per-document threshold.

Pass one scores every document (with the student, or from a score already in the shards) and keeps
only (shard, row, id, domain, words, score) in memory. The documents are ranked by score, then id,
and taken in that order until their words reach the budget; the last one taken may cross it. An
optional per-domain cap stops any one domain from taking more than a share of the budget. Pass two
copies the chosen rows, with their score, into new shards of the same schema.

A random selection at the same budget (``random_seed``) ranks by a seeded hash of the id instead: the
baseline the method must beat.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from filters.classifiers import FastTextClassifier
from filters.perplexity_correlations.domains import registered_domain
from pipeline.document import from_table, to_table

__all__ = ["SelectOptions", "select_by_budget"]

_BATCH = 512


@dataclass(slots=True)
class SelectOptions:
    """What to select from ``inputs`` (ccsieve shards or output folders) into ``output``."""

    inputs: Sequence[str]
    output: str
    score_key: str = "pplcorr"
    keep_ratio: float | None = 0.5
    budget_words: int | None = None  # overrides keep_ratio
    domain_cap: float | None = None  # largest share of the budget one domain may take
    random_seed: int | None = None  # rank by a seeded hash of the id: the random baseline
    shard_rows: int = 50_000


def _random_score(seed: int, doc_id: str) -> float:
    digest = hashlib.blake2b(f"{seed}\x00{doc_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**64


def _score_pass(
    shards: Sequence[Path], options: SelectOptions, scorer: FastTextClassifier | None
) -> dict[str, np.ndarray]:
    cols: dict[str, list[Any]] = {k: [] for k in ("shard", "row", "id", "domain", "words", "score")}
    for s, shard in enumerate(shards):
        table = pq.read_table(shard, columns=["id", "url", "text", "scores"])
        ids = table.column("id").to_pylist()
        urls = table.column("url").to_pylist()
        texts = table.column("text").to_pylist()
        if options.random_seed is not None:
            scores = [_random_score(options.random_seed, i) for i in ids]
        elif scorer is not None:
            scores = []
            for start in range(0, len(texts), _BATCH):
                scores.extend(scorer.predict(texts[start : start + _BATCH]))
        else:
            maps = table.column("scores").to_pylist()
            scores = [dict(m or []).get(options.score_key) for m in maps]
            missing = [ids[i] for i, v in enumerate(scores) if v is None]
            if missing:
                raise ValueError(
                    f"{shard}: {len(missing)} documents have no score {options.score_key!r} "
                    f"(first: {missing[0]}); give the student model or score them in the pipeline"
                )
        cols["shard"] += [s] * len(ids)
        cols["row"] += range(len(ids))
        cols["id"] += ids
        cols["domain"] += [registered_domain(u or "") for u in urls]
        cols["words"] += [len((t or "").split()) for t in texts]
        cols["score"] += scores
    return {
        "shard": np.array(cols["shard"], dtype=np.int64),
        "row": np.array(cols["row"], dtype=np.int64),
        "id": np.array(cols["id"], dtype=object),
        "domain": np.array(cols["domain"], dtype=object),
        "words": np.array(cols["words"], dtype=np.int64),
        "score": np.array(cols["score"], dtype=np.float64),
    }


def _choose(pool: dict[str, np.ndarray], budget: int, domain_cap: float | None) -> np.ndarray:
    """Indices of the chosen documents (see the module docstring)."""
    scores = np.nan_to_num(pool["score"], nan=-np.inf)
    order = np.lexsort((pool["id"].astype(str), -scores))
    cap = None if domain_cap is None else domain_cap * budget
    taken: list[int] = []
    total = 0
    per_domain: Counter[str] = Counter()
    for i in order:
        if total >= budget:
            break
        words = int(pool["words"][i])
        domain = pool["domain"][i]
        if cap is not None and per_domain[domain] + words > cap:
            continue
        taken.append(int(i))
        total += words
        per_domain[domain] += words
    return np.array(sorted(taken), dtype=np.int64)


def select_by_budget(options: SelectOptions, scorer: FastTextClassifier | None = None) -> dict[str, Any]:
    """Run the selection and write ``output/data/*.parquet`` and ``output/selection.json``."""
    from pipeline.training.shards import find_shards

    started = time.perf_counter()
    shards = find_shards(options.inputs)
    pool = _score_pass(shards, options, scorer)
    total_words = int(pool["words"].sum())
    if options.budget_words is not None:
        budget = int(options.budget_words)
    elif options.keep_ratio is not None and 0 < options.keep_ratio <= 1:
        budget = round(options.keep_ratio * total_words)
    else:
        raise ValueError(f"keep_ratio must be in (0, 1], not {options.keep_ratio}")
    if options.domain_cap is not None and not 0 < options.domain_cap <= 1:
        raise ValueError(f"domain_cap must be in (0, 1], not {options.domain_cap}")
    chosen = _choose(pool, budget, options.domain_cap)

    out = Path(options.output)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob("*.parquet"):
        old.unlink()  # a rerun replaces the selection whole
    key = "random" if options.random_seed is not None else options.score_key
    rows_by_shard: dict[int, list[int]] = {}
    for i in chosen:
        rows_by_shard.setdefault(int(pool["shard"][i]), []).append(int(i))
    pending: list[Any] = []
    written = 0

    def flush() -> None:
        nonlocal written, pending
        if pending:
            tmp = data / f".selected-{written:05d}.parquet.tmp"
            pq.write_table(to_table(pending), tmp, compression="zstd")
            tmp.rename(data / f"selected-{written:05d}.parquet")
            written += 1
            pending = []

    for s, indices in sorted(rows_by_shard.items()):
        docs = from_table(pq.read_table(shards[s]))
        for i in indices:
            doc = docs[int(pool["row"][i])]
            doc.scores[key] = float(pool["score"][i])
            pending.append(doc)
            if len(pending) >= options.shard_rows:
                flush()
    flush()

    by_domain = Counter()
    for i in chosen:
        by_domain[pool["domain"][i]] += int(pool["words"][i])
    summary = {
        "inputs": [str(p) for p in shards],
        "ranked_by": key if options.random_seed is None else f"random (seed {options.random_seed})",
        "documents": len(pool["id"]),
        "words": total_words,
        "budget_words": budget,
        "domain_cap": options.domain_cap,
        "selected_documents": len(chosen),
        "selected_words": int(pool["words"][chosen].sum()) if len(chosen) else 0,
        "lowest_selected_score": float(pool["score"][chosen].min()) if len(chosen) else None,
        "domains": len(set(pool["domain"])),
        "selected_domains": len(by_domain),
        "top_domains": by_domain.most_common(20),
        "shards": written,
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / "selection.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
