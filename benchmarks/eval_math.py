"""Formula recall and precision of the math pass (``extractors.math``) against the gold formulas.

Data (../shared/testdata; read math-pages/SOURCE.md and math-wikipedia/SOURCE.md):

* math-pages: every ``<name>.html.gz`` with its ``<name>.gold.txt`` (``D``/``I`` TAB LaTeX, document
  order, whitespace runs collapsed). Empty gold files (Stack Exchange, no-math controls) count every
  emitted formula as false. mathjax3-chtml has no gold (its TeX is not in the markup): only the
  count and the display split are checked there, against SOURCE.md's 13 (8 display, 5 inline).
* math-wikipedia: the gold is derived here from the markup, independently of the extractor: an lxml
  parse of the page, the text of every ``annotation[@encoding="application/x-tex"]``, whitespace
  collapsed, display when its ``<math>`` has ``display="block"``.
* math-labelled (``benchmarks/math-labelled``, ours; read its SOURCE.md): real markup for the patterns
  math-pages lacks (codecogs images, a full LaTeXML page, MathJax 2 AsciiMath, MathJax 3 with a TeX
  copy, WordPress KaTeX with presentation MathML only, a price-table control), same gold format.
  Assembled after the pass was written, so all of it counts as holdout.

Modes: (a) ``find_formulas_lxml`` on the parsed page; (b) end to end with trafilatura: protect →
``trafilatura.extract(root, output_format="txt", deduplicate=False, include_tables=True)`` → restore,
formulas parsed back out of ``$..$`` / ``$$..$$``; (c) the same with resiliparse:
``protect_math_lexbor`` → ``extract_plain_text(tree, main_content=True)`` → restore.

Metrics, per page and summed: a formula is a true positive when its LaTeX equals a gold line's
(multiset match: ``exact`` compares the strings as emitted, ``norm`` after SOURCE.md's whitespace
collapse); ``dup`` counts emissions of a gold formula beyond its gold count; ``false`` counts emitted
formulas that are no gold line; ``kind`` counts matched formulas whose D/I differs. Gold lines that
only occur inside HTML comments (not page content; the engine's parser drops comments) are listed as
``in comments`` and a recall without them is given too. In (b) and (c) a formula that (a) found but
the output lacks is "lost with its text" when most words around its placeholder are missing from the
output as well (the extractor dropped the block), else "lost alone"; in brackets, how many of the
former have their text missing from the same extractor's output without the math pass too (it
dropped the block either way). ``recall of kept text`` leaves the lost-with-text ones out.

Holdout: the pages in ``HOLDOUT`` were not looked at while the pass was developed; they are reported
apart. bench-warc (646 news/blog/portal pages, the two math-wikipedia pages left out) measures false
formulas on pages without math, and the pass's speed (best of 3 per page, one core, parse excluded).

Usage (from the repository root)::

    .venv/bin/python benchmarks/eval_math.py [--no-bench] [--no-holdout] [--verbose]
"""

from __future__ import annotations

import argparse
import gzip
import html as htmllib
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import lxml.html  # noqa: E402
import trafilatura  # noqa: E402
from resiliparse.extract.html2text import extract_plain_text  # noqa: E402
from resiliparse.parse.html import HTMLTree  # noqa: E402

from extractors.http import decode_html  # noqa: E402 -- after the sys.path line above
from extractors.math import find_formulas_lxml, protect_math_lexbor, protect_math_lxml  # noqa: E402
from extractors.math.dom import LexborDom, LxmlDom  # noqa: E402
from extractors.math.table import FILLER_WORDS  # noqa: E402
from extractors.warc import WarcReader  # noqa: E402

