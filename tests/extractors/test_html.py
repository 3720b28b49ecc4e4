"""The extract stage (trafilatura engine) on real pages, checked against Common Crawl's own WET text."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from extractors.html import HtmlExtractor
from extractors.warc import WarcReader
from pipeline.document import Document
from tests.conftest import TESTDATA

WHIRLWIND = TESTDATA / "warc-whirlwind"


def _pages(path) -> list[Document]:
    return [item for item in WarcReader().read(str(path)) if isinstance(item, Document)]


def _copy(doc: Document) -> Document:
    return Document(doc.id, doc.url, doc.source, doc.offset, html=doc.html)


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def page() -> Document:
    (doc,) = _pages(WHIRLWIND / "whirlwind.warc.gz")
    return doc


@pytest.fixture(scope="module")
def wet_lines() -> list[str]:
    """Common Crawl's own text of the same page (the WET conversion record), line by line."""
    with open(WHIRLWIND / "whirlwind.warc.wet.gz", "rb") as fh:
        records = ArchiveIterator(fh, record_types=WarcRecordType.conversion)
        (text,) = [record.reader.read().decode("utf-8") for record in records]
    return text.splitlines()


@pytest.fixture(scope="module")
def isolated() -> Iterator[HtmlExtractor]:
    stage = HtmlExtractor()  # the sandboxed default: one child process for the whole module
    yield stage
    stage.close()


@pytest.fixture(scope="module")
def inline() -> HtmlExtractor:
    return HtmlExtractor(isolate=False)


def test_extracts_the_article_that_common_crawl_saw(isolated, page, wet_lines) -> None:
    (doc,) = isolated.run([_copy(page)]).kept
    assert doc.html is None  # the page is let go once its text is out
    text = _words(doc.text)
    # Wikipedia articles open with their title; CC's WET has that lead sentence verbatim.
    (lead,) = [line for line in wet_lines if line.startswith("Escopete ye un municipio")]
    assert _words(lead) in text
    # Most of the WET's prose sentences are there too: the article's body.
    sentences = [line for line in wet_lines if len(line) >= 80 and line.endswith(".")]
    found = [s for s in sentences if _words(s) in text]
    assert len(sentences) >= 5 and len(found) >= len(sentences) - 2
    # The WET also has the site's chrome, which main-content extraction leaves out.
    for chrome in ("mover a la barra lateral", "Ferramientas personals", "Creative Commons"):
        assert any(chrome in line for line in wet_lines)
        assert chrome not in text
    assert len(doc.text) < sum(len(line) + 1 for line in wet_lines)


def test_empty_pages_have_no_text(isolated, page) -> None:
    docs = [_copy(page) for _ in range(3)]
    docs[0].html = "<html><head><title>t</title></head><body></body></html>"
    docs[1].html = None
    docs[2].html = "   "
    outcome = isolated.run(docs)
    assert outcome.kept == []
    assert outcome.stats.dropped == {"no_text": 3}
    assert not any(drop.quarantined for drop in outcome.dropped)


def test_pages_over_the_size_limit_are_dropped_before_parsing(page) -> None:
    assert len(page.html) > 1 << 10
    stage = HtmlExtractor(max_html_mb=1 / 1024, isolate=False)  # 1 KiB
    small = _copy(page)
    small.html = "<html><body><article><p>" + "A short page. " * 20 + "</p></article></body></html>"
    outcome = stage.run([_copy(page), small])
    assert outcome.stats.dropped == {"html_too_large": 1}
    (drop,) = outcome.dropped
    assert drop.id == page.id and str(len(page.html)) in drop.detail
    assert [d.text for d in outcome.kept] == ["A short page. " * 19 + "A short page."]


def test_isolated_and_inline_give_the_same_text(isolated, inline, page) -> None:
    pages = [page, *_pages(TESTDATA / "warc-resiliparse" / "warcfile.warc.gz")[:6]]
    assert len(pages) == 7
    apart = isolated.run([_copy(p) for p in pages])
    together = inline.run([_copy(p) for p in pages])
    assert len(apart.kept) >= 4
    assert [(d.id, d.text) for d in apart.kept] == [(d.id, d.text) for d in together.kept]
    assert apart.stats.dropped == together.stats.dropped


def test_the_stage_pickles_and_works_after_unpickling(isolated, page) -> None:
    (expected,) = isolated.run([_copy(page)]).kept
    copy = pickle.loads(pickle.dumps(isolated))
    try:
        assert copy._sandbox is None  # the child process stays behind; the copy starts its own
        assert (copy.timeout_s, copy.max_html_chars, copy.options) == (
            isolated.timeout_s,
            isolated.max_html_chars,
            isolated.options,
        )
        (doc,) = copy.run([_copy(page)]).kept
        assert copy._sandbox is not None
        assert doc.text == expected.text
    finally:
        copy.close()
