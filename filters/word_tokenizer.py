# ruff: noqa: RUF001  # the look-alike quotes and stops below are the point: spaCy splits on each
"""A fast word and sentence splitter for datatrove's heuristic filters, close to spaCy's English one.

datatrove's Gopher, C4 and FineWeb filters split words and sentences with a blank spaCy pipeline plus its
sentencizer. That costs 6 to 10 s to set up in every worker and about as much per page as the filters'
own rules combined (docs/performance.md). The filters only count the pieces: how many words, how long,
how many are symbols, how many n-grams repeat, how many sentences a line holds. So spaCy's English
prefix, suffix and infix rules and its common exceptions, applied with regular expressions, serve them
equally. Where it differs (rarer exceptions, some abbreviations), counts move by a fraction of a per
cent; ``benchmarks/tokenizer_agreement.py`` measures how many filter decisions change.

:class:`FastWordTokenizer` is a datatrove ``WordTokenizer``, so the filters take it as their ``language``
argument unchanged (datatrove's ``load_word_tokenizer`` accepts a tokenizer instance).
"""

from __future__ import annotations

import regex
from datatrove.utils.word_tokenizers import WordTokenizer

__all__ = ["FastWordTokenizer"]

_QUOTES = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉"
_PUNCT = r",:;!?¿؟¡()\[\]{}<>_#*&。？！，、；：～·।،۔؛٪"
_CURRENCY = "$£€¥฿₹₽₩"
_UNITS = (
    "km|km²|km³|m|m²|m³|dm|cm|cm²|mm|mm²|ha|µm|nm|yd|in|ft|kg|g|mg|µg|t|lb|oz|m/s|km/h|kmh|mph|hPa|Pa|"
    "mbar|mb|MB|kb|KB|gb|GB|tb|TB|T|G|M|K|%"
)
# spaCy's English prefix, suffix and infix rules (spacy/lang/punctuation.py), in its own order.
_ICON = r"(?!°)\p{So}"  # symbols such as ─ ┼ © split off one by one (spaCy's LIST_ICONS)
_PREFIX = regex.compile(rf"^(?:{_ICON}|\.\.+|…|[§%=—–]|\+(?![0-9])|[{_PUNCT}]|[{_QUOTES}]|[{_CURRENCY}])")
_SUFFIX = regex.compile(
    rf"(?:\):|''|{_ICON}|\.\.+|…|['’][sS]|[{_PUNCT}]|[{_QUOTES}]|[—–]|(?<=[0-9])\+|(?<=°[FfCcKk])\."
    rf"|(?<=[0-9])(?:[{_CURRENCY}]|{_UNITS})|(?<=[0-9\p{{Ll}}%²\-+{_QUOTES}{_PUNCT}])\.|(?<=\p{{Lu}}\p{{Lu}})\.)$"
)
_INFIX = regex.compile(
    rf"{_ICON}|\.\.+|…|(?<=[0-9])[+\-*^](?=[0-9-])|(?<=[\p{{Ll}}{_QUOTES}])\.(?=[\p{{Lu}}{_QUOTES}])"
    r"|(?<=\p{L}),(?=\p{L})|(?<=[\p{L}0-9])(?:---|--|-|–|—)(?=\p{L})|(?<=[\p{L}0-9])[:<>=/](?=\p{L})"
)
# Tokenizer exceptions kept whole: abbreviations (U.S., e.g., J.), titles, emoticons.
_TITLES = (
    "mr|mrs|ms|dr|st|jr|sr|vs|inc|ltd|co|corp|rep|sen|gov|rev|gen|jan|feb|aug|sept|oct|nov|dec|calif|fla"
)
_WHOLE = regex.compile(rf"(?:\p{{L}}\.)+|(?i:{_TITLES})\.|[:;=]-?[()DPp\]\[/\\|]|\):|\(:|''|<3|\^_\^")
_URL = regex.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CONTRACTION = regex.compile(r"(?i)(\w+?)(n['’]t|['’](?:re|ve|ll|d|m))")

# spaCy's sentencizer ends a sentence after a run of these when the next token is not one of them.
_SENTENCE_END = regex.compile(r"""[.!?։؟۔܀܁܂߹।॥။።፧፨᙮᜵᜶‼‽⁇⁈⁉⸮。！．？｡]+['"”’)\]]*(?=\s|$)""")