LABELLED = Path(__file__).resolve().parent / "math-labelled"
HOLDOUT = {
    "latex-img/tao-type-diagram-function-spaces",
    "raw-delimiters/yuriever-spinor-helicity",
    "raw-delimiters/underactuated-lqr",
    "bbcode-latex/uedalab-prob-robot-2016-04",
    "no-math-controls/scienceforums-photon-absorption",
    "stackexchange/puzzling-se-duplo-digit",
    "math-wikipedia/wikipedia-3",
}
NO_GOLD_COUNTS = {"mathjax3-chtml/mathjax-demo-mml-chtml-rendered": (13, 8)}  # SOURCE.md: 8 D, 5 I
BENCH_MATH_URLS = {  # the two math-wikipedia pages are in bench-warc too; the labelled eval covers them
    "https://en.wikipedia.org/wiki/T-distributed_stochastic_neighbor_embedding",
    "https://extraction-mozilla-readability.example/wikipedia-3",
}
PLACEHOLDER = re.compile(r"CCSVMATH(\d+)[ID]")
PLACEHOLDER_TEXT = re.compile(rf"CCSVMATH\d+[ID](?:\s+(?:{'|'.join(FILLER_WORDS)})\b)*")
Item = tuple[str, str]  # (kind "D"/"I", latex)


def norm(text: str) -> str:
    return " ".join(text.split())


def tex_norm(text: str) -> str:
    """Spacing and single-character script braces removed, where TeX reads both the same
    (``V = I \\cdot R`` = ``V=I\\cdot R``, ``s_{i}`` = ``s_i``): for formulas the page holds only as
    MathML or AsciiMath, whose TeX gold was converted by hand."""
    text = re.sub(r"([_^])\{(\w)\}", r"\1\2", norm(text))
    return re.sub(r"(?<![A-Za-z]) | (?![A-Za-z])", "", text)  # a space between letters may end a command


def parser() -> lxml.html.HTMLParser:
    # the trafilatura engine's parser settings (comments and PIs removed, huge_tree)
    return lxml.html.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                                remove_comments=True, remove_pis=True, huge_tree=True)  # fmt: skip


def parse_lxml(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=parser())


@dataclass
class Page:
    name: str
    html: str
    gold: list[Item] | None
    holdout: bool
    in_comments: set[int] = field(default_factory=set)  # indices of gold lines inside HTML comments


def gold_in_comments(html: str, gold: list[Item]) -> set[int]:
    """Gold lines whose occurrence, searched in document order in the raw page, lies in a comment."""
    text = htmllib.unescape(html)
    comments = [m.span() for m in re.finditer(r"<!--.*?-->", text, re.DOTALL)]
    found, cursor = set(), 0
    for index, (_, latex) in enumerate(gold):
        pattern = r"\s+".join(map(re.escape, latex.split()))
        match = re.compile(pattern).search(text, cursor) if pattern else None
        if match is None:
            continue
        cursor = match.end()
        if any(start <= match.start() < end for start, end in comments):
            found.add(index)
    return found


def wikipedia_gold(html: str) -> list[Item]:
    root = lxml.html.fromstring(html.encode("utf-8"))
    gold = []
    for annotation in root.xpath('//annotation[@encoding="application/x-tex"]'):
        math = next(annotation.iterancestors("math"), None)
        display = math is not None and math.get("display") == "block"
        gold.append(("D" if display else "I", norm(annotation.text_content())))
    return gold


def load_pages() -> list[Page]:
    pages = []
    # math-labelled (ours, assembled after the pass was written: every page counts as holdout)
    shared = sorted((TESTDATA / "math-pages").glob("*/*.html.gz"))
    for path in [*shared, *sorted(LABELLED.glob("*/*.html.gz"))]:
        name = f"{path.parent.name}/{path.name.removesuffix('.html.gz')}"
        if path.is_relative_to(LABELLED):
            name = f"labelled:{name}"
        html = decode_html(gzip.decompress(path.read_bytes()), None)[0]
        gold_path = path.with_name(path.name.replace(".html.gz", ".gold.txt"))
        gold = None
        if gold_path.is_file():
            lines = gold_path.read_text(encoding="utf-8").splitlines()
            gold = [(line[0], line[2:]) for line in lines if line.strip()]
        holdout = name in HOLDOUT or name.startswith("labelled:")
        pages.append(Page(name, html, gold, holdout, gold_in_comments(html, gold or [])))
    for path in sorted((TESTDATA / "math-wikipedia").glob("*.html.gz")):
        name = f"math-wikipedia/{path.name.removesuffix('.html.gz')}"
        html = decode_html(gzip.decompress(path.read_bytes()), None)[0]
        pages.append(Page(name, html, wikipedia_gold(html), name in HOLDOUT))
    return pages


