"""Extraction quality and speed: plain trafilatura against ccsieve's two engines, side by side.

Data (../shared/testdata, see each folder's SOURCE.md):

* extraction-trafilatura: 401 pages with snippets that must / must not appear. trafilatura's own
  metric (tests/eval_common.py): whitespace-normalise output and snippets; per page TP = "with" found,
  FN = "with" missing, FP = "without" found, TN = "without" absent; summed over pages;
  F1 = 2TP / (2TP + FP + FN). A crash, timeout or empty result counts as a full miss.
* extraction-cleaneval-dev: 58 pages with hand-cleaned text. The gold's first line ("URL: ...") and
  its <p>/<h>/<l> block markers are removed; text is split into lower-cased \\w+ words; P/R/F1 of the
  multisets of word 4-grams per page; the table gives the macro average over pages and the micro
  F1 (4-grams pooled over all pages). Markdown symbols (#, -, |, backticks) are not \\w tokens, so
  structure output cannot change this metric except for the language word of a code fence.
* extraction-mozilla-readability, all 116 pages: 4-gram F1 as for CleanEval against the text of
  Readability.js's output (agreement with Readability, not a human gold); and the pages whose
  Readability output holds <pre>: each gold <pre> text is looked up in each output, byte for byte and
  whitespace-normalised (code fidelity).
* extraction-cleanportaleval, 71 pages: 4-gram F1 as for CleanEval, held out of all development.

Every page is decoded from bytes once, by ccsieve's reader (``extractors.http.decode_html``: HTTP-less,
so <meta charset> or detection), and the same string goes to every extractor. Extractors:

* ``trafilatura``: ``trafilatura.extract(html, url=url, deduplicate=False)``, all else default
  (so ``include_comments=True``);
* ``trafilatura, comments off``: the same with ``include_comments=False``, the setting of the default
  FineWeb-style pipeline (jobs/configs/default.yaml);
* ``ccsieve default``: the ``extract`` stage with default parameters (trafilatura engine, math, code and
  structure on, comments on as in trafilatura), as deployed: sandboxed child process, 5 s per page;
* ``ccsieve default, comments off``: the same with ``include_comments: false``, the like-for-like
  counterpart of the control above;
* ``ccsieve fast``: the stage with ``engine: resiliparse``; ``ccsieve fast links only`` the same with
  only ``link_density`` of the line rules on; ``ccsieve fast no title or tail rule`` with
  ``title_start: false`` and ``prose_end: false``; ``ccsieve fast no line rules`` with all four off;
  ``ccsieve fast unpruned`` with ``prune: false`` as well (resiliparse's own main-content rules and
  the engine's rescue of pages where they find almost nothing).

The snippet metric is reported twice: on the raw output, and on the output with the Markdown marks
that plain trafilatura text lacks removed by :func:`strip_markdown` (heading marks, code fence lines,
inline-code backticks, applied identically to every extractor's output; and on ccsieve's output,
where the math pass wrote them, formulas and the ``\\$`` escape of literal dollars). A snippet that
runs from a paragraph into the next heading cannot match "...end. ## Next" in the raw form, which is
a property of the layout, not of what was extracted.

Speed: the process pins itself to one CPU before anything starts (the sandbox child inherits the pin);
each extractor goes over all 459 scored pages in turn after one warm-up page; pages/s = pages /
wall-clock seconds of that loop (median of ``--repeat`` loops).

Usage (from the repository root)::

    .venv/bin/python benchmarks/eval_extraction.py [--limit N] [--repeat R] [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
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

from extractors.http import decode_html  # noqa: E402 -- after the sys.path line above

Extract = Callable[[str, str | None], str | None]


@dataclass
class Page:
    name: str
    html: str
    url: str | None
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)
    gold: str = ""
    code: list[str] = field(default_factory=list)


# --- data ----------------------------------------------------------------------------------------


def _decode(path: Path) -> str:
    return decode_html(gzip.decompress(path.read_bytes()), None)[0]


def load_snippet_pages(limit: int | None = None) -> list[Page]:
    folder = TESTDATA / "extraction-trafilatura"
    data = json.loads((folder / "evaldata-subset.json").read_text(encoding="utf-8"))
    pages = [
        Page(
            name=item["file"],
            html=_decode(folder / "html" / f"{item['file']}.gz"),
            url=key if key.startswith("http") else None,
            with_=item["with"],
            without=item["without"],
        )
        for key, item in sorted(data.items())
    ]
    return pages[:limit]


_GOLD_MARK = re.compile(r"^\s*<[phl]>", re.MULTILINE)


def clean_gold(text: str) -> str:
    """CleanEval gold without its 'URL:' line and <p>/<h>/<l> block markers."""
    lines = text.splitlines()
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    return _GOLD_MARK.sub(" ", "\n".join(lines))


def load_cleaneval_pages(limit: int | None = None) -> list[Page]:
    folder = TESTDATA / "extraction-cleaneval-dev"
    pages = []
    for path in sorted((folder / "input").glob("*.html.gz"), key=lambda p: int(p.name.split(".")[0])):
        gold_path = folder / "gold" / path.name.replace(".html.gz", ".txt.gz")
        gold = gzip.decompress(gold_path.read_bytes()).decode("utf-8", "replace")
        pages.append(Page(name=path.name, html=_decode(path), url=None, gold=clean_gold(gold)))
    return pages[:limit]


def load_cleanportal_pages(limit: int | None = None) -> list[Page]:
    """CleanPortalEval (71 news-portal pages, CleanEval-format gold): held out of all development."""
    folder = TESTDATA / "extraction-cleanportaleval"
    pages = []
    for gold_path in sorted((folder / "gold").glob("*.txt.gz")):
        path = folder / "input" / gold_path.name.replace(".txt.gz", ".html.gz")
        if not path.exists():
            continue
        gold = gzip.decompress(gold_path.read_bytes()).decode("utf-8", "replace")
        pages.append(Page(name=path.name, html=_decode(path), url=None, gold=clean_gold(gold)))
    return pages[:limit]


def load_readability_pages(limit: int | None = None) -> list[Page]:
    """extraction-mozilla-readability: every page, gold = the text of Readability.js's output (an
    agreement measure, not a human annotation; SOURCE.md)."""
    import lxml.html

    folder = TESTDATA / "extraction-mozilla-readability"
    pages = []
    for gold_path in sorted((folder / "gold").glob("*.txt.gz"))[:limit]:
        gold = gzip.decompress(gold_path.read_bytes()).decode("utf-8", "replace")
        name = gold_path.name.replace(".txt.gz", ".html.gz")
        text = lxml.html.fromstring(gold).text_content() if gold.strip() else ""
        pages.append(Page(name=name, html=_decode(folder / "input" / name), url=None, gold=text))
    return pages


def load_code_pages() -> list[Page]:
    import lxml.html

    folder = TESTDATA / "extraction-mozilla-readability"
    pages = []
    for gold_path in sorted((folder / "gold").glob("*.txt.gz")):
        gold = gzip.decompress(gold_path.read_bytes()).decode("utf-8", "replace")
        if "<pre" not in gold:
            continue
        root = lxml.html.fromstring(gold)
        for br in root.iter("br"):  # a line break inside <pre>, as ccsieve reads it
            br.tail = "\n" + (br.tail or "")
        blocks = [pre.text_content() for pre in root.iter("pre")]
        blocks = [b for b in blocks if b.strip()]
        name = gold_path.name.replace(".txt.gz", ".html.gz")
        pages.append(Page(name=name, html=_decode(folder / "input" / name), url=None, code=blocks))
    return pages


# --- metrics -------------------------------------------------------------------------------------


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_FENCE_LINE = re.compile(r"^ {0,3}`{3,}[^\n`]*$", re.MULTILINE)
_HEADING = re.compile(r"^ {0,3}#{1,6} ", re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+) ?([^`\n]+?) ?\1")


_FORMULA = re.compile(r"\$\$.+?\$\$|(?<!\\)\$(?:\\.|[^$\\])+?(?<!\\)\$", re.DOTALL)


def strip_markdown(text: str, math: bool) -> str:
    """The text without the marks that plain trafilatura text does not have: heading marks, code
    fences, inline-code backticks and, for output of the math pass (``math``), its formulas
    (``$..$``, ``$$..$$``: trafilatura drops MathML, MathJax scripts and formula images) and the
    escape of literal dollars (``\\$``). ("- " items and "| a |" rows are trafilatura's own plain
    layout, which the snippets were written against, so they stay.)"""
    text = _FENCE_LINE.sub("", text)
    text = _HEADING.sub("", text)
    text = _INLINE_CODE.sub(r"\2", text)
    return _FORMULA.sub("", text).replace("\\$", "$") if math else text


def snippet_counts(page: Page, result: str | None) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) as trafilatura's tests/eval_common.py counts them."""
    if not result:
        return 0, 0, len(page.with_), len(page.without)
    text = norm(result)
    tp = sum(norm(s) in text for s in page.with_)
    fp = sum(norm(s) in text for s in page.without)
    return tp, fp, len(page.with_) - tp, len(page.without) - fp


