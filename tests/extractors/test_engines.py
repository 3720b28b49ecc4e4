"""The two extraction engines: code kept byte-exact, Markdown-like structure, parity with trafilatura."""

from __future__ import annotations

import gzip
import importlib.util
import re

import lxml.html
import pytest
import trafilatura

from extractors.codeblocks import CodeTable, code_language
from extractors.engines import (
    ENGINES,
    LAYOUT_TABLE_SHARE,
    RECALL_FAILURE_RATIO,
    ExtractJob,
    extract_page,
)
from extractors.fusion import confirm, fuse, is_prose, table_share
from extractors.http import decode_html
from tests.conftest import TESTDATA

READABILITY = TESTDATA / "extraction-mozilla-readability"
SNIPPETS = TESTDATA / "extraction-trafilatura"

CODE = 'def f(x):\n\tif x:\n\n        return  "a  b"   # tab, blank line, runs of spaces\n'
PAGE = f"""<!DOCTYPE html><html><head><title>t</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li></ul></nav>
<div><div><article>
<h1>Reading files in Python</h1>
<p>This article explains how a small function works, with enough prose around it for any main-content
extractor to take the article for what it is: the main content of the page, written for people.</p>
<h2>The function</h2>
<p>Call <code>f(x,  y)</code> with two arguments; the paragraph goes on long enough to be content.</p>
<div class="highlight-source-python"><pre>{CODE.replace("<", "&lt;")}</pre></div>
<p>The block above keeps its tab, its blank line and its runs of spaces, which matter in Python code.</p>
<h3>Options</h3>
<ul><li>the first option, described in a full sentence</li><li>the second option, also described
<ul><li>a nested point under the second option</li></ul></li></ul>
<table><tr><th>Name</th><th>Value</th></tr><tr><td>alpha</td><td>1</td></tr><tr><td>beta</td><td>2</td></tr>
</table>
<p>A closing paragraph with more words, so that the article reads as the main content of this page.</p>
</article></div></div>
<footer><p>Copyright 2024 Example Corp. All rights reserved.</p></footer></body></html>"""


def _page(folder: str, name: str) -> str:
    return decode_html(gzip.decompress((TESTDATA / folder / name).read_bytes()), None)[0]


def _gold_code_blocks(name: str) -> list[str]:
    gold = lxml.html.fromstring(
        gzip.decompress((READABILITY / "gold" / f"{name}.txt.gz").read_bytes()).decode()
    )
    for br in gold.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return [pre.text_content() for pre in gold.iter("pre")]


@pytest.mark.parametrize("engine", ENGINES)
def test_code_block_comes_back_byte_exact_and_fenced_with_its_language(engine: str) -> None:
    text = extract_page(ExtractJob(PAGE, engine=engine)).text
    assert text is not None
    assert f"```python\n{CODE}```" in text
    assert "Call `f(x,  y)` with two arguments" in text  # inline code: backticks, spaces kept
    assert "CCSVCODE" not in text


@pytest.mark.parametrize("engine", ENGINES)
def test_headings_lists_and_tables_come_out_as_markdown(engine: str) -> None:
    text = extract_page(ExtractJob(PAGE, engine=engine)).text
    assert text is not None
    lines = [line.rstrip() for line in text.splitlines()]
    assert "# Reading files in Python" in lines
    assert "## The function" in lines
    assert "### Options" in lines
    assert "- the first option, described in a full sentence" in lines
    assert "  - a nested point under the second option" in lines
    assert lines[lines.index("| Name | Value |") + 1 : lines.index("| Name | Value |") + 4] == [
        "|---|---|",
        "| alpha | 1 |",
        "| beta | 2 |",
    ]
    assert "Copyright" not in text and "Home" not in text  # boilerplate still removed
    assert "CCSV" not in text  # no sentinel left behind