def formulas_from_text(text: str) -> list[Item]:
    """``$$..$$`` (D) and ``$..$`` (I) in restored text; ``\\$`` is a literal dollar."""
    found: list[Item] = []
    pos = 0
    while (start := _next_dollar(text, pos)) != -1:
        display = text.startswith("$$", start)
        close = text.find("$$", start + 2) if display else _closing_dollar(text, start + 1)
        if close == -1:
            break
        found.append(("D" if display else "I", text[start + (2 if display else 1) : close]))
        pos = close + (2 if display else 1)
    return found


def _closing_dollar(text: str, pos: int) -> int:
    """The ``$`` that closes inline math opened before ``pos``: one outside braces, since TeX allows
    ``$`` inside ``\\mbox{..}`` (``\\mbox{d$\\xi$}``)."""
    depth = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif char == "$" and depth == 0:
            return pos
        pos += 1
    return -1


def _next_dollar(text: str, pos: int) -> int:
    while (pos := text.find("$", pos)) != -1:
        backslashes = len(text[:pos]) - len(text[:pos].rstrip("\\"))
        if backslashes % 2 == 0:
            return pos
        pos += 1
    return -1


@dataclass
class Score:
    gold: int = 0
    emitted: int = 0
    tp_exact: int = 0
    tp: int = 0
    tp_tex: int = 0
    dup: int = 0
    false: int = 0
    kind: int = 0
    in_comments: int = 0
    lost_with_text: int = 0
    also_without: int = 0
    lost_alone: int = 0
    pages: int = 0
    extra: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("gold", "emitted", "tp_exact", "tp", "tp_tex", "dup", "false", "kind", "in_comments",
                     "lost_with_text", "also_without", "lost_alone", "pages"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self) -> str:
        recall = self.tp / self.gold if self.gold else float("nan")
        precision = self.tp / self.emitted if self.emitted else (1.0 if not self.gold else float("nan"))
        adjusted = self.tp / (self.gold - self.in_comments) if self.gold > self.in_comments else float("nan")
        exact = self.tp_exact / self.gold if self.gold else float("nan")
        kept = self.gold - self.in_comments - self.lost_with_text
        kept_recall = self.tp / kept if kept > 0 else float("nan")
        tex_recall = self.tp_tex / self.gold if self.gold else float("nan")
        lost = f"{self.lost_with_text} ({self.also_without}) / {self.lost_alone}"
        return (f"{self.gold} | {self.emitted} | {self.tp_exact} | {self.tp} | {exact:.3f} | {recall:.3f} | "
                f"{adjusted:.3f} | {precision:.3f} | {self.dup} | {self.false} | {self.kind} | "
                f"{self.in_comments} | {lost} | {kept_recall:.3f} | {tex_recall:.3f}")  # fmt: skip


HEADER = (
    "| page | gold | emitted | TP exact | TP norm | recall exact | recall norm | recall w/o comments | "
    "precision norm | dup | false | kind | in comments | lost with text (also without math) / alone | "
    "recall of kept text | recall tex-norm |\n" + "|---" * 16 + "|"
)


def score(page: Page, emitted: list[Item]) -> Score:
    gold = page.gold or []
    result = Score(gold=len(gold), emitted=len(emitted), pages=1)
    result.tp_exact = sum((Counter(t for _, t in gold) & Counter(t for _, t in emitted)).values())
    gold_n = Counter(norm(t) for _, t in gold)
    emitted_n = Counter(norm(t) for _, t in emitted)
    result.tp = sum((gold_n & emitted_n).values())
    gold_tex, emitted_tex = Counter(tex_norm(t) for _, t in gold), Counter(tex_norm(t) for _, t in emitted)
    result.tp_tex = sum((gold_tex & emitted_tex).values())
    for text, count in emitted_n.items():
        if text in gold_n:
            result.dup += max(0, count - gold_n[text])
        else:
            result.false += count
            result.extra.append(text)
    kinds_gold = Counter((k, norm(t)) for k, t in gold)
    kinds_emitted = Counter((k, norm(t)) for k, t in emitted)
    result.kind = result.tp - sum((kinds_gold & kinds_emitted).values())
    missed = gold_n - emitted_n
    commented = Counter(norm(gold[i][1]) for i in page.in_comments)
    result.in_comments = sum((missed & commented).values())
    return result


