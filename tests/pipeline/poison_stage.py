"""A stage that kills its process on a marked document: the poison pill of the isolation tests.

Registered only when this module is imported: a test config names it under ``plugins``, so every
process that builds the stages (runner workers, Ray actors, isolation children) imports it too.
"""

from __future__ import annotations

import os
import time

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Filter, Verdict

MARKER = "POISON-PILL-7f3a"


@register
class PoisonPill(Filter):
    """Keeps every document, except that a text containing ``marker`` ends the process.

    ``mode``: ``exit`` (``os._exit(1)``, as a crash in native code looks from outside), ``abort``
    (SIGABRT) or ``hang`` (sleeps far past any time limit). ``crash_in_setup`` ends the process in
    :meth:`setup` instead, before any document (a broken model, not a poison document).
    """

    name = "poison_pill"

    def __init__(self, marker: str = MARKER, mode: str = "exit", crash_in_setup: bool = False) -> None:
        super().__init__()
        if mode not in ("exit", "abort", "hang"):
            raise ValueError(f"mode must be exit, abort or hang, not {mode!r}")
        self.marker = marker
        self.mode = mode
        self.crash_in_setup = crash_in_setup

    def setup(self) -> None:
        if self.crash_in_setup:
            os._exit(3)

    def check(self, doc: Document) -> Verdict:
        if self.marker in (doc.text or doc.html or ""):
            if self.mode == "exit":
                os._exit(1)
            if self.mode == "abort":
                os.abort()
            time.sleep(3600)
        return None
