"""The fast engine's boilerplate pruning (extractors/boilerplate.py)."""

from __future__ import annotations

import gzip
import json

from resiliparse.parse.html import HTMLTree

from extractors.boilerplate import MARKER, choose_boilerplate, mark_boilerplate
from extractors.engines import ExtractJob, extract_page
from extractors.http import decode_html
from tests.conftest import TESTDATA

SNIPPETS = TESTDATA / "extraction-trafilatura"
PROSE = (
    "The council met on Tuesday to discuss the new bridge, which has been delayed for two years "
    "by disputes over its cost and its design. "
)


def _fast(html: str, prune: bool = True) -> str:
    # the tail rule (extractors/line_rules.py) would take a block after the article's last sentence
    # whether pruned or not: off, so that these tests see the pruning alone
    text = extract_page(ExtractJob(html, engine="resiliparse", prune=prune, prose_end=False)).text
    assert text is not None
    return text


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


BLOG = _page(
    f"""<header><h1>Bridge delayed again</h1></header>
<div class="wrapper"><div class="entry-content"><p>{PROSE * 3}</p><p>{PROSE * 2}</p>
<div class="post-tags"><p>Tagged with: bridges, roads, the town council and its budget</p></div>
<div class="newsletter-box"><p>Sign up for our newsletter: roads and bridges every week</p></div>
</div>
<div id="respond" class="comment-respond"><h3>Leave a Reply</h3>
<p>Your email address will not be published. Required fields are marked</p></div>
<div class="more-on-this-topic"><p>Most read this week: ten bridges you must see before you die</p></div>
</div>"""
)


def test_pruning_removes_the_blogs_boilerplate_and_keeps_its_text() -> None:
    pruned, unpruned = _fast(BLOG), _fast(BLOG, prune=False)
    for boilerplate in ("Tagged with", "Leave a Reply", "ten bridges"):
        assert boilerplate in unpruned  # resiliparse's own rules keep each of them
        assert boilerplate not in pruned, boilerplate
    assert pruned.count("The council met") == 5
    assert "Bridge delayed again" in pruned


def test_a_boilerplate_class_on_the_articles_wrapper_removes_nothing_of_the_article() -> None:
    for wrapper in (
        '<div class="layout has-sidebar">',  # holds the <article>
        '<div class="elementor-widget-container">',  # Elementor's article body
        '<div class="serendipity_entry serendipity_entry_author_Jane">',  # "author" inside a word
        '<div class="widget Blog">',  # holds over half of the page's paragraphs
    ):
        paragraphs = "".join(f"<p>{PROSE}</p>" for _ in range(6))
        inner = f"<article>{paragraphs}</article>" if "has-sidebar" in wrapper else paragraphs
        html = _page(f"{wrapper}{inner}</div><div class='sidebar'><p>Archive links</p></div>")
        text = _fast(html)
        assert text.count("The council met") == 6, wrapper


def test_pruning_that_would_take_nearly_all_text_is_not_done() -> None:
    """trafilatura's backup rule, on the output: when the chosen blocks hold (almost) all the main
    content, the engine extracts without pruning."""
    html = _page("".join(f"<div class='newsletter-box'><p>{PROSE}</p></div>" for _ in range(8)))
    tree = HTMLTree.parse(mark_boilerplate(html))
    assert len(tree.body.query_selector_all(f"[{MARKER}]")) == 8  # all eight are candidates
    assert choose_boilerplate(tree) == 8
    assert _fast(html).count("The council met") == 8


def test_chosen_blocks_keep_the_marker_and_the_rest_lose_it() -> None:
    """What the extraction skips (``SKIP``) is exactly the chosen blocks and what lies inside them."""
    html = _page(
        f"<div class='has-sidebar'><h1>Title</h1><div class='share-buttons'><p>Share</p></div>"
        f"<p>{PROSE}</p></div><ul class='menu'><li class='menu-item'>Home</li></ul>"
    )
    tree = HTMLTree.parse(mark_boilerplate(html))
    assert tree.body.query_selector(f".has-sidebar[{MARKER}]") is not None  # a candidate
    assert choose_boilerplate(tree) == 2  # the share box and the menu; has-sidebar holds the h1
    marked = [el.getattr("class") for el in tree.body.query_selector_all(f"[{MARKER}]").values()]
    assert marked == ["share-buttons", "menu", "menu-item"]