@pytest.mark.parametrize("engine", ENGINES)
def test_options_off_give_the_engines_plain_text(engine: str) -> None:
    job = ExtractJob(PAGE, engine=engine, code=False, structure=False, math=False)
    text = extract_page(job).text
    assert text is not None
    assert not re.search(r"^#", text, re.MULTILINE) and "```" not in text and "`f(x" not in text
    assert "Reading files in Python" in text and "def f(x):" in text


# (v8-blog is left out: Readability's gold turned a <br><br> inside one of its <pre> into a <p>.)
@pytest.mark.parametrize("name", ["002", "mercurial", "toc-missing"])
@pytest.mark.parametrize("engine", ENGINES)
def test_real_pages_keep_every_code_block_byte_exact(engine: str, name: str) -> None:
    """Readability's output of these pages holds their <pre> blocks; each must come back unchanged."""
    blocks = [b for b in _gold_code_blocks(name) if b.strip()]
    assert blocks, "the gold has no code: the test would check nothing"
    html = _page("extraction-mozilla-readability/input", f"{name}.html.gz")
    text = extract_page(ExtractJob(html, engine=engine)).text
    assert text is not None
    missing = [b for b in blocks if b.strip("\n") not in text]
    assert not missing
    # plain trafilatura loses the layout of at least one of them (blank lines, trailing spaces)
    plain = trafilatura.extract(html)
    assert plain is not None and any(b.strip("\n") not in plain for b in blocks)


def test_trafilatura_engine_without_options_is_plain_trafilatura() -> None:
    """Parsing once ourselves (huge_tree, then bare_extraction on the tree) changes nothing else."""
    names = sorted(p.name for p in (SNIPPETS / "html").iterdir())[:25]
    for name in names:
        html = _page("extraction-trafilatura/html", name)
        ours = extract_page(ExtractJob(html, code=False, structure=False, math=False)).text
        assert ours == trafilatura.extract(html, deduplicate=False), name


def test_markdown_output_loses_no_snippet_against_plain_trafilatura() -> None:
    """On real annotated pages, structure and code output keep every snippet plain text finds."""
    import json

    data = json.loads((SNIPPETS / "evaldata-subset.json").read_text(encoding="utf-8"))
    items = sorted(data.values(), key=lambda item: item["file"])[:30]
    found_plain = found_ours = 0
    for item in items:
        html = _page("extraction-trafilatura/html", item["file"] + ".gz")
        plain = " ".join((trafilatura.extract(html) or "").split())
        ours = " ".join((extract_page(ExtractJob(html)).text or "").split())
        found_plain += sum(" ".join(s.split()) in plain for s in item["with"])
        found_ours += sum(" ".join(s.split()) in ours for s in item["with"])
    assert found_plain > 50
    assert found_ours >= found_plain


def test_page_nested_past_lxml_limit_is_refused_not_cut_short() -> None:
    deep = "<html><body><p>before</p>" + "<div>" * 3000 + "<p>inside</p>" + "</div>" * 3000 + "</body></html>"
    result = extract_page(ExtractJob(deep))
    assert result.text is None and result.reason == "html_too_deep"
    # 300 levels, which lxml's default parser already refuses, now parse whole
    nested = "<html><body>" + "<div>" * 300 + "<p>" + "Deep but fine prose. " * 20 + "</p>" + "</div>" * 300
    assert "Deep but fine prose." in (extract_page(ExtractJob(nested + "</body></html>")).text or "")


def test_code_table_restore_handles_dropped_and_partial_blocks() -> None:
    table = CodeTable()
    first = table.add("a  = 1\n\nb = 2", "py", block=True)
    second = table.add("x", "", block=False)
    table.add("never extracted", "", block=True)
    # engines collapse whitespace and leave spaces around what they print; a lone marker can survive
    mangled = re.sub(r"\s+", " ", f"intro: {first} then {second} end CCSVCODE2BEGIN tail")
    assert table.restore(mangled) == "intro:\n```py\na  = 1\n\nb = 2\n```\nthen `x` end tail"


