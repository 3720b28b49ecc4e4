"""The fast engine's line rules: link-density test, empty headings and the lines before the title
(extractors/line_rules.py)."""

from __future__ import annotations

import gzip
import json

import pytest

from extractors.engines import ExtractJob, extract_page
from extractors.http import decode_html
from extractors.line_rules import (
    HEADING_MARKS,
    LINK_END,
    LINK_START,
    MAX_LINE_CHARS,
    apply_line_rules,
    mark_page,
    strip_marks,
)
from tests.conftest import TESTDATA

PROSE = (
    "The council met on Tuesday to discuss the new bridge, which has been delayed for two years "
    "by disputes over its cost and its design. "
)
S, E = LINK_START, LINK_END
H1, H2, H3 = HEADING_MARKS[0], HEADING_MARKS[1], HEADING_MARKS[2]


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


def _fast(html: str, rules: bool = True, **options: bool) -> str:
    rule_options = {
        "link_density": rules,
        "empty_headings": rules,
        "title_start": rules,
        "prose_end": rules,
        **options,
    }
    job = ExtractJob(html, engine="resiliparse", **rule_options)
    text = extract_page(job).text
    assert text is not None
    return text


def test_marks_go_inside_every_link_and_after_every_heading_start() -> None:
    html = '<p>see <a href="/x">the docs</a>, <A HREF=y>more</A >, <abbr>HTML</abbr> <a>bare</a></p>'
    assert mark_page(html) == (
        f'<p>see <a href="/x">{S}the docs{E}</a>, <A HREF=y>{S}more{E}</A >, '
        f"<abbr>HTML</abbr> <a>{S}bare{E}</a></p>"
    )
    html = '<h2 class="t">Title</h2><hr><H3>Sub</H3><h7>no</h7>'
    assert mark_page(html) == f'<h2 class="t">{H2}Title</h2><hr><H3>{H3}Sub</H3><h7>no</h7>'


def test_a_page_that_holds_the_marks_already_is_left_unmarked() -> None:
    html = f"<p>odd {S} text <a href=x>link</a></p>"
    assert mark_page(html) is None
    assert S in _fast(_page(f"<article><p>{PROSE * 3} odd {S} character</p></article>"))


@pytest.mark.parametrize(
    ("line", "dropped"),
    [
        (f"{S}Ten bridges you must see{E}", True),  # all link text
        (f"\u2022 {S}More on this topic{E}", True),  # a list item: the bullet is under a fifth
        (f"Read {S}the council's statement{E} here", False),  # 6 of 27 characters are not link
        (f"{S}{'long link text ' * 7}{E}", False),  # 100 characters or more: a block, not a line
        ("no links at all", False),
    ],
)
def test_a_line_goes_when_it_is_short_and_over_four_fifths_link_text(line: str, dropped: bool) -> None:
    text = f"{PROSE}\n{line}\n{PROSE}"
    out = apply_line_rules(text)
    assert (strip_marks(line) not in out) is dropped
    assert S not in out and E not in out
    assert out.count(PROSE) == 2


def test_the_limit_is_on_the_line_without_its_marks() -> None:
    just_under = "x" * (MAX_LINE_CHARS - 1)
    assert apply_line_rules(f"{S}{just_under}{E}") == ""
    assert apply_line_rules(f"{S}{just_under}x{E}") == just_under + "x"


def test_the_fast_engine_drops_link_lists_and_keeps_links_inside_prose() -> None:
    html = _page(
        f"""<article><h1>Bridge delayed again</h1>
<p>{PROSE * 2}As <a href="/report">the engineers' report</a> says, the cost has doubled. {PROSE}</p>
<p>{PROSE * 2}</p>
<p><a href="/related/1">Ten bridges you must see before you die</a></p>
<p><a href="/overview">Back to the overview</a></p>
</article>"""
    )
    # the tail rule would take these lines too: off, so that this tests the link rule
    with_test, without = _fast(html, prose_end=False), _fast(html, rules=False)
    for boilerplate in ("Ten bridges you must see", "Back to the overview"):
        assert boilerplate in without  # resiliparse's own rules keep both
        assert boilerplate not in with_test
    assert "As the engineers' report says, the cost has doubled." in with_test
    assert with_test.count("The council met") == 5
    assert S not in with_test and E not in with_test


