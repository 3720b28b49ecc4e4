"""A quick main-content text dump of a page, for judging it before the real extraction.

Lives in its own small module because it runs in a sandboxed child (``language_prefilter``): the child
imports only this module and resiliparse, not the pipeline.
"""

from __future__ import annotations

__all__ = ["visible_text"]


def visible_text(job: tuple[str, int]) -> str:
    """The first ``max_chars`` characters of resiliparse's main-content dump; ``job`` = (html, max_chars)."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    html, max_chars = job
    tree = HTMLTree.parse(html)
    text = extract_plain_text(
        tree, main_content=True, alt_texts=False, links=False, form_fields=False, noscript=False
    )
    return text[:max_chars]
