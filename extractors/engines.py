"""The two extraction engines, each parsing a page once: protect → extract → restore.

* ``trafilatura``: lxml parse (as trafilatura's own ``load_html`` does it, plus ``huge_tree``) →
  protect code and math on the tree → ``trafilatura.bare_extraction(tree)`` → headings marked on the
  output body → trafilatura's own text serialisation → code and formulas put back.
* ``resiliparse``: links, headings and boilerplate candidates marked in the raw HTML (in C when
  :mod:`extractors.native` has it) → lexbor parse (``HTMLTree.parse``) → protect code and math →
  boilerplate blocks chosen (:mod:`extractors.boilerplate`) → structure sentinels →
  ``extract_plain_text(tree, main_content=True)`` skipping the chosen blocks (unpruned when that is
  :data:`RECALL_FAILURE_RATIO` times longer than a pruned text under :data:`PRUNED_CHECK`
  characters; the whole text when under :data:`MIN_MAIN_TEXT` and the whole is longer;
  ``<noscript>`` content when still under it) → sentinels to Markdown → link lines, empty headings,
  the lines above the title and a short tail dropped (:mod:`extractors.line_rules`) → code and
  formulas put back.
* ``combined``: both; resiliparse's text when trafilatura's is empty or resiliparse's is over
  :data:`RECALL_FAILURE_RATIO` times longer (trafilatura's recall failures) or when trafilatura wrote a
  layout-table page as table rows (:data:`LAYOUT_TABLE_SHARE`), else trafilatura's text
  with the lead, prose and lists it dropped from the article (:func:`extractors.fusion.fuse`) and
  without its short lines that resiliparse's text does not have (:func:`extractors.fusion.confirm`).

:func:`extract_page` is what the sandbox child runs for one page; it only returns picklable values.
Math protection comes from :mod:`extractors.math` when that module exists; without it ``math=True``
extracts as ``math=False`` does.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Protocol

from extractors.boilerplate import SKIP, choose_boilerplate, mark_boilerplate
from extractors.codeblocks import PLACEHOLDER as CODE_PLACEHOLDER
from extractors.codeblocks import CodeTable, protect_code_lexbor, protect_code_lxml
from extractors.fusion import confirm, fuse, table_share
from extractors.guard import tame_attributes
from extractors.line_rules import apply_line_rules, mark_page, strip_marks
from extractors.structure import finish_lexbor_text, mark_headings_xml, mark_structure_lexbor

__all__ = ["ENGINES", "LINE_RULES", "TEXT_OPTIONS", "Engine", "ExtractJob", "ExtractResult", "extract_page"]

Engine = Literal["trafilatura", "resiliparse", "combined"]
ENGINES: tuple[Engine, ...] = ("trafilatura", "resiliparse", "combined")
# ``combined`` takes resiliparse's text where trafilatura's is empty or this many times shorter: there
# trafilatura has missed the main text (a recall failure), not removed boilerplate (docs/extraction.md).
RECALL_FAILURE_RATIO = 3.0
# ``combined`` takes resiliparse's text where over this share of trafilatura's is table rows and the
# fast engine, which writes rows for data tables only (extractors.structure), wrote none: the page is
# laid out in tables, which trafilatura writes row by row and resiliparse reads as text.
LAYOUT_TABLE_SHARE = 0.5
# Under this many characters of pruned main content the resiliparse engine also extracts the page
# unpruned, and takes that when RECALL_FAILURE_RATIO times longer: the pruning removed the article.
# Only a bound on the cost (a second extraction): 2,000 or no bound at all changed no development page.
PRUNED_CHECK = 1000
# Under this many characters of main content the resiliparse engine takes the page's whole text, if
# longer: trafilatura's rescue (MIN_EXTRACTED_SIZE, then its baseline on the whole page, core.py).
MIN_MAIN_TEXT = 250
# resiliparse's extract_plain_text options of the fast engine (comments and skipped elements come from
# the job); the benchmarks time resiliparse alone with the same ones.
TEXT_OPTIONS: dict[str, Any] = {
    "preserve_formatting": True,
    "list_bullets": True,  # "•" and "1." items, turned into Markdown "- " / "1. " with structure on
    "alt_texts": False,  # as trafilatura (include_images off): alt texts are mostly "logo", "icon"
    "links": False,
    "form_fields": False,
    "noscript": False,
}
# The fast engine's line-rule switches of ExtractJob (extractors.line_rules); the benchmarks turn them
# off by these names.
LINE_RULES: tuple[str, ...] = ("link_density", "empty_headings", "title_start", "prose_end")
# The code and formula placeholders: a line that holds one is content, whatever the line rules would
# say of its links or of an empty heading. The formula one is extractors.math.table's PLACEHOLDER_RE
# prefix, spelled here because extractors.math is optional (see _math_module).
_PLACEHOLDERS = (CODE_PLACEHOLDER, "CCSVMATH")


class _Restorer(Protocol):
    def restore(self, text: str) -> str: ...


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """One page and every option that shapes its extraction; sent to the sandbox child as is."""

    html: str
    url: str | None = None
    engine: Engine = "trafilatura"
    math: bool = True
    code: bool = True
    structure: bool = True
    favor_precision: bool = False
    favor_recall: bool = False
    include_tables: bool = True
    include_comments: bool = True  # trafilatura's own default
    prune: bool = True  # resiliparse only: boilerplate blocks skipped (extractors.boilerplate)
    link_density: bool = True  # resiliparse only: short lines of mostly link text dropped (line_rules)
    empty_headings: bool = True  # resiliparse only: headings left with nothing under them dropped
    title_start: bool = True  # resiliparse only: lines above the first <h1> dropped unless prose
    prose_end: bool = True  # resiliparse only: up to 5 short lines after the last prose line dropped


@dataclass(frozen=True, slots=True)
class ExtractResult:
    """The extracted text (``None``: nothing extracted), or the reason the page could not be parsed."""

    text: str | None
    reason: str | None = None
    detail: str | None = None
    attributes_cut: int = 0


def extract_page(job: ExtractJob) -> ExtractResult:
    """Extract one page with the job's engine. Module-level so the sandbox child can import it."""
    html, cut = tame_attributes(job.html)
    if job.engine == "trafilatura":
        result = _trafilatura(job, html)
    elif job.engine == "resiliparse":
        result = _resiliparse(job, html)
    elif job.engine == "combined":
        result = _combined(job, html)
    else:
        raise ValueError(f"unknown engine {job.engine!r}; expected one of {ENGINES}")
    if cut:
        return ExtractResult(result.text, result.reason, result.detail, attributes_cut=cut)
    return result