# Punctuated chunks repeat ("the,", "it.", "(see"): their split is kept, up to this many chunks.
_CHUNK_CACHE_LIMIT = 1 << 17
_chunk_cache: dict[str, tuple[str, ...]] = {}


class _RecentSplits:
    """The words of the texts split last, within a budget of characters; the oldest go first.

    The Gopher filters split the same text one after the other, a batch (128 documents) at a time:
    the second split is then a lookup.
    """

    def __init__(self, budget_chars: int) -> None:
        self.budget_chars = budget_chars
        self.chars = 0
        self.words: dict[str, tuple[str, ...]] = {}

    def add(self, text: str, words: tuple[str, ...]) -> None:
        if len(text) > self.budget_chars // 8:
            return  # one huge page would push out the whole batch
        self.words[text] = words
        self.chars += len(text)
        while self.chars > self.budget_chars:
            oldest = next(iter(self.words))
            self.chars -= len(oldest)
            del self.words[oldest]


_recent_splits = _RecentSplits(2_000_000)


class FastWordTokenizer(WordTokenizer):
    """Splits words and sentences with regular expressions shaped after spaCy's English tokenizer."""

    def __init__(self, language: str = "en") -> None:
        super().__init__(language)

    def word_tokenize(self, text: str) -> list[str]:
        words = _recent_splits.words.get(text)
        if words is None:
            words = tuple(self._split_words(text))
            _recent_splits.add(text, words)
        return list(words)

    def _split_words(self, text: str) -> list[str]:
        tokens: list[str] = []
        cache = _chunk_cache
        if len(cache) > _CHUNK_CACHE_LIMIT:
            cache.clear()
        for chunk in text.split():
            if chunk.isalnum() and chunk.lower() != "cannot":
                tokens.append(chunk)  # most words: nothing to split
                continue
            parts = cache.get(chunk)
            if parts is None:
                pieces: list[str] = []
                _split_chunk(chunk, pieces)
                parts = cache[chunk] = tuple(pieces)
            tokens.extend(parts)
        return tokens

    def sent_tokenize(self, text: str) -> list[str]:
        return [text[a:b] for a, b in self.span_tokenize(text)]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        start = 0
        for match in _SENTENCE_END.finditer(text):
            end = match.end()
            if text[start:end].strip():
                spans.append(_trim(text, start, end))
            start = end
        if text[start:].strip():
            spans.append(_trim(text, start, len(text)))
        return spans

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (FastWordTokenizer, (self.language or "en",))

    def __eq__(self, other: object) -> bool:
        # One instance per filter, yet datatrove's split cache (keyed on this object) should be shared.
        return isinstance(other, FastWordTokenizer) and other.language == self.language

    def __hash__(self) -> int:
        return hash((FastWordTokenizer, self.language))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_chunk(chunk: str, tokens: list[str]) -> None:
    """spaCy's affix loop on one whitespace-free chunk: peel prefixes and suffixes, then split infixes."""
    suffixes: list[str] = []
    while chunk and not _WHOLE.fullmatch(chunk):
        before = len(chunk)
        prefix = _PREFIX.match(chunk)
        if prefix and prefix.end() < len(chunk):
            tokens.append(prefix.group())
            chunk = chunk[prefix.end() :]
            if _WHOLE.fullmatch(chunk):
                break
        suffix = _SUFFIX.search(chunk)
        if suffix and suffix.start() > 0:
            suffixes.append(suffix.group())
            chunk = chunk[: suffix.start()]
        elif (prefix and prefix.end() == len(chunk)) or (suffix and suffix.start() == 0):
            tokens.append(chunk)  # a lone symbol
            chunk = ""
        if len(chunk) == before:
            break
    if chunk:
        if _WHOLE.fullmatch(chunk) or _URL.fullmatch(chunk):
            tokens.append(chunk)
        elif (contraction := _CONTRACTION.fullmatch(chunk)) is not None:
            tokens.extend(contraction.groups())
        elif chunk.lower() == "cannot":
            tokens.extend((chunk[:3], chunk[3:]))
        else:
            start = 0
            for infix in _INFIX.finditer(chunk):
                if infix.start() > start:
                    tokens.append(chunk[start : infix.start()])
                tokens.append(infix.group())
                start = infix.end()
            if start < len(chunk):
                tokens.append(chunk[start:])
    tokens.extend(reversed(suffixes))
