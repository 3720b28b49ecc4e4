"""datatrove's Gopher repetition filter with its n-gram counting done on string hashes.

datatrove's ``GopherRepetitionFilter`` builds every 2- to 10-gram of a page as a new Python string
(about 5 million joins for 400 pages) and counts them in sets and a ``Counter``: two thirds of the
filter's time (docs/performance.md). :class:`FastGopherRepetitionFilter` keeps datatrove's rules,
thresholds, order of checks and drop reasons, and replaces only the counting:

* an n-gram is a slice of one string (the words joined by ``" "`` for the top n-grams, by ``""`` for
  the duplicated ones, exactly as datatrove joins them), so it is identified by a polynomial hash of
  that slice, computed for all n-grams at once with numpy (prefix sums modulo 2**64) and paired with
  its length;
* the top n-gram comes from ``numpy.unique`` counts, ties to the first seen as ``Counter`` does;
* the duplicated n-grams keep datatrove's left-to-right scan (a repeat skips ``n`` words), on integers.

Every hash match that decides a result is checked against the text itself; a collision (never seen on
real text) sends that count to datatrove's own function. ``tests/filters/test_repetition.py`` compares
both on real pages and on the corner cases of datatrove's joins.
"""

from __future__ import annotations

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.filters.gopher_repetition_filter import (
    GopherRepetitionFilter,
    find_all_duplicate,
    find_duplicates,
    find_top_duplicate,
    get_n_grams,
)
from datatrove.utils.text import split_into_words

__all__ = ["FastGopherRepetitionFilter", "NGramCounts"]

_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_BASE_INVERSE = np.uint64(pow(int(_BASE), -1, 1 << 64))
_LENGTH_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


class _HashCollision(Exception):
    """Two different n-grams with equal hashes: the page is counted by datatrove's functions."""