def _restore(text: str | None, tables: list[_Restorer | None]) -> str | None:
    if text is None:
        return None
    for table in tables:
        if table is not None:
            text = table.restore(text)
    return text


@cache
def _math_module() -> Any:
    # Absent module: math stays off. A module that exists but fails to import must fail loudly.
    if importlib.util.find_spec("extractors.math") is None:
        return None
    return importlib.import_module("extractors.math")


# --- trafilatura -------------------------------------------------------------------------------


@cache
def _lxml_parser() -> Any:
    import lxml.html

    # trafilatura's own parser settings, plus huge_tree: without it libxml2 stops at 256 levels of
    # nesting (unclosed <font> or <div> runs reach that) and silently drops the rest of the page;
    # with it the limit is 2048, and a page past that is refused below instead of cut short.
    return lxml.html.HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        huge_tree=True,
    )


def _parse_lxml(html: str) -> tuple[Any, str | None]:
    """Parse like ``trafilatura.utils.load_html`` does; return (tree or None, refusal reason)."""
    import lxml.html
    from trafilatura.utils import is_dubious_html, repair_faulty_html

    parser = _lxml_parser()
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    tree = None
    fallback = False
    try:
        tree = lxml.html.fromstring(html, parser=parser)
    except ValueError:  # a str that declares its encoding (<?xml ... encoding=...?>): parse bytes
        tree, fallback = _parse_bytes(html, parser), True
    except Exception:  # lxml refuses some pages outright; trafilatura then tries bytes, as here
        tree = None
    if (tree is None or len(tree) < 1) and not fallback:
        tree = _parse_bytes(html, parser)
    if any("Excessive depth" in entry.message for entry in parser.error_log):
        return None, "html_too_deep"
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        tree = None  # trafilatura's "not valid HTML" rule: a bare fragment with a single block
    return tree, None


def _parse_bytes(html: str, parser: Any) -> Any:
    import lxml.html

    try:
        return lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except Exception:
        return None


