"""Line fusion of the combined engine (extractors/fusion.py)."""

from __future__ import annotations

from extractors.fusion import (
    MAX_LEAD_LINES,
    MAX_LINE_PAIRS,
    MAX_UNCONFIRMED_WORDS,
    MIN_ITEM_WORDS,
    confirm,
    fuse,
)

FIRST = "The council met on Tuesday to discuss the new bridge over the river and its cost."
SECOND = "Engineers told the members that the old bridge could carry lorries for two more years."
THIRD = "The vote on the new design was put off until the spring, when the budget is known."
LEAD = "A new bridge will cost the town twice what the council planned, its engineers say today."
FOOTER = "Copyright notice: all of the articles on this site belong to the publisher and its authors."


def test_prose_that_trafilatura_dropped_inside_the_article_comes_back_at_its_place() -> None:
    precise = f"{FIRST}\n{THIRD}"
    broad = f"Home | News | Sport\n{FIRST}\n{SECOND}\n{THIRD}\n{FOOTER}"
    assert fuse(precise, broad) == f"{FIRST}\n{SECOND}\n{THIRD}"  # header and footer stay out


def test_short_or_unpunctuated_lines_and_code_are_not_inserted() -> None:
    precise = f"{FIRST}\n{THIRD}"
    short = "Read more about bridges."
    heading = "Engineers told the members that the old bridge could carry lorries for two more years"
    code = "```\n# the old bridge could carry lorries for two more years, the engineers said to us.\n```"
    broad = f"{FIRST}\n{short}\n{heading}\n{code}\n{THIRD}"
    assert fuse(precise, broad) == precise


def test_without_two_shared_lines_the_precise_text_is_returned() -> None:
    assert fuse(FIRST, f"{SECOND}\n{THIRD}") == FIRST
    assert fuse(FIRST, f"{FIRST}\n{SECOND}") == FIRST  # one anchor: no interior


def test_every_precise_line_is_kept_in_order() -> None:
    precise = f"# Bridge\n{FIRST}\n- a list item of the article\n{THIRD}"
    broad = f"{FIRST}\n{SECOND}\n{THIRD}"
    fused = fuse(precise, broad).split("\n")
    assert [line for line in fused if line != SECOND] == precise.split("\n")
    assert fused.index(SECOND) == fused.index(FIRST) + 1


def test_the_lead_right_above_the_shared_stretch_comes_before_its_first_line() -> None:
    precise = f"# The new bridge\n{FIRST}\n{THIRD}"
    broad = f"Home | News | Sport\n{LEAD}\n\n{FIRST}\n{SECOND}\n{THIRD}"
    assert fuse(precise, broad) == f"# The new bridge\n{LEAD}\n{FIRST}\n{SECOND}\n{THIRD}"
    assert fuse(FIRST + "\n" + THIRD, f"{LEAD}\n{FIRST}\n{THIRD}") == f"{LEAD}\n{FIRST}\n{THIRD}"


def test_the_lead_is_at_most_a_few_prose_lines_and_stops_at_anything_else() -> None:
    precise = f"{FIRST}\n{THIRD}"
    others = [f"{LEAD[:-1]}, number {n}." for n in range(MAX_LEAD_LINES + 1)]
    fused = fuse(precise, "\n".join([*others, FIRST, THIRD])).split("\n")
    assert fused == [*others[1:], FIRST, THIRD]  # the nearest MAX_LEAD_LINES of them
    assert fuse(precise, f"{LEAD}\nShare this article\n{FIRST}\n{THIRD}") == precise
    assert fuse(precise, f"{LEAD}\n```\n{FIRST}\n{THIRD}") == precise


def test_a_list_between_two_lines_of_the_article_is_inserted_whole() -> None:
    items = ["- Start your own business if you can", "", "- Look into areas of growth such as health"]
    broad = "\n".join([FIRST, *items, SECOND, THIRD])
    assert fuse(f"{FIRST}\n{THIRD}", broad).split("\n") == [FIRST, items[0], items[2], SECOND, THIRD]
    # under an inserted line too; not when a line around it is the page's (a menu), nor with short items
    assert fuse(f"{FIRST}\n{THIRD}", "\n".join([FIRST, SECOND, *items, THIRD])).count("- ") == 2
    assert fuse(f"{FIRST}\n{THIRD}", "\n".join([FIRST, "Menu", *items, THIRD])) == f"{FIRST}\n{THIRD}"
    short = " ".join(["- Home", *(["x"] * (MIN_ITEM_WORDS - 2))])
    assert fuse(f"{FIRST}\n{THIRD}", "\n".join([FIRST, items[0], short, THIRD])) == f"{FIRST}\n{THIRD}"
    # a list outside the shared stretch is the page's, not the article's
    assert fuse(f"{FIRST}\n{THIRD}", "\n".join([FIRST, THIRD, *items])) == f"{FIRST}\n{THIRD}"


def test_texts_past_the_pair_limit_are_returned_unfused() -> None:
    broad = "\n".join([FIRST, SECOND, THIRD] * 700)  # 2,100 lines
    small, large = f"{FIRST}\n{THIRD}", "\n".join([FIRST, THIRD] * 500)  # 2 and 1,000 lines
    assert 2 * 2_100 <= MAX_LINE_PAIRS < 1_000 * 2_100
    assert SECOND in fuse(small, broad)
    assert fuse(large, broad) == large


def test_short_lines_the_other_engine_lacks_are_dropped() -> None:
    precise = f"# The new bridge\n{FIRST}\nRead more: Bridges of the world\nTeilen mit:\n{THIRD}\nComments"
    broad = f"# The new bridge\n{FIRST}\n{SECOND}\n{THIRD}"
    assert confirm(precise, broad) == f"# The new bridge\n{FIRST}\n{THIRD}"


def test_the_line_under_a_list_item_stays_with_it_unless_a_heading() -> None:
    items = "- Top TV shows of the year\nDecember 15, 2006\n- Top women of the year\nDecember 14, 2006"
    precise = f"{FIRST}\n{items}\n- Top men\n### Archive\nTeilen mit:\n{THIRD}"
    broad = f"{FIRST}\n{THIRD}"
    assert confirm(precise, broad) == f"{FIRST}\n{items}\n- Top men\n{THIRD}"


def test_one_and_two_word_lines_are_confirmed_by_their_word_or_pair() -> None:
    precise = f"{FIRST}\nBridge\nNew design\nNewsletter\nSign up\n{THIRD}"
    broad = f"{FIRST}\nthe new design of the bridge\n{THIRD}"
    assert confirm(precise, broad) == f"{FIRST}\nBridge\nNew design\n{THIRD}"


def test_prose_long_lines_list_items_tables_formulas_and_code_are_never_dropped() -> None:
    long_line = " ".join(["word"] * (MAX_UNCONFIRMED_WORDS + 1))
    kept = [
        "Short, but a sentence of twelve words that ends with a full stop here.",
        long_line,
        "- a list item",
        "1. a numbered item",
        "| a | table row |",
        "The sum $x + y$",
        "Run `make test` first",
        "\\[ x^2 \\]",
        "```",
        "print(1)",
        "```",
    ]
    precise = "\n".join([FIRST, *kept, THIRD])
    assert confirm(precise, f"{FIRST}\n{THIRD}") == precise


def test_nothing_is_dropped_when_the_engines_disagree_on_the_article() -> None:
    precise = f"{FIRST}\nTeilen mit:\n{THIRD}"
    broad = f"{SECOND}\n{FOOTER}"  # the other engine found something else: it may have missed the text
    assert confirm(precise, broad) == precise