class _Slices:
    """Hashes of any slice of ``text`` in O(1) after one O(len) pass."""

    def __init__(self, text: str) -> None:
        self.text = text
        # surrogatepass: a lone surrogate is still one code point, as it is one character of the str
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        powers = np.full(len(codes) + 1, _BASE, dtype=np.uint64)
        powers[0] = 1
        powers = np.cumprod(powers, dtype=np.uint64)[:-1]  # wraps modulo 2**64, as intended
        inverse = np.full(len(codes) + 1, _BASE_INVERSE, dtype=np.uint64)
        inverse[0] = 1
        self.inverse_powers = np.cumprod(inverse, dtype=np.uint64)
        self.prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.cumsum(codes * powers, dtype=np.uint64, out=self.prefix[1:])

    def keys(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """One key per slice ``text[start:end]``: its hash, mixed with its length."""
        hashes = (self.prefix[ends] - self.prefix[starts]) * self.inverse_powers[starts]
        return hashes ^ ((ends - starts).astype(np.uint64) * _LENGTH_MIX)


class _Joined:
    """``separator.join(words)``, the offset of each word in it, and its slice hashes."""

    def __init__(self, words: list[str], separator: str) -> None:
        self.words = len(words)
        self.text = separator.join(words)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + len(separator)
        self.starts = np.zeros(len(words) + 1, dtype=np.int64)  # the last: where a next word would start
        np.cumsum(lengths, out=self.starts[1:])
        self.slices = _Slices(self.text)
        self.separator = len(separator)


def _top_chars(joined: _Joined, n: int) -> int:
    count = joined.words - n + 1
    if count <= 0:
        return 0
    firsts = joined.starts[:count]
    lasts = joined.starts[n : n + count] - joined.separator
    keys = joined.slices.keys(firsts, lasts)
    _, first_seen, counts = np.unique(keys, return_index=True, return_counts=True)
    best = counts.max()
    # Counter.most_common(1) is max() over insertion order: the first n-gram seen with the top count
    top = int(first_seen[counts == best].min())
    gram = joined.text[int(firsts[top]) : int(lasts[top])]
    for other in np.flatnonzero(keys == keys[top]).tolist():
        if joined.text[int(firsts[other]) : int(lasts[other])] != gram:
            raise _HashCollision
    return len(gram) * int(best)


def _repeated_chars(joined: _Joined, n: int) -> int:
    count = joined.words - n + 1
    if count <= 0:
        return 0
    keys = joined.slices.keys(joined.starts[:count], joined.starts[n : n + count])
    _, ids, counts = np.unique(keys, return_inverse=True, return_counts=True)
    # An n-gram that occurs once is never a repeat and never repeated: the scan only has to stop at
    # the others, in order, skipping those a repeat jumps over.
    stops = np.flatnonzero(counts[ids] > 1).tolist()
    if not stops:
        return 0
    id_list = ids.tolist()
    start_list = joined.starts.tolist()
    text = joined.text
    first_seen: dict[int, int] = {}
    repeated, idx = 0, 0
    for position in stops:
        if position < idx:
            continue
        gram_id = id_list[position]
        first = first_seen.get(gram_id)
        if first is None:
            first_seen[gram_id] = position
            idx = position + 1
            continue
        gram = text[start_list[position] : start_list[position + n]]
        if gram != text[start_list[first] : start_list[first + n]]:
            raise _HashCollision
        repeated += len(gram)
        idx = position + n
    return repeated


class NGramCounts:
    """The n-gram figures of datatrove's repetition rules for one page's words, counted on hashes.

    Each method returns what datatrove's function of the same rule returns; the joined forms of the
    words are built once, on first use. A hash collision (checked on every match that counts) makes
    that one call count with datatrove's own function.
    """

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self._spaced: _Joined | None = None
        self._joined: _Joined | None = None

    def top_chars(self, n: int) -> int:
        """``find_top_duplicate(get_n_grams(words, n))``: the characters of the most frequent n-gram
        (words joined by a space) times its count; 0 when there are fewer than ``n`` words."""
        try:
            if self._spaced is None:
                self._spaced = _Joined(self.words, " ")
            return _top_chars(self._spaced, n)
        except _HashCollision:
            n_grams = get_n_grams(self.words, n)
            return find_top_duplicate(n_grams) if n_grams else 0

    def repeated_chars(self, n: int) -> int:
        """``find_all_duplicate(words, n)``: the characters of the n-grams (words joined without a
        separator) seen before, scanning left to right and skipping ``n`` words after a repeat."""
        try:
            if self._joined is None:
                self._joined = _Joined(self.words, "")
            return _repeated_chars(self._joined, n)
        except _HashCollision:
            return find_all_duplicate(self.words, n)


class FastGopherRepetitionFilter(GopherRepetitionFilter):
    """datatrove's ``GopherRepetitionFilter`` (same arguments, rules and reasons), counting n-grams
    on hashes instead of joined strings."""

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        if not text:
            return False, "empty"

        paragraphs = self.paragraph_exp.split(text.strip())
        paragraphs_duplicates, char_duplicates = find_duplicates(paragraphs)
        if self.dup_para_frac and paragraphs_duplicates / len(paragraphs) > self.dup_para_frac:
            return False, "dup_para_frac"
        if self.dup_para_char_frac and char_duplicates / len(text) > self.dup_para_char_frac:
            return False, "dup_para_char_frac"

        lines = self._line_splitter.split(text)
        line_duplicates, char_duplicates = find_duplicates(lines)
        if self.dup_line_frac and line_duplicates / len(lines) > self.dup_line_frac:
            return False, "dup_line_frac"
        if self.dup_line_char_frac and char_duplicates / len(text) > self.dup_line_char_frac:
            return False, "dup_line_char_frac"

        counts = NGramCounts(split_into_words(text, self.language))
        for n, n_frac in self.top_n_grams:
            if counts.top_chars(n) / len(text) > n_frac:
                return False, f"top_{n}_gram"
        for n, n_frac in self.dup_n_grams:
            if counts.repeated_chars(n) / len(text) > n_frac:
                return False, f"duplicated_{n}_n_grams"
        return True
