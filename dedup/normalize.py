"""Text normalisation and word shingles for deduplication.

One normalisation serves exact dedup (:func:`dedup.exact.exact_key`) and MinHash (:mod:`dedup.minhash`),
so two texts with equal exact keys always get equal MinHash signatures.

The rules, in order (the model is FineWeb's ``datatrove.utils.text.simplify_text``; differences noted):

1. Unicode NFKC: full-width forms, ligatures, compatibility digits and composed/decomposed accents
   become one spelling. Diacritics are *kept* (datatrove strips them): "résumé" and "resume" are
   different words in several languages, and NFKC already unifies the encodings of one accent.
2. Lowercase (``str.lower``).
3. Every Unicode punctuation (``P*``), symbol (``S*``), control, format, surrogate and (BMP) private-use
   character becomes a space. datatrove uses a hand-made list of ASCII and CJK punctuation; the
   Unicode categories also cover the scripts that list misses.
4. Digits are *kept* (datatrove replaces every number by ``0``). ccsieve also builds math and code
   sets, where numbers are the content: GSM8K-style problems that differ only in their numbers are
   distinct examples. A page that differs from another only in a date or a counter changes just the
   few shingles around it, so near-duplicate recall hardly suffers.
5. Whitespace (anything ``str.split()`` splits on) collapses to single ASCII spaces, no leading or
   trailing space. Hence ``normalize_text(t).split(" ")`` are exactly the words, none of them empty or
   containing whitespace, which the vectorised hashing in :mod:`dedup.minhash` relies on.

NFKC, ``lower`` and the categories come from the Unicode database of the running Python
(``unicodedata.unidata_version``, 14.0.0 on Python 3.11): runs that must compare keys or signatures
should use one Python minor version.
"""

from __future__ import annotations

import sys
import unicodedata
from functools import lru_cache

import numpy as np

__all__ = ["normalize_text", "shingles"]


# Unicode's private-use area of the BMP (icon fonts put their glyphs there); the private planes 15-16 are
# left out: text never uses them.
_BMP_PRIVATE_USE = range(0xE000, 0xF900)
_SPACE = np.uint32(ord(" "))


@lru_cache(maxsize=1)
def _separators() -> np.ndarray:
    """Boolean table over all code points: True where normalisation puts a space (1.1 MB, ~0.4 s once)."""
    table = np.zeros(sys.maxunicode + 1, dtype=bool)
    for cp in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(cp))
        if category[0] in "PS" or category in ("Cc", "Cf", "Cs") or cp in _BMP_PRIVATE_USE:
            table[cp] = True
    return table


def normalize_text(text: str) -> str:
    """The text as dedup compares it: NFKC, lowercase, punctuation/symbols removed, digits kept.

    See the module docstring for the rules and why. Returns words separated by single spaces; an
    empty string when the text has no words.
    """
    if not text.isascii():  # O(1) flag check; ASCII is already NFKC and NFKC's quick check is not free
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    # One table lookup per code point in numpy: ~10x faster than str.translate on non-ASCII text, which
    # made normalisation the bottleneck of MinHash. surrogatepass lets lone surrogates through to be
    # mapped to spaces (they cannot be encoded as UTF-8 later).
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = np.where(_separators()[codes], _SPACE, codes)
    return " ".join(codes.tobytes().decode("utf-32-le").split())


def shingles(text: str, n: int = 5) -> list[str]:
    """Word ``n``-grams of the normalised text, each as its words joined by single spaces.

    A text with fewer than ``n`` words (but at least one) gives one shingle of all its words, so short
    documents still have a signature; a text without words gives none. Duplicates are kept, in order.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    words = normalize_text(text).split()
    if len(words) <= n:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