def _phrases(protected: str, index: int) -> list[str]:
    """Up to 50 characters of text on each side of a placeholder, stopping at the next formula."""
    match = re.compile(PLACEHOLDER_TEXT.pattern.replace(r"\d+", str(index), 1)).search(protected)
    if match is None:
        return []
    before = PLACEHOLDER_TEXT.split(protected[max(0, match.start() - 600) : match.start()])[-1]
    after = PLACEHOLDER_TEXT.split(protected[match.end() : match.end() + 600])[0]
    return [p for p in (norm(before)[-50:], norm(after)[:50]) if len(p) >= 15]


def losses(protected: str, output: str, baseline: str, ids: set[int], count: int) -> tuple[int, int, int]:
    """Among the placeholders 0..count-1 absent from ``output``: (lost with their text, of those the
    ones whose text the extraction without the math pass drops too, lost alone). "Alone": the text
    just before or just after the formula (up to the next formula) is in the output."""
    flat, flat_baseline = norm(output), norm(baseline)
    with_text = also_without = alone = 0
    for index in range(count):
        if index in ids:
            continue
        phrases = _phrases(protected, index)
        if any(p in flat for p in phrases):
            alone += 1
        else:
            with_text += 1
            also_without += bool(phrases) and not any(p in flat_baseline for p in phrases)
    return with_text, also_without, alone


def mode_a(page: Page) -> list[Item]:
    return [("D" if f.display else "I", f.latex) for f in find_formulas_lxml(parse_lxml(page.html))]


def _trafilatura(root: lxml.html.HtmlElement) -> str:
    return trafilatura.extract(root, output_format="txt", deduplicate=False, include_tables=True) or ""


def mode_b(page: Page) -> tuple[list[Item], tuple[int, int, int]]:
    root = parse_lxml(page.html)
    table = protect_math_lxml(root)
    protected = LxmlDom(root).all_text()
    output = _trafilatura(root)
    ids = {int(m.group(1)) for m in PLACEHOLDER.finditer(output)}
    baseline = _trafilatura(parse_lxml(page.html))
    return formulas_from_text(table.restore(output)), losses(protected, output, baseline, ids, len(table))


def mode_c(page: Page) -> tuple[list[Item], tuple[int, int, int]]:
    tree = HTMLTree.parse(page.html)
    table = protect_math_lexbor(tree)
    protected = LexborDom(tree).all_text()
    output = extract_plain_text(tree, main_content=True)
    ids = {int(m.group(1)) for m in PLACEHOLDER.finditer(output)}
    baseline = extract_plain_text(HTMLTree.parse(page.html), main_content=True)
    return formulas_from_text(table.restore(output)), losses(protected, output, baseline, ids, len(table))


SUMMARY_HEADER = (
    "| mode | set | pages | gold | emitted | recall norm | recall w/o comments | precision norm | dup | "
    "false | recall of kept text | recall tex-norm |\n" + "|---" * 12 + "|"
)