def _trafilatura(job: ExtractJob, html: str) -> ExtractResult:
    from trafilatura import bare_extraction
    from trafilatura.core import determine_returnstring
    from trafilatura.settings import Extractor

    tree, reason = _parse_lxml(html)
    if reason is not None:
        return ExtractResult(None, reason, "nesting deeper than 2048 levels")
    if tree is None:
        return ExtractResult(None)
    codes: CodeTable | None = protect_code_lxml(tree) if job.code else None
    math = _math_module() if job.math else None
    formulas = math.protect_math_lxml(tree) if math is not None else None
    # The options trafilatura.extract() builds for these arguments; deduplicate stays off.
    options = Extractor(
        output_format="txt",
        precision=job.favor_precision,
        recall=job.favor_recall,
        comments=job.include_comments,
        tables=job.include_tables,
        dedup=False,
        url=job.url,
    )
    document = bare_extraction(tree, options=options)
    if document is None:
        return ExtractResult(None)
    if job.structure:
        mark_headings_xml(document.body)
        mark_headings_xml(document.commentsbody)
    text = determine_returnstring(document, options)
    return ExtractResult(_restore(text, [codes, formulas]))


def _combined(job: ExtractJob, html: str) -> ExtractResult:
    """trafilatura's text with the prose it dropped and without the short lines only it has, or
    resiliparse's where trafilatura missed the main text or wrote a layout-table page as rows."""
    precise = _trafilatura(job, html)
    if precise.reason is not None:  # trafilatura refused the page (too deep): resiliparse may not
        return _resiliparse(job, html)
    broad = _resiliparse(job, html)
    if not broad.text:
        return precise
    if not precise.text or len(broad.text) > RECALL_FAILURE_RATIO * len(precise.text):
        return broad
    # the test needs the fast engine's table rows, which only its structure marks write
    if job.structure and table_share(precise.text) > LAYOUT_TABLE_SHARE and not table_share(broad.text):
        return broad
    return ExtractResult(confirm(fuse(precise.text, broad.text), broad.text))


# --- resiliparse -------------------------------------------------------------------------------


def _main_text(tree: Any, options: dict[str, Any], pruned_skip: list[str] | None) -> str:
    """resiliparse's main content of ``tree``, skipping ``pruned_skip`` (the chosen blocks; ``None``:
    nothing was chosen), with the engine's rescues for the pages where that finds (almost) nothing."""
    from resiliparse.extract.html2text import extract_plain_text

    pruned = {**options, "skip_elements": pruned_skip} if pruned_skip else options
    text = extract_plain_text(tree, main_content=True, **pruned)
    if pruned_skip and len(text.strip()) < PRUNED_CHECK:
        # the pruning took the article (a "sidebar" layout class on its wrapper, "-ad-" on its
        # section): trafilatura's backup rule, on the output, with the combined engine's ratio
        unpruned = extract_plain_text(tree, main_content=True, **options)
        if len(unpruned.strip()) > RECALL_FAILURE_RATIO * len(text.strip()):
            text = unpruned
    if len(text.strip()) < MIN_MAIN_TEXT:
        # resiliparse found (almost) no main content: the page's whole text, pruned, if it has more
        whole = extract_plain_text(tree, main_content=False, **pruned)
        if len(whole.strip()) > len(text.strip()):
            text = whole
    if len(text.strip()) < MIN_MAIN_TEXT and tree.body is not None and tree.body.query_selector("noscript"):
        # a <noscript> left open swallows the rest of the page: lexbor parses with scripting off, so
        # its content is markup, which resiliparse skips with noscript=False
        unhidden = extract_plain_text(tree, main_content=True, **{**pruned, "noscript": True})
        if len(unhidden.strip()) > len(text.strip()):
            text = unhidden
    return text


def _resiliparse(job: ExtractJob, html: str) -> ExtractResult:
    from resiliparse.parse.html import HTMLTree

    rules_on = any(getattr(job, rule) for rule in LINE_RULES)
    marked = mark_page(html) if rules_on else None
    rules = marked is not None
    html = marked if marked is not None else html
    tree = HTMLTree.parse(mark_boilerplate(html) if job.prune else html)
    codes = protect_code_lexbor(tree, strip_marks if rules else None) if job.code else None
    math = _math_module() if job.math else None
    formulas = math.protect_math_lexbor(tree) if math is not None else None
    chosen = choose_boilerplate(tree) if job.prune else 0
    if job.structure:
        mark_structure_lexbor(tree)
    tables = [] if job.include_tables else ["table"]
    options = {**TEXT_OPTIONS, "comments": job.include_comments, "skip_elements": tables or None}
    text = _main_text(tree, options, [*tables, SKIP] if chosen else None)
    if job.structure:
        text = finish_lexbor_text(text)
    if not rules:
        return ExtractResult(_restore(text, [codes, formulas]))
    text = apply_line_rules(
        text, job.link_density, job.empty_headings, _PLACEHOLDERS, job.title_start, job.prose_end
    )
    restored = _restore(text, [codes, formulas])
    return ExtractResult(restored if restored is None else strip_marks(restored))