def test_code_language_from_common_class_conventions() -> None:
    assert code_language(["highlight highlight-source-go"], []) == "go"
    assert code_language(["prettyprint lang-js"], []) == "js"
    assert code_language(["language-C++"], []) == "c++"
    assert code_language(["highlight"], ["Rust"]) == "rust"
    assert code_language(["highlight", None], [None]) == ""


def test_math_off_and_math_on_agree_until_the_math_module_exists() -> None:
    html = _page("math-wikipedia", "en.wikipedia.org.tsne.html.gz")
    with_math = extract_page(ExtractJob(html, math=True)).text
    without = extract_page(ExtractJob(html, math=False)).text
    assert with_math and without
    if importlib.util.find_spec("extractors.math") is None:
        assert with_math == without
    else:
        # each formula once, as LaTeX: the gold is the x-tex annotation (math-wikipedia/SOURCE.md)
        assert r"\mathbf {y}" in with_math or r"\mathbf{y}" in with_math


def test_combined_engine_takes_resiliparse_where_trafilatura_missed_the_text() -> None:
    """CleanEval pages on which trafilatura finds nothing: the combined engine returns resiliparse's text."""
    for name in ("9.html.gz", "21.html.gz", "33.html.gz", "44.html.gz"):
        html = _page("extraction-cleaneval-dev/input", name)
        assert not extract_page(ExtractJob(html)).text, name  # the recall failure this engine repairs
        broad = extract_page(ExtractJob(html, engine="resiliparse")).text
        assert broad and len(broad) > 2_000
        assert extract_page(ExtractJob(html, engine="combined")).text == broad


def test_combined_engine_reads_a_layout_table_page_as_resiliparse_does() -> None:
    """CleanEval's 37.html is laid out in tables: trafilatura writes it as table rows (its notice
    first, the page's menus after it), the fast engine finds no data table and reads it as text."""
    html = _page("extraction-cleaneval-dev/input", "37.html.gz")
    precise = extract_page(ExtractJob(html)).text or ""
    broad = extract_page(ExtractJob(html, engine="resiliparse")).text or ""
    assert table_share(precise) > LAYOUT_TABLE_SHARE and table_share(broad) == 0
    assert len(broad) < RECALL_FAILURE_RATIO * len(precise)  # not a recall failure
    assert extract_page(ExtractJob(html, engine="combined")).text == broad
    # without structure marks the fast engine writes no table rows at all: no signal, fusion as before
    plain = extract_page(ExtractJob(html, engine="combined", structure=False)).text or ""
    assert plain != extract_page(ExtractJob(html, engine="resiliparse", structure=False)).text


def test_combined_engine_keeps_trafilaturas_prose_adds_what_it_dropped_and_drops_unconfirmed_lines() -> None:
    names = sorted(p.name for p in (SNIPPETS / "html").iterdir())[:15]
    fused_pages = confirmed_pages = 0
    for name in names:
        html = _page("extraction-trafilatura/html", name)
        precise = extract_page(ExtractJob(html)).text or ""
        broad = extract_page(ExtractJob(html, engine="resiliparse")).text or ""
        combined = extract_page(ExtractJob(html, engine="combined")).text
        if broad and (not precise or len(broad) > 3 * len(precise)):
            assert combined == broad, name
            continue
        if table_share(precise) > LAYOUT_TABLE_SHARE and not table_share(broad):
            assert combined == broad, name
            continue
        fused = fuse(precise, broad) if broad else precise
        assert combined == (confirm(fused, broad) if broad else precise or None), name
        lines = iter(fused.split("\n"))
        assert all(line in lines for line in (combined or "").split("\n")), name  # in order
        lines = iter((combined or "").split("\n"))
        assert all(line in lines for line in precise.split("\n") if is_prose(line)), name
        fused_pages += len(fused) > len(precise)
        confirmed_pages += (combined or "") != fused
    assert fused_pages, "no page gained a line: the test would not see the fusion"
    assert confirmed_pages, "no page lost a line: the test would not see the confirmation"
    # the refusal of a page nested past lxml's limit falls back to resiliparse
    deep = "<html><body>" + "<div>" * 3000 + "<p>" + "Deep prose here. " * 10 + "</p>" + "</div>" * 3000
    result = extract_page(ExtractJob(deep + "</body></html>", engine="combined"))
    assert "Deep prose here." in (result.text or "")


