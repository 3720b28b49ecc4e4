"""Line-level fusion for the ``combined`` engine: trafilatura's text plus the prose it dropped, less
the short lines only it kept.

trafilatura is precise, but on mixed pages it drops paragraphs in the middle of the article that
resiliparse keeps (CleanEval dev: 15 to 30 % of the gold on several pages). :func:`fuse` keeps
trafilatura's text whole and inserts each line of resiliparse's text that

* lies inside the stretch both engines agree is the article (between the first and the last of
  resiliparse's lines that trafilatura also has: head and tail boilerplate stay out),
* is not in trafilatura's text already (under half of its word 3-grams there), and
* reads as prose: at least :data:`MIN_WORDS` words, ending in sentence punctuation, outside code
  blocks; or is one of a run of list items of :data:`MIN_ITEM_WORDS` words or more between two lines
  the article has (shared or inserted),

after the trafilatura line that matches the resiliparse line before it, so the document keeps its
order; and the article's lead, up to :data:`MAX_LEAD_LINES` prose lines right above the stretch,
before the trafilatura line that the stretch's first line matches. Measured in docs/extraction.md
("Combining the engines", "The lead, lists and list items' second lines"). Pages whose two texts hold more
than :data:`MAX_LINE_PAIRS` pairs of lines are returned unfused: matching costs up to one 3-gram
comparison per pair, and the page must stay within its extraction time limit.

:func:`confirm` then drops trafilatura's short non-prose lines that resiliparse's text lacks: the two
engines' agreement, where the fast engine's pruning and line rules removed boilerplate trafilatura kept.
"""

from __future__ import annotations

import re
from itertools import pairwise

__all__ = [
    "MAX_LEAD_LINES", "MAX_LINE_PAIRS", "MAX_UNCONFIRMED_WORDS", "MIN_ITEM_WORDS", "MIN_WORDS", "confirm",
    "fuse", "is_prose", "table_share",
]  # fmt: skip

MIN_WORDS = 12
MIN_ITEM_WORDS = 4  # list items shorter than this are menus more often than text
MAX_LEAD_LINES = 2  # prose lines right above the shared stretch taken as the article's lead
MAX_UNCONFIRMED_WORDS = 8  # lines this short, not prose, must be in the other engine's text too
MAX_LINE_PAIRS = 2_000_000  # about a second in the worst case; in-order texts cost far less
_SAME_LINE = 0.5  # share of a line's word 3-grams found in the other text: the line is there
_WORD = re.compile(r"\w+")
_SENTENCE_END = tuple('.!?"”:;)')
_LIST_ITEM = re.compile(r"(?:[-*•]|\d+[.)]) ")
# Lines confirm() never drops: code fences, table rows, display formulas (restored LaTeX); lines
# holding inline code or a formula ("`", "$") and list items are kept by _kept_unconfirmed too.
_ALWAYS_KEPT = ("```", "|", "\\")
_Gram = tuple[str, str, str]


def _grams(text: str) -> set[_Gram]:
    words = _WORD.findall(text.lower())
    return set(zip(words, words[1:], words[2:], strict=False))


def _shared(grams: set[_Gram], other: set[_Gram]) -> float:
    return len(grams & other) / len(grams) if grams else 0.0


def is_prose(line: str) -> bool:
    """Whether a (stripped) line reads as prose: :data:`MIN_WORDS` words or more, ending in sentence
    punctuation."""
    return line.endswith(_SENTENCE_END) and len(_WORD.findall(line)) >= MIN_WORDS


def table_share(text: str) -> float:
    """The share of ``text``'s characters that lie in Markdown table rows (lines starting ``|``)."""
    lines = text.split("\n")
    total = sum(len(line) for line in lines)
    rows = sum(len(line) for line in lines if line.lstrip().startswith("|"))
    return rows / total if total else 0.0


def fuse(precise: str, broad: str) -> str:
    """``precise`` with the lead, prose lines and lists of ``broad`` that it lacks, each at its place
    (see module)."""
    precise_lines = precise.split("\n")
    broad_lines = broad.split("\n")
    if len(precise_lines) * len(broad_lines) > MAX_LINE_PAIRS:
        return precise
    precise_grams = [_grams(line) for line in precise_lines]
    everything = set().union(*precise_grams)
    broad_grams = [_grams(line) for line in broad_lines]
    shared = [_shared(g, everything) >= _SAME_LINE for g in broad_grams]
    anchors = [i for i, is_shared in enumerate(shared) if is_shared]
    if len(anchors) < 2:
        return precise
    inserts: dict[int, list[str]] = {}  # precise line index -> broad lines to put after it
    lead = _lead(broad_lines, anchors[0])
    if lead:  # before the precise line that the first shared line matches
        inserts[_best_match(broad_grams[anchors[0]], precise_grams, -1) - 1] = lead
    taken, code = _taken_lines(broad_lines, shared, anchors[0], anchors[-1])
    anchor_at = -1  # the precise line matching the last shared broad line seen
    for i in range(anchors[0], anchors[-1] + 1):
        if i in code:
            continue
        if shared[i]:
            anchor_at = _best_match(broad_grams[i], precise_grams, anchor_at)
        elif i in taken:
            inserts.setdefault(anchor_at, []).append(broad_lines[i].strip())
    if not inserts:
        return precise
    out: list[str] = list(inserts.get(-1, ()))
    for j, line in enumerate(precise_lines):
        out.append(line)
        out.extend(inserts.get(j, ()))
    return "\n".join(out)


