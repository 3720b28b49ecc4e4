"""HTML → main text, as a pipeline stage: two engines behind one ``extract`` stage."""

from __future__ import annotations

from typing import Any

from extractors.engines import ENGINES, Engine, ExtractJob, ExtractResult, extract_page
from extractors.sandbox import Sandbox, SandboxCrashed, SandboxOutOfMemory, SandboxTimeout
from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Drop, Mapper

__all__ = ["HtmlExtractor", "TrafilaturaExtractor"]

# A page small enough to extract in milliseconds: sent once at setup so the child has imported its
# engine before the first real page, whose time limit should not pay for interpreter start-up.
_WARM_UP_PAGE = "<html><body><article><h1>ccsieve</h1><p>warm-up page</p></article></body></html>"


def _trafilatura_extract(job: tuple[str, str, dict[str, Any]]) -> str | None:
    """Plain ``trafilatura.extract`` of one page: the baseline the engines are measured against."""
    import trafilatura

    html, url, options = job
    return trafilatura.extract(html, url=url or None, **options)


@register
class HtmlExtractor(Mapper):
    """Main-content extraction (trafilatura or resiliparse), bounded in time and size per page.

    ``engine``: ``trafilatura`` (default; lxml parse), ``resiliparse`` (lexbor, four to seven times
    faster) or ``combined`` (both: trafilatura's text plus the lead, prose and lists it dropped
    inside the article, less its short lines resiliparse does not have; resiliparse's text where trafilatura
    missed the main text or wrote a layout-table page as table rows; the best of the three on every
    shared set, about a quarter slower than trafilatura, docs/extraction.md).
    ``math`` keeps formulas as LaTeX (needs :mod:`extractors.math`), ``code`` keeps
    ``<pre>``/``<code>`` byte-exact as fenced blocks and inline spans, ``structure`` writes headings,
    list items and table rows as Markdown (``# ``, ``- ``, ``| a | b |``). ``prune`` (resiliparse only)
    skips boilerplate blocks by trafilatura's markup vocabulary in the extraction
    (:mod:`extractors.boilerplate`); ``link_density`` (resiliparse only) drops the short lines that are
    mostly link text, by trafilatura's link-density test, ``empty_headings`` (resiliparse only) the
    headings left with nothing under them, ``title_start`` (resiliparse only) the lines above the
    page's first ``<h1>`` when none reads as prose, and ``prose_end`` (resiliparse only) up to five
    lines after the last line of prose (:mod:`extractors.line_rules`).

    Each page runs in a sandboxed child process (``timeout_s`` per page, ``memory_mb`` cap) that does
    the whole parse → protect → extract → restore, so a pathological page costs at most the timeout,
    never the worker. Tags with more than 1,000 attributes are cut before parsing (parsers are
    quadratic in them) and the trafilatura engine refuses pages nested deeper than lxml can parse
    (``html_too_deep``) instead of returning their first part. trafilatura's ``deduplicate`` stays off:
    its cache spans documents and makes reruns give different text.
    """

    name = "extract"

    def __init__(
        self,
        timeout_s: float = 5.0,
        max_html_mb: float = 4.0,
        memory_mb: int | None = 4096,
        favor_precision: bool = False,
        favor_recall: bool = False,
        include_tables: bool = True,
        include_comments: bool = True,
        isolate: bool = True,
        engine: Engine = "trafilatura",
        math: bool = True,
        code: bool = True,
        structure: bool = True,
        prune: bool = True,
        link_density: bool = True,
        empty_headings: bool = True,
        title_start: bool = True,
        prose_end: bool = True,
    ) -> None:
        super().__init__()
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.timeout_s = timeout_s
        self.max_html_chars = int(max_html_mb * (1 << 20))
        self.memory_mb = memory_mb
        self.isolate = isolate
        self.engine: Engine = engine
        self.options: dict[str, Any] = {
            "engine": engine,
            "math": math,
            "code": code,
            "structure": structure,
            "favor_precision": favor_precision,
            "favor_recall": favor_recall,
            "include_tables": include_tables,
            "include_comments": include_comments,
            "prune": prune,
            "link_density": link_density,
            "empty_headings": empty_headings,
            "title_start": title_start,
            "prose_end": prose_end,
        }
        self._sandbox: Sandbox | None = None

    def setup(self) -> None:
        if self.isolate:
            self._sandbox = Sandbox(extract_page, self.timeout_s, self.memory_mb)
            try:
                self._sandbox.call(ExtractJob(_WARM_UP_PAGE, **self.options))
            except (SandboxTimeout, SandboxCrashed, SandboxOutOfMemory, RuntimeError):
                pass  # the first real page restarts the child and reports what goes wrong there

    def close(self) -> None:
        """Stop the child process now rather than when the stage is collected."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
            self._ready = False

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_sandbox"] = None  # a worker starts its own child process
        state["_ready"] = False
        return state

    def extract(self, html: str, url: str | None = None) -> ExtractResult:
        """Extract one page (in the child when isolated); raises :class:`Drop` for a bounded failure."""
        if len(html) > self.max_html_chars:
            raise Drop("html_too_large", detail=f"{len(html)} characters")
        job = ExtractJob(html, url or None, **self.options)
        if self._sandbox is None:
            return extract_page(job)
        try:
            result: ExtractResult = self._sandbox.call(job)
        except SandboxTimeout as exc:
            raise Drop("extract_timeout", quarantine=True, detail=str(exc)) from None
        except SandboxCrashed as exc:
            raise Drop("extract_crashed", quarantine=True, detail=str(exc)) from None
        except SandboxOutOfMemory as exc:
            raise Drop("extract_memory", quarantine=True, detail=str(exc)) from None
        return result

    def map(self, doc: Document) -> Document:
        result = self.extract(doc.html or "", doc.url)
        if result.reason is not None:
            # The parser could not read the page whole: a failure to replay (e.g. with the other
            # engine), not a judgement on the page.
            raise Drop(result.reason, quarantine=True, detail=result.detail)
        if not result.text or not result.text.strip():
            raise Drop("no_text")
        if result.attributes_cut:
            doc.metadata["extract_attribute_tags_cut"] = str(result.attributes_cut)
        doc.text = result.text
        doc.html = None
        return doc


# The stage's name before it had two engines; kept so existing imports keep working.
TrafilaturaExtractor = HtmlExtractor