def test_combined_engine_adds_the_lead_and_lists_and_keeps_lines_under_list_items() -> None:
    """News leads trafilatura leaves out (its snippets mark them as main text); CleanEval's 40.html, a
    list inside the article that trafilatura leaves out; its 3.html, a list of archive items each with
    its date on the line under it (the gold keeps the list and the dates)."""
    leads = {
        "0afd671fc2b64f3caa83a91537e8d343.html.gz": "In der Nacht auf Samstag haben zwei junge Lenker",
        "meedia.de.freenet.html.gz": "Dadurch sollen Privatkunden",
    }
    for name, lead in leads.items():
        html = _page("extraction-trafilatura/html", name)
        assert lead not in (extract_page(ExtractJob(html)).text or ""), name
        assert lead in (extract_page(ExtractJob(html, engine="resiliparse")).text or ""), name
        assert lead in (extract_page(ExtractJob(html, engine="combined")).text or ""), name
    html = _page("extraction-cleaneval-dev/input", "40.html.gz")
    item = "- You have maxed out all of your credit limits."
    assert item not in (extract_page(ExtractJob(html)).text or "")
    assert item in (extract_page(ExtractJob(html, engine="combined")).text or "")
    html = _page("extraction-cleaneval-dev/input", "3.html.gz")
    dated = "- Top Women of 2006\nDecember 14, 2006\n"
    assert dated in (extract_page(ExtractJob(html)).text or "")
    assert "December 14, 2006" not in (extract_page(ExtractJob(html, engine="resiliparse")).text or "")
    assert dated in (extract_page(ExtractJob(html, engine="combined")).text or "")


def test_resiliparse_takes_the_whole_text_when_it_finds_almost_no_main_content() -> None:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    from extractors.engines import MIN_MAIN_TEXT

    # CleanEval 52: a book review whose article resiliparse's main-content rules miss
    path = TESTDATA / "extraction-cleaneval-dev" / "input" / "52.html.gz"
    html = decode_html(gzip.decompress(path.read_bytes()), None)[0]
    main = extract_plain_text(HTMLTree.parse(html), main_content=True)
    assert len(main.strip()) < 2 * MIN_MAIN_TEXT and "Beatrix Potter" not in main
    text = extract_page(ExtractJob(html, engine="resiliparse")).text or ""
    assert "Beatrix Potter: A Life In Nature" in text
    assert len(text) > 4 * MIN_MAIN_TEXT
    # a page whose main content is long enough is not touched: PAGE's footer stays out
    assert "Copyright 2024" not in (extract_page(ExtractJob(PAGE, engine="resiliparse")).text or "")


def test_line_rules_names_every_switch_of_the_fast_engines_line_rules() -> None:
    from dataclasses import fields

    from extractors.engines import LINE_RULES

    switches = {f.name for f in fields(ExtractJob) if f.default is True} - {"math", "code", "structure"}
    assert set(LINE_RULES) == switches - {"include_tables", "include_comments", "prune"}
    html = _page("extraction-cleaneval-dev/input", "40.html.gz")
    off = extract_page(ExtractJob(html, engine="resiliparse", **dict.fromkeys(LINE_RULES, False))).text
    on = extract_page(ExtractJob(html, engine="resiliparse")).text
    assert off and on and off != on  # the rules are on by default and these names turn them off
