"""Domains and chunks: how documents are grouped and sampled for the BPB job.

A document's domain is the registered domain of its URL (``news.bbc.co.uk`` -> ``bbc.co.uk``; with the
public suffix list's private part, ``someone.github.io`` stays itself), from tldextract's bundled
snapshot of the list: nothing is fetched. Hosts without a registered domain (placeholders such as
``*.example``) are not lumped together: each such URL is its own group. Documents are cut into chunks
of about ``chunk_words`` words at whitespace, and at most ``chunks_per_domain`` chunks are drawn per
domain with a seed.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.parquet as pq

__all__ = [
    "Chunk",
    "PoolDocument",
    "chunk_text",
    "domain_token_counts",
    "read_pool",
    "registered_domain",
    "sample_chunks",
]

_WORDS = re.compile(r"\S+")


@lru_cache(maxsize=1)
def _extractor() -> Any:
    import tldextract

    # suffix_list_urls=() and no cache: the snapshot inside the wheel, never a download.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@lru_cache(maxsize=65536)
def registered_domain(url: str) -> str:
    """The registered domain of ``url``, lowercased. A host without one is no grouping evidence: an
    IP address stands for itself (the host), and a name under no public suffix (``*.example``,
    ``localhost``, intranet names) leaves the URL alone in its group (the URL without its fragment),
    as does a URL with no host at all (the whole string). ``""`` only for an empty URL."""
    url = url.strip()
    try:
        parts_of_url = urlsplit(url)
        host = (parts_of_url.hostname or "").lower().rstrip(".")
    except ValueError:
        return url
    if not host:
        return url
    parts = _extractor()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    if parts.ipv4 or ":" in host:
        return host
    return parts_of_url._replace(fragment="").geturl()


@dataclass(frozen=True, slots=True)
class PoolDocument:
    """A document of the candidate pool: its id, domain, text and word count."""

    id: str
    domain: str
    text: str
    words: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of one document, scored by every model of the zoo."""

    domain: str
    doc_id: str
    index: int
    text: str


def read_pool(paths: Iterable[str | Path]) -> Iterator[PoolDocument]:
    """Documents of ccsieve shards (files or output folders), with their domains; rows without a URL
    or text are skipped (their count is the caller's to report: compare with the row count)."""
    from pipeline.training.shards import find_shards

    for shard in find_shards(paths):
        table = pq.read_table(shard, columns=["id", "url", "text"])
        columns = (table.column(c).to_pylist() for c in ("id", "url", "text"))
        for doc_id, url, text in zip(*columns, strict=True):
            domain = registered_domain(url or "")
            if domain and text:
                yield PoolDocument(doc_id, domain, text, len(_WORDS.findall(text)))


def chunk_text(text: str, chunk_words: int) -> list[str]:
    """Consecutive pieces of about ``chunk_words`` words, cut at whitespace; a short last piece is
    merged into the one before it, so no chunk has fewer than ``chunk_words // 2`` words unless the
    document does."""
    words = _WORDS.findall(text)
    if not words:
        return []
    pieces = [words[i : i + chunk_words] for i in range(0, len(words), chunk_words)]
    if len(pieces) > 1 and len(pieces[-1]) < chunk_words // 2:
        pieces[-2].extend(pieces.pop())
    return [" ".join(p) for p in pieces]


def sample_chunks(
    docs: Iterable[PoolDocument],
    *,
    chunk_words: int = 256,
    chunks_per_domain: int = 16,
    min_chunks: int = 1,
    seed: int = 0,
) -> list[Chunk]:
    """At most ``chunks_per_domain`` chunks per domain, drawn with ``seed`` from all its documents'
    chunks; domains with fewer than ``min_chunks`` chunks are left out. Sorted by domain, then
    document and position, so the chunk set (and the BPB cache keyed by it) is reproducible."""
    by_domain: dict[str, list[Chunk]] = defaultdict(list)
    for doc in docs:
        for i, piece in enumerate(chunk_text(doc.text, chunk_words)):
            by_domain[doc.domain].append(Chunk(doc.domain, doc.id, i, piece))
    out: list[Chunk] = []
    for domain in sorted(by_domain):
        chunks = sorted(by_domain[domain], key=lambda c: (c.doc_id, c.index))
        if len(chunks) < min_chunks:
            continue
        if len(chunks) > chunks_per_domain:
            rng = random.Random(f"{seed}:{domain}")
            chunks = sorted(rng.sample(chunks, chunks_per_domain), key=lambda c: (c.doc_id, c.index))
        out.extend(chunks)
    return out


def domain_token_counts(docs: Sequence[PoolDocument]) -> dict[str, int]:
    """Words per domain over the whole pool: the ``tokens_j`` of the projection's caps."""
    counts: dict[str, int] = defaultdict(int)
    for doc in docs:
        counts[doc.domain] += doc.words
    return dict(counts)