def evaluate(pages: list[Page], verbose: bool, holdout: bool) -> int:
    failures = 0
    summary: list[str] = []
    for label, run in (("(a) find_formulas_lxml", None), ("(b) protect → trafilatura → restore", mode_b),
                       ("(c) protect_math_lexbor → resiliparse → restore", mode_c)):  # fmt: skip
        print(f"\n## {label}\n")
        parts = [("development pages", False)] + [("holdout pages", True)] * holdout
        sets: dict[str, Score] = {}
        for part, held_out in parts:
            print(f"### {part}\n\n{HEADER}")
            total = Score()
            for page in (p for p in pages if p.holdout == held_out):
                if page.gold is None:
                    emitted = mode_a(page) if run is None else run(page)[0]
                    expected = NO_GOLD_COUNTS.get(page.name)
                    displays = sum(k == "D" for k, _ in emitted)
                    print(f"| {page.name} (no gold; SOURCE.md: {expected}) | - | {len(emitted)} "
                          f"({displays} D) |" + " - |" * 14)  # fmt: skip
                    continue
                lost = (0, 0, 0)
                if run is None:
                    emitted = mode_a(page)
                else:
                    emitted, lost = run(page)
                result = score(page, emitted)
                result.lost_with_text, result.also_without, result.lost_alone = lost
                total.add(result)
                kind = "math-labelled" if page.name.startswith("labelled:") else "math-pages"
                kind = "math-wikipedia" if page.name.startswith("math-wikipedia") else kind
                for name in (f"{kind}, {part.split()[0]}", f"{kind}, all"):
                    sets.setdefault(name, Score()).add(result)
                print(f"| {page.name} | {result.row()} |")
                if verbose and result.extra:
                    print(f"|   false: {result.extra[:5]} |")
            print(f"| **total ({total.pages} pages)** | {total.row()} |\n")
            failures += total.dup + (run is None and total.tp < 0.95 * (total.gold - total.in_comments))
        for name, result in sorted(sets.items()):
            cells = result.row().split(" | ")
            picked = " | ".join(cells[i] for i in (0, 1, 5, 6, 7, 8, 9, 13, 14))
            summary.append(f"| {label[:3]} | {name} | {result.pages} | {picked} |")
    print(f"## Summary\n\n{SUMMARY_HEADER}\n" + "\n".join(summary))
    return failures


def bench(pages: list[Page]) -> None:
    print("\n## bench-warc: false formulas on pages without math, and speed\n")
    docs = [d for d in WarcReader().read(str(TESTDATA / "bench-warc" / "bench.warc.gz")) if d.html]
    docs = [d for d in docs if d.url not in BENCH_MATH_URLS]
    found: Counter[str] = Counter()
    for doc in docs:
        for formula in find_formulas_lxml(parse_lxml(doc.html or "")):
            found[doc.url] += 1
            print(f"- {doc.url}: {'D' if formula.display else 'I'} {norm(formula.latex)[:100]!r}")
    print(f"\n{sum(found.values())} formulas on {len(found)} of {len(docs)} pages\n")
    print("| pages | lxml pass ms/page (mean, median) | lexbor pass ms/page (mean, median) |\n|---|---|---|")
    for label, htmls in (("math-pages + math-wikipedia", [p.html for p in pages]),
                         ("bench-warc", [d.html or "" for d in docs])):  # fmt: skip
        lxml_ms, lexbor_ms = [], []
        for html in htmls:
            lxml_ms.append(_timed(lambda h=html: parse_lxml(h), protect_math_lxml))
            lexbor_ms.append(_timed(lambda h=html: HTMLTree.parse(h), protect_math_lexbor))
        lxml_cell = f"{statistics.mean(lxml_ms):.2f}, {statistics.median(lxml_ms):.2f}"
        lexbor_cell = f"{statistics.mean(lexbor_ms):.2f}, {statistics.median(lexbor_ms):.2f}"
        print(f"| {label} ({len(htmls)}) | {lxml_cell} | {lexbor_cell} |")


def _timed(parse: Callable[[], Any], protect: Callable[[Any], Any]) -> float:
    best = float("inf")
    for _ in range(3):
        tree = parse()
        start = time.perf_counter()
        protect(tree)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--no-bench", action="store_true", help="skip bench-warc (false formulas, speed)")
    arguments.add_argument("--no-holdout", action="store_true", help="development pages only")
    arguments.add_argument("--verbose", action="store_true", help="list false formulas per page")
    options = arguments.parse_args()
    pages = load_pages()
    if options.no_holdout:
        pages = [p for p in pages if not p.holdout]
    failures = evaluate(pages, options.verbose, not options.no_holdout)
    if not options.no_bench:
        bench(pages)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
