"""CCNet's text normalisation, applied to every line before a KenLM model sees it.

The same function must run when the model is trained (``jobs.train_kenlm``) and when documents are
scored (the ``perplexity`` stage): a model trained on normalised text gives meaningless scores to raw
text. The behaviour follows ``cc_net/text_normalizer.normalize`` (facebookresearch/cc_net, MIT) with its
defaults: strip, lowercase, strip accents, every digit to 0, a fixed set of Unicode punctuation mapped
to ASCII, control characters removed. CCNet then tokenises with SentencePiece; ccsieve has no
SentencePiece model, so callers split the normalised line on whitespace.
"""

# ruff: noqa: RUF001, RUF003 -- the look-alike punctuation below is the point of this module

from __future__ import annotations

import re
import unicodedata

__all__ = ["UNICODE_PUNCT", "normalize", "normalize_lines", "strip_accents"]

# CCNet's table, kept as it is (including the full-width "１" mapped to a quote, which never fires once
# digits are replaced first) so that a model trained here scores text the way CCNet's pipeline would.
UNICODE_PUNCT: dict[str, str] = {
    "，": ",",
    "。": ".",
    "、": ",",
    "„": '"',
    "”": '"',
    "“": '"',
    "«": '"',
    "»": '"',
    "１": '"',
    "」": '"',
    "「": '"',
    "《": '"',
    "》": '"',
    "´": "'",
    "∶": ":",
    "：": ":",
    "？": "?",
    "！": "!",
    "（": "(",
    "）": ")",
    "；": ";",
    "–": "-",
    "—": " - ",
    "．": ". ",
    "～": "~",
    "’": "'",
    "…": "...",
    "━": "-",
    "〈": "<",
    "〉": ">",
    "【": "[",
    "】": "]",
    "％": "%",
    "►": "-",
}
_PUNCT_TABLE = str.maketrans(UNICODE_PUNCT)
# C0 and C1 control characters (tab and newline included, as in CCNet: input is one line).
_NON_PRINTING_TABLE = str.maketrans(dict.fromkeys([*range(32), *range(127, 160)]))
# \d is Unicode-aware: Arabic-Indic, Devanagari and full-width digits become 0 too, as in CCNet.
_DIGIT_RE = re.compile(r"\d")


def strip_accents(text: str) -> str:
    """Remove combining marks after canonical decomposition: ``"café"`` → ``"cafe"``."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def normalize(
    line: str, *, accent: bool = True, case: bool = True, numbers: bool = True, punct: bool = True
) -> str:
    """Normalise one line as CCNet does before its language model (see the module docstring)."""
    line = line.strip()
    if not line:
        return line
    if case:
        line = line.lower()
    if accent:
        line = strip_accents(line)
    if numbers:
        line = _DIGIT_RE.sub("0", line)
    if punct:
        line = line.translate(_PUNCT_TABLE)
    return line.translate(_NON_PRINTING_TABLE)


def normalize_lines(text: str) -> list[str]:
    """The non-empty normalised lines (paragraphs) of a document, each with single spaces between tokens.

    Whitespace runs collapse because, without SentencePiece, tokens are whitespace-separated and KenLM
    would split them that way anyway; lines that normalise to nothing carry no words and are skipped.
    """
    lines = []
    for raw in text.split("\n"):
        tokens = normalize(raw).split()
        if tokens:
            lines.append(" ".join(tokens))
    return lines
