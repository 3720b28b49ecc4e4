"""Formulas kept as LaTeX through boilerplate removal: protect before extraction, restore after.

Public API (used by :mod:`extractors.engines`)::

    table = protect_math_lxml(root)       # or protect_math_lexbor(tree); mutates the tree
    text = extract(...)                   # trafilatura or resiliparse on the same tree
    text = table.restore(text)            # $inline$, $$display$$ on its own line, other $ as \\$

:func:`find_formulas_lxml` lists a page's formulas without touching the caller's tree (evaluation).
What is covered, the placeholder design and the measured figures: ``docs/extraction.md``, "Math".
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from extractors.math.core import protect
from extractors.math.dom import LexborDom, LxmlDom
from extractors.math.table import Formula, FormulaTable

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from resiliparse.parse.html import HTMLTree

__all__ = ["Formula", "FormulaTable", "find_formulas_lxml", "protect_math_lexbor", "protect_math_lxml"]


def protect_math_lxml(root: HtmlElement) -> FormulaTable:
    """Replace every formula of an lxml tree by a placeholder (in place); return their table."""
    return protect(LxmlDom(root))


def protect_math_lexbor(tree: HTMLTree) -> FormulaTable:
    """Replace every formula of a resiliparse tree by a placeholder (in place); return their table."""
    return protect(LexborDom(tree))


def find_formulas_lxml(root: HtmlElement) -> list[Formula]:
    """The formulas of an lxml tree in document order; the tree itself is left as it was."""
    return protect_math_lxml(copy.deepcopy(root)).formulas