def test_code_with_links_comes_back_byte_for_byte() -> None:
    code = "import os\n\n# see the docs\nos.path.join(a,  b)\n"
    html = _page(
        f"<article><p>{PROSE * 3}</p><pre><code class='language-python'>import "
        "<a href='/os'>os</a>\n\n# see <a href='/docs'>the docs</a>\n"
        "<a href='/join'>os.path.join</a>(a,  b)\n</code></pre></article>"
    )
    text = _fast(html)
    assert f"```python\n{code}```" in text
    assert text == _fast(html, rules=False)


def test_no_mark_survives_on_real_pages() -> None:
    folder = TESTDATA / "extraction-trafilatura"
    names = sorted(json.loads((folder / "evaldata-subset.json").read_text(encoding="utf-8")).values(),
                   key=lambda item: item["file"])[:40]  # fmt: skip
    changed = 0
    for item in names:
        html = decode_html(gzip.decompress((folder / "html" / f"{item['file']}.gz").read_bytes()), None)[0]
        for options in ({}, {"math": False, "code": False, "structure": False}):
            text = _fast(html, **options)
            assert S not in text and E not in text, item["file"]
        changed += _fast(html) != _fast(html, rules=False)
    assert changed > 0  # the test does something on real pages


@pytest.mark.parametrize(
    ("lines", "kept"),
    [
        # a heading whose links went with the link test, at the end
        ([f"{H2}Story", "Text.", f"{H2}More on this topic", f"{S}Ten bridges{E}"], [0, 1]),
        # followed by a heading of its level: empty; by a lower heading with text: not
        ([f"{H2}A", f"{H2}B", f"{H3}B.1", "Text."], [1, 2, 3]),
        # every subsection went, so the section goes too (walked back to front)
        (["Text.", f"{H2}Related", f"{H3}Teasers", f"{S}One{E}", f"{H3}More", f"{S}Two{E}"], [0]),
        # blank lines are not content
        ([f"{H2}Story", "", "Text.", "", f"{H3}Share", ""], [0, 1, 2, 3, 5]),
        # a text of headings only keeps them
        ([f"{H2}Test case 1", f"{H2}Test case 2"], [0, 1]),
    ],
)
def test_a_heading_with_nothing_under_it_goes(lines: list[str], kept: list[int]) -> None:
    assert apply_line_rules("\n".join(lines)) == "\n".join(strip_marks(lines[i]) for i in kept)


def test_the_rules_can_be_had_one_at_a_time() -> None:
    text = "\n".join(["Text.", f"{H2}More", f"{S}Ten bridges you must see{E}"])
    assert apply_line_rules(text, links=False, headings=True) == "Text.\nMore\nTen bridges you must see"
    assert apply_line_rules(text, links=True, headings=False) == "Text.\nMore"
    assert apply_line_rules(text) == "Text."


def test_the_fast_engine_drops_the_title_of_a_removed_block() -> None:
    html = _page(
        f"""<article><h1>Bridge delayed again</h1><p>{PROSE * 3}</p>
<h2>The cost</h2><p>{PROSE * 2}</p>
<h3>Read more on this topic</h3>
<ul><li><a href="/1">Ten bridges you must see</a></li><li><a href="/2">Roads in winter</a></li></ul>
</article>"""
    )
    with_rules, without = _fast(html, prose_end=False), _fast(html, rules=False)  # as above
    assert "Read more on this topic" in without and "Read more on this topic" not in with_rules
    assert "# Bridge delayed again" in with_rules and "## The cost" in with_rules


def test_a_line_with_a_formula_or_code_is_content() -> None:
    code = f"{S}CCSVCODE1BEGINxCCSVCODE1END{E}"
    text = "\n".join(["Intro.", f"{H2}Update of CCSVMATH0I", f"{H2}Kalman gain", code])
    kept = apply_line_rules(text, protected=("CCSVMATH", "CCSVCODE"))
    assert kept == "Intro.\nUpdate of CCSVMATH0I\nKalman gain\nCCSVCODE1BEGINxCCSVCODE1END"
    # unprotected: the link line goes, then both headings are empty
    assert apply_line_rules(text) == "Intro."