def _taken_lines(lines: list[str], shared: list[bool], first: int, last: int) -> tuple[set[int], set[int]]:
    """The lines of ``broad`` between its ``first`` and ``last`` shared lines to insert, and those in code
    blocks (never inserted): prose, and the runs of list items of :data:`MIN_ITEM_WORDS` words or more
    that lie between two lines the article has (shared or inserted), a list inside the article."""
    code: set[int] = set()
    in_code = False
    for i in range(first, last + 1):
        fence = lines[i].lstrip().startswith("```")
        in_code ^= fence
        if fence or in_code:
            code.add(i)
    loose = [i not in code and not shared[i] for i in range(len(lines))]  # neither code nor shared
    taken = {i for i in range(first, last + 1) if loose[i] and is_prose(lines[i].strip())}
    i = first
    while i <= last:
        if not (loose[i] and _LIST_ITEM.match(lines[i].strip())):
            i += 1
            continue
        items: list[int] = []
        end = i  # past the run of items (blank lines inside it included)
        while end <= last and loose[end] and (_LIST_ITEM.match(lines[end].strip()) or not lines[end].strip()):
            if lines[end].strip():
                items.append(end)
            end += 1
        before = i - 1
        while not lines[before].strip():  # stops at the first shared line at the latest
            before -= 1
        inside = all(k in taken or shared[k] for k in (before, end))  # end <= last: shared[last]
        if inside and all(len(_WORD.findall(lines[k])) >= MIN_ITEM_WORDS for k in items):
            taken.update(items)
        i = end
    return taken, code


def _lead(broad_lines: list[str], first_shared: int) -> list[str]:
    """The article's lead as ``broad`` has it: up to :data:`MAX_LEAD_LINES` prose lines right above its
    first line that ``precise`` shares (blank lines passed over, stopping at the first other line).

    News pages put the standfirst in a block of its own above the article body, which trafilatura
    often leaves out and resiliparse keeps; what lies further up is the page's head.
    """
    lead: list[str] = []
    for line in reversed(broad_lines[:first_shared]):
        stripped = line.strip()
        if not stripped:
            continue
        if len(lead) == MAX_LEAD_LINES or not is_prose(stripped):
            break
        lead.append(stripped)
    return lead[::-1]


def _best_match(grams: set[_Gram], precise_grams: list[set[_Gram]], after: int) -> int:
    """The precise line that ``grams`` (a broad line) is: the first after ``after`` that shares half
    of its 3-grams (the texts run in the same order), else the one sharing most anywhere."""
    start = max(after, 0)
    for j in range(start, len(precise_grams)):
        if _shared(grams, precise_grams[j]) >= _SAME_LINE:
            return j
    best, best_score = after, 0.0
    for j, candidate in enumerate(precise_grams):  # reordered, or spread over several lines
        score = _shared(grams, candidate)
        if score > best_score:
            best, best_score = j, score
    return best


def confirm(precise: str, broad: str) -> str:
    """``precise`` without its short lines that ``broad`` does not have.

    trafilatura keeps short boilerplate lines that the fast engine's pruning and line rules drop
    ("Read more: …", "Teilen mit:", newsletter and related-article headlines): a line of at most
    :data:`MAX_UNCONFIRMED_WORDS` words that is not prose, not a list item, not in a code block, not a
    table row, not the line right under a list item (the item's second line: a date, a byline) and
    holds no formula or inline code stays only when ``broad`` has it too (half of its word 3-grams;
    its word pair or word when shorter). Nothing is dropped when the two texts do not
    agree on the article (under half of ``precise``'s 3-grams in ``broad``): ``broad`` may have
    missed it.
    """
    broad_words = _WORD.findall(broad.lower())
    broad_grams = set(zip(broad_words, broad_words[1:], broad_words[2:], strict=False))
    if _shared(_grams(precise), broad_grams) < _SAME_LINE:
        return precise
    broad_pairs = set(pairwise(broad_words))
    broad_vocabulary = set(broad_words)
    kept: list[str] = []
    in_code = after_item = False
    for line in precise.split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
        words = _WORD.findall(stripped.lower())
        # the line right under a list item (a heading aside) is the item's second line: kept with it
        continued = after_item and not stripped.startswith("#")
        after_item = bool(_LIST_ITEM.match(stripped))
        if in_code or continued or _kept_unconfirmed(stripped, len(words)):
            kept.append(line)
            continue
        if len(words) >= 3:
            grams = list(zip(words, words[1:], words[2:], strict=False))
            confirmed = sum(gram in broad_grams for gram in grams) >= _SAME_LINE * len(grams)
        elif len(words) == 2:
            confirmed = (words[0], words[1]) in broad_pairs
        else:
            confirmed = words[0] in broad_vocabulary
        if confirmed:
            kept.append(line)
    return "\n".join(kept)


def _kept_unconfirmed(line: str, words: int) -> bool:
    """Whether ``line`` (stripped, outside code, of ``words`` words) stays whatever the other engine has."""
    return (
        not words
        or words > MAX_UNCONFIRMED_WORDS
        or line.startswith(_ALWAYS_KEPT)
        or "$" in line
        or "`" in line
        or bool(_LIST_ITEM.match(line))
        or is_prose(line)
    )