def test_a_boilerplate_block_holding_code_is_kept() -> None:
    """Sphinx section ids are heading slugs ("sharing-with-a-single-developer"): code is kept whole."""
    html = _page(
        f"<div class='section' id='sharing-changes'><p>{PROSE}</p><pre>hg push --rev tip</pre></div>"
        f"<div class='section' id='sharing-nothing'><p>{PROSE}</p></div><p>{PROSE}</p>"
    )
    text = _fast(html)
    assert "hg push --rev tip" in text
    assert text.count("The council met") == 2  # the second block, without code, goes


def test_the_scan_tags_start_tags_by_class_id_and_role_in_every_quoting() -> None:
    html = _page(
        '<div class="post-tags">a</div><ul id=main-menu>b</ul><div role="navigation">c</div>'
        "<section class='sidebar widget'>d</section><div class=\"entry-content\">e</div>"
    )
    marked = mark_boilerplate(html)
    tree = HTMLTree.parse(marked)
    tagged = [el.text for el in tree.body.query_selector_all(f"[{MARKER}]").values()]
    assert tagged == ["a", "b", "c", "d"]


def test_the_scan_leaves_text_other_attributes_and_inline_tags_alone() -> None:
    shown = '&lt;div class="sidebar"&gt;'  # an HTML example in the text: must come out as written
    html = _page(
        f"<pre>{shown}</pre><p data-id='nav-1' grid='sidebar'>x</p>"
        '<a class="menu-link" href="/">home</a><a class="reply-link" href="#">reply</a>'
    )
    marked = mark_boilerplate(html)
    assert shown in marked
    tree = HTMLTree.parse(marked)
    tagged = [el.tag for el in tree.body.query_selector_all(f"[{MARKER}]").values()]
    assert tagged == ["a"]  # "menu" names a block only on a block tag; "reply-" on any tag
    assert tree.body.query_selector(f"a[{MARKER}]").text == "reply"
    plain = _page("<p>nothing to prune</p>")
    assert mark_boilerplate(plain) is plain


def test_on_real_pages_pruning_removes_boilerplate_snippets_and_keeps_content_snippets() -> None:
    data = json.loads((SNIPPETS / "evaldata-subset.json").read_text(encoding="utf-8"))
    items = sorted(data.values(), key=lambda item: item["file"])[:80]
    counts = {True: [0, 0], False: [0, 0]}  # prune -> [content found, boilerplate found]
    for item in items:
        raw = gzip.decompress((SNIPPETS / "html" / f"{item['file']}.gz").read_bytes())
        html = decode_html(raw, None)[0]
        for prune in (True, False):
            text = " ".join(
                (extract_page(ExtractJob(html, engine="resiliparse", prune=prune)).text or "").split()
            )
            counts[prune][0] += sum(" ".join(s.split()) in text for s in item["with"])
            counts[prune][1] += sum(" ".join(s.split()) in text for s in item["without"])
    assert counts[False][1] > 30, "too few boilerplate snippets found unpruned: the test would check nothing"
    assert counts[True][1] <= 0.8 * counts[False][1]  # at least a fifth of the boilerplate gone
    assert counts[True][0] >= 0.97 * counts[False][0]  # at most 3 % of the content lost


def test_pruning_that_took_the_article_is_undone() -> None:
    """ "-ad-" in the class of the article's section: the pruned text is a third of the unpruned one or
    less, so the engine takes the unpruned text (PRUNED_CHECK, RECALL_FAILURE_RATIO)."""
    article = f"<div class='c-ad-section'><p>{PROSE * 4}</p><p>{PROSE * 4}</p></div>"
    notes = "".join(f"<div><p>Opening hours, item {i}: nine to five.</p></div>" for i in range(8))
    html = _page(article + notes)
    tree = HTMLTree.parse(mark_boilerplate(html))
    assert choose_boilerplate(tree) == 1  # two of ten paragraphs: the guard lets it go
    text = _fast(html)
    assert text.count("The council met") == 8
    assert "Opening hours, item 7" in text


def test_a_page_inside_an_open_noscript_is_extracted() -> None:
    """lexbor parses with scripting off: an unclosed element in <noscript> takes the rest of the page
    into it, which resiliparse skips unless asked for noscript content."""
    html = _page(f"<noscript><div id='nojs'></noscript><div><p>{PROSE * 3}</p><p>{PROSE}</p></div>")
    assert _fast(html).count("The council met") == 4