def test_no_formula_is_lost_on_a_page_of_slides() -> None:
    # lecture slides: each slide a heading with a formula, its body images
    path = TESTDATA / "math-pages" / "bbcode-latex" / "uedalab-prob-robot-2016-03.html.gz"
    html = decode_html(gzip.decompress(path.read_bytes()), None)[0]
    with_rules, without = _fast(html), _fast(html, rules=False)
    assert "カルマンゲイン$K$" in with_rules
    assert with_rules.count("$") == without.count("$") > 0


@pytest.mark.parametrize(
    ("lines", "kept"),
    [
        # breadcrumbs, a date and links above the title go, one the link rule itself would keep too
        (["Home > News", "08.04.2015", f"{S}Prev{E} | {S}Next{E} in the archive", f"# {H1}T", PROSE], [3, 4]),
        # one line of prose above the title: the article begins earlier, nothing goes
        ([PROSE.strip(), f"# {H1}Title", PROSE], [0, 1, 2]),
        # a held line (a code placeholder) above the title: nothing goes
        (["CCSVCODE0BEGIN x = 1 CCSVCODE0END", f"# {H1}Title", PROSE], [0, 1, 2]),
        # no <h1>: nothing goes
        (["Home > News", f"## {H2}Section", PROSE], [0, 1, 2]),
        # only the first <h1> counts
        (["Menu", f"# {H1}Site", "Kicker", f"# {H1}Title", PROSE], [1, 2, 3, 4]),
    ],
)
def test_the_lines_above_the_title_go_unless_prose(lines: list[str], kept: list[int]) -> None:
    text = "\n".join(lines)
    expected = "\n".join(strip_marks(lines[i]) for i in kept)
    assert apply_line_rules(text, False, False, ("CCSVCODE",), title=True) == expected
    assert apply_line_rules(text, True, False, ("CCSVCODE",), title=True) == expected
    assert apply_line_rules(text, False, False, ("CCSVCODE",), title=False) == strip_marks(text)


def test_the_fast_engine_starts_the_article_at_its_title() -> None:
    html = _page(
        "<div class='crumbs'>Home &gt; Politics &gt; Bridges</div><p>8 April 2015</p>"
        f"<article><h1>Bridge delayed again</h1><p>{PROSE * 3}</p><p>{PROSE * 2}</p></article>"
    )
    with_rule, without = _fast(html), _fast(html, title_start=False)
    assert "8 April 2015" in without and "8 April 2015" not in with_rule
    assert with_rule.lstrip().startswith("# Bridge delayed again")
    assert with_rule.count("The council met") == 5


@pytest.mark.parametrize(
    ("lines", "kept"),
    [
        # share buttons and tags after the last sentence go
        ([PROSE, "", "Share", "Tags: bridges, roads", f"## {H2}Related"], [0, 1]),
        # more than MAX_TAIL_LINES lines after it: a list that belongs to the article, kept
        ([PROSE, *[f"- item {i}" for i in range(6)]], list(range(7))),
        # a table after the last sentence is kept
        ([PROSE, "| a | b |", "| 1 | 2 |"], [0, 1, 2]),
        # a held line (a code placeholder) ends the article as prose does
        ([PROSE, "CCSVCODE0BEGIN x = 1 CCSVCODE0END", "Share"], [0, 1]),
        # no prose at all: nothing goes
        (["- one", "- two", "Share"], [0, 1, 2]),
    ],
)
def test_a_short_tail_after_the_last_sentence_goes(lines: list[str], kept: list[int]) -> None:
    text = "\n".join(lines)
    expected = "\n".join(strip_marks(lines[i]) for i in kept)
    assert apply_line_rules(text, False, False, ("CCSVCODE",), tail=True) == expected
    assert apply_line_rules(text, False, False, ("CCSVCODE",), tail=False) == strip_marks(text)


def test_the_fast_engine_ends_the_article_with_its_last_sentence() -> None:
    html = _page(
        f"<article><h1>Bridge delayed again</h1><p>{PROSE * 3}</p><p>{PROSE * 2}</p>"
        "<div><span>Share this article</span></div><p>Filed under: Roads</p></article>"
    )
    with_rule, without = _fast(html), _fast(html, prose_end=False)
    assert "Filed under: Roads" in without and "Filed under" not in with_rule
    assert "Share this article" not in with_rule
    assert with_rule.count("The council met") == 5
