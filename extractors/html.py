"""HTML → main text, as a pipeline stage."""

from __future__ import annotations

from typing import Any

from extractors.sandbox import Sandbox, SandboxCrashed, SandboxTimeout
from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Drop, Mapper

__all__ = ["TrafilaturaExtractor"]


def _trafilatura_extract(job: tuple[str, str, dict[str, Any]]) -> str | None:
    import trafilatura

    html, url, options = job
    return trafilatura.extract(html, url=url or None, **options)


@register
class TrafilaturaExtractor(Mapper):
    """Main-content extraction with trafilatura, bounded in time and size per page.

    Each page runs in a sandboxed child process (``timeout_s`` per page, ``memory_mb`` cap) so a
    pathological page costs at most the timeout, never the worker. trafilatura's ``deduplicate``
    stays off: its cache spans documents and makes reruns give different text.
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
        include_comments: bool = False,
        isolate: bool = True,
    ) -> None:
        super().__init__()
        self.timeout_s = timeout_s
        self.max_html_chars = int(max_html_mb * (1 << 20))
        self.memory_mb = memory_mb
        self.isolate = isolate
        self.options: dict[str, Any] = {
            "favor_precision": favor_precision,
            "favor_recall": favor_recall,
            "include_tables": include_tables,
            "include_comments": include_comments,
            "deduplicate": False,
            "output_format": "txt",
        }
        self._sandbox: Sandbox | None = None

    def setup(self) -> None:
        if self.isolate:
            self._sandbox = Sandbox(_trafilatura_extract, self.timeout_s, self.memory_mb)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_sandbox"] = None  # a worker starts its own child process
        state["_ready"] = False
        return state

    def map(self, doc: Document) -> Document:
        html = doc.html or ""
        if len(html) > self.max_html_chars:
            raise Drop("html_too_large", detail=f"{len(html)} characters")
        job = (html, doc.url, self.options)
        if self._sandbox is None:
            text = _trafilatura_extract(job)
        else:
            try:
                text = self._sandbox.call(job)
            except SandboxTimeout as exc:
                raise Drop("extract_timeout", quarantine=True, detail=str(exc)) from None
            except SandboxCrashed as exc:
                raise Drop("extract_crashed", quarantine=True, detail=str(exc)) from None
        if not text or not text.strip():
            raise Drop("no_text")
        doc.text = text
        doc.html = None
        return doc
