"""Registered domains, chunks and the per-domain sample."""

from __future__ import annotations

from filters.perplexity_correlations.domains import (
    PoolDocument,
    chunk_text,
    domain_token_counts,
    registered_domain,
    sample_chunks,
)


def test_registered_domain() -> None:
    assert registered_domain("https://news.bbc.co.uk/a?b=1") == "bbc.co.uk"
    assert registered_domain("http://WWW.Example.COM./x") == "example.com"
    assert registered_domain("https://someone.github.io/blog") == "someone.github.io"  # private suffix
    assert registered_domain("http://192.168.0.1:8080/x") == "192.168.0.1"
    # No registered domain: the page is its own group, not lumped with every other placeholder page.
    assert registered_domain("https://pages.example/1#top") == "https://pages.example/1"
    assert registered_domain("https://pages.example/2") != registered_domain("https://pages.example/1")
    assert registered_domain("hard::blog.python.org.html") == "hard::blog.python.org.html"  # no host
    assert registered_domain("") == ""


def test_chunks_cut_at_whitespace_and_merge_a_short_tail() -> None:
    text = " ".join(f"w{i}" for i in range(240))
    pieces = chunk_text(text, 100)
    assert [len(p.split()) for p in pieces] == [100, 140]  # the 40-word tail joined the second chunk
    assert " ".join(pieces).split() == text.split()
    assert chunk_text("  \n ", 100) == []
    assert [len(p.split()) for p in chunk_text(" ".join(["x"] * 260), 100)] == [100, 100, 60]


def _docs() -> list[PoolDocument]:
    words = " ".join(["word"] * 100)
    return [
        PoolDocument(f"{d}-{i}", d, words, 100)
        for d in ("a.com", "b.com", "c.com")
        for i in range(30 if d == "a.com" else 2)
    ]


def test_sample_is_capped_per_domain_and_reproducible() -> None:
    docs = _docs()
    sample = sample_chunks(docs, chunk_words=50, chunks_per_domain=8, seed=1)
    per_domain = {d: sum(c.domain == d for c in sample) for d in ("a.com", "b.com", "c.com")}
    assert per_domain == {"a.com": 8, "b.com": 4, "c.com": 4}
    assert sample == sample_chunks(list(reversed(docs)), chunk_words=50, chunks_per_domain=8, seed=1)
    assert sample != sample_chunks(docs, chunk_words=50, chunks_per_domain=8, seed=2)
    assert {c.domain for c in sample_chunks(docs, chunk_words=50, min_chunks=5)} == {"a.com"}
    assert domain_token_counts(docs) == {"a.com": 3000, "b.com": 200, "c.com": 200}