def snippet_scores(counts: list[tuple[int, int, int, int]]) -> dict[str, float]:
    tp, fp, fn, tn = (sum(c[i] for c in counts) for i in range(4))
    total = tp + fp + fn + tn
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "accuracy": (tp + tn) / total if total else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }


def four_grams(text: str) -> Counter[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return Counter(zip(words, words[1:], words[2:], words[3:], strict=False))


def ngram_scores(pairs: list[tuple[str | None, str]]) -> dict[str, Any]:
    """Macro P/R/F1 over pages and micro F1 of word 4-grams, (output, gold) per page."""
    per_page = []
    overlap_all = predicted_all = gold_all = 0
    for output, gold in pairs:
        predicted, expected = four_grams(output or ""), four_grams(gold)
        overlap = sum((predicted & expected).values())
        p = overlap / sum(predicted.values()) if predicted else 0.0
        r = overlap / sum(expected.values()) if expected else 0.0
        per_page.append((p, r, 2 * p * r / (p + r) if p + r else 0.0))
        overlap_all += overlap
        predicted_all += sum(predicted.values())
        gold_all += sum(expected.values())
    micro_p = overlap_all / predicted_all if predicted_all else 0.0
    micro_r = overlap_all / gold_all if gold_all else 0.0
    return {
        "precision": statistics.fmean(x[0] for x in per_page),
        "recall": statistics.fmean(x[1] for x in per_page),
        "f1": statistics.fmean(x[2] for x in per_page),
        "per_page_f1": [x[2] for x in per_page],  # for the per-page oracle
        "micro_f1": 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0,
    }


def code_scores(pages: list[Page], outputs: list[str | None]) -> dict[str, int]:
    exact = normalised = total = 0
    for page, output in zip(pages, outputs, strict=True):
        for block in page.code:
            total += 1
            exact += bool(output) and block.strip("\n") in (output or "")
            normalised += bool(output) and norm(block) in norm(output or "")
    return {"blocks": total, "exact": exact, "normalised": normalised}


# --- extractors ----------------------------------------------------------------------------------


def build_extractors() -> dict[str, tuple[Extract, Callable[[], None]]]:
    """Name -> (extract(html, url), close)."""
    import trafilatura

    from extractors.engines import LINE_RULES
    from extractors.html import HtmlExtractor
    from pipeline.stage import Drop

    def plain(comments: bool) -> Extract:
        def run(html: str, url: str | None) -> str | None:
            return trafilatura.extract(html, url=url, deduplicate=False, include_comments=comments)

        return run

    def stage(engine: str, **options: Any) -> tuple[Extract, Callable[[], None]]:
        extractor = HtmlExtractor(engine=engine, **options)  # type: ignore[arg-type]
        extractor.setup()

        def run(html: str, url: str | None) -> str | None:
            try:
                return extractor.extract(html, url).text
            except (Drop, RuntimeError):  # timeout, crash or engine error: a full miss
                return None

        return run, extractor.close

    no_rules = dict.fromkeys(LINE_RULES, False)
    return {
        "trafilatura": (plain(True), lambda: None),
        "trafilatura, comments off": (plain(False), lambda: None),
        "ccsieve default": stage("trafilatura"),
        "ccsieve default, comments off": stage("trafilatura", include_comments=False),
        "ccsieve fast": stage("resiliparse"),
        "ccsieve fast links only": stage("resiliparse", **{**no_rules, "link_density": True}),
        "ccsieve fast no title or tail rule": stage("resiliparse", title_start=False, prose_end=False),
        "ccsieve fast no line rules": stage("resiliparse", **no_rules),
        "ccsieve fast unpruned": stage("resiliparse", prune=False, **no_rules),
        "ccsieve combined": stage("combined"),
    }


def run_all(extract: Extract, pages: list[Page]) -> tuple[list[str | None], float]:
    outputs: list[str | None] = []
    start = time.perf_counter()
    for page in pages:
        try:
            outputs.append(extract(page.html, page.url))
        except Exception:  # a crash counts as a full miss, as in trafilatura's evaluation
            outputs.append(None)
    return outputs, time.perf_counter() - start


def evaluate(limit: int | None, repeat: int, only: list[str] | None = None) -> dict[str, Any]:
    snippet_pages = load_snippet_pages(limit)
    cleaneval_pages = load_cleaneval_pages(limit)
    code_pages = load_code_pages()
    holdout_pages = load_cleanportal_pages(limit)
    readability_pages = load_readability_pages(limit)
    scored = snippet_pages + cleaneval_pages
    results: dict[str, Any] = {"pages": {"snippets": len(snippet_pages), "cleaneval": len(cleaneval_pages)}}
    for name, (extract, close) in build_extractors().items():
        if only and name not in only:
            close()
            continue
        extract("<html><body><p>warm-up</p></body></html>", None)
        timings = []
        outputs: list[str | None] = []
        for _ in range(repeat):
            outputs, seconds = run_all(extract, scored)
            timings.append(seconds)
        code_outputs, _ = run_all(extract, code_pages)
        holdout_outputs, _ = run_all(extract, holdout_pages)
        readability_outputs, _ = run_all(extract, readability_pages)
        close()
        snippet_out, cleaneval_out = outputs[: len(snippet_pages)], outputs[len(snippet_pages) :]
        stripped = [strip_markdown(o, name.startswith("ccsieve")) if o else o for o in snippet_out]
        results[name] = {
            "snippets": snippet_scores(
                [snippet_counts(p, o) for p, o in zip(snippet_pages, snippet_out, strict=True)]
            ),
            "snippets_stripped": snippet_scores(
                [snippet_counts(p, o) for p, o in zip(snippet_pages, stripped, strict=True)]
            ),
            "cleaneval_4gram": ngram_scores(
                [(o, p.gold) for p, o in zip(cleaneval_pages, cleaneval_out, strict=True)]
            ),
            "code": code_scores(code_pages, code_outputs),
            "holdout_4gram": ngram_scores(
                [(o, p.gold) for p, o in zip(holdout_pages, holdout_outputs, strict=True)]
            ),
            "readability_4gram": ngram_scores(
                [(o, p.gold) for p, o in zip(readability_pages, readability_outputs, strict=True)]
            ),
            "empty": sum(not o for o in outputs),
            "pages_per_s": len(scored) / statistics.median(timings),
            "seconds": timings,
        }
        print(f"{name}: done ({statistics.median(timings):.1f} s)", file=sys.stderr)
    return results


def markdown_tables(results: dict[str, Any]) -> str:
    names = [k for k in results if k != "pages"]
    n_snip, n_clean = results["pages"]["snippets"], results["pages"]["cleaneval"]
    lines = [
        f"| extractor | snippet F1 | P | R | TP / FN / FP / TN | snippet F1, marks stripped "
        f"| 4-gram F1 (macro / micro) | held-out 4-gram F1 | Readability 4-gram F1 | empty "
        f"| pages/s (1 core, {n_snip + n_clean} pages) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in names:
        r = results[name]
        s, ss, c = r["snippets"], r["snippets_stripped"], r["cleaneval_4gram"]
        lines.append(
            f"| {name} | {s['f1']:.4f} | {s['precision']:.4f} | {s['recall']:.4f} "
            f"| {s['tp']} / {s['fn']} / {s['fp']} / {s['tn']} | {ss['f1']:.4f} "
            f"| {c['f1']:.4f} / {c['micro_f1']:.4f} | {r['holdout_4gram']['f1']:.4f} "
            f"| {r['readability_4gram']['f1']:.4f} "
            f"| {r['empty']} | {r['pages_per_s']:.1f} |"
        )
    lines += [
        "",
        "| extractor | code blocks found byte-exact | found whitespace-normalised |",
        "| --- | --- | --- |",
    ]
    for name in names:
        c = results[name]["code"]
        lines.append(f"| {name} | {c['exact']} / {c['blocks']} | {c['normalised']} / {c['blocks']} |")
    lines += ["", oracle_line(results, names)] if len(names) > 1 else []
    return "\n".join(lines)


def oracle_line(results: dict[str, Any], names: list[str]) -> str:
    """The CleanEval macro F1 of a chooser that knew the gold and took the best extractor per page:
    the ceiling of any rule that picks one of these outputs for each page."""
    per_page = [results[name]["cleaneval_4gram"]["per_page_f1"] for name in names]
    best = statistics.fmean(max(scores) for scores in zip(*per_page, strict=True))
    return f"CleanEval 4-gram F1 of the best of these {len(names)} per page (an oracle): {best:.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each set (quick look)")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes per extractor (median)")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--only", default=None, help="comma-separated extractor names to run")
    args = parser.parse_args(argv)
    cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # one core; the sandbox child started later inherits it
    results = evaluate(args.limit, args.repeat, args.only.split(",") if args.only else None)
    print(markdown_tables(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
