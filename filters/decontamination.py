"""Benchmark decontamination: n-gram overlap between documents and benchmark test sets.

As in GPT-3 and Llama, a document is contaminated when it shares a word n-gram (13 by default) with a
benchmark item. Both sides go through :func:`normalize_words`:

1. Unicode NFKC, then ``casefold`` (full-width forms, ligatures and case do not matter);
2. apostrophes inside a word are deleted (``Janet's``, ``Janets`` and the same with U+2019 are one
   word) and so are ``,``, ``.`` and ``:`` between digits: ``1,000`` = ``1000``, ``4:00`` = ``4.00``
   (British times), and also ``3.5`` = ``35``, a price paid for the first two;
3. words are the maximal runs of letters and digits; everything else (punctuation, underscores, the
   ``____`` blanks of fill-in questions, whitespace, line breaks) only separates words.

So a copy with other whitespace, case or punctuation still matches (``16-3-4`` = ``16 - 3 - 4``).

Each configured field of each benchmark item (a GSM8K ``question``, an MMLU question or one of its
choices) is a separate segment: n-grams never span two fields, because pages lay choices out in their
own way (``A) ...``, ``(a) ...``, a list) and the labels would break every n-gram across the boundary.
A segment shorter than ``n`` words but with at least ``min_words`` words (8, GPT-3's smallest n) is
indexed whole, as one shorter n-gram; shorter ones ("True, False", "Which of these is true?") are not
indexed: they occur in ordinary text and would flag it (at 5 words, "the fall of the berlin wall" and
"the ends justify the means", MMLU choices, flag two of the 639 clean bench pages). So 573 of the
14,079 MMLU test items, whose question and choices all have fewer than 8 words, cannot be found.

The index is built once per worker in :meth:`Decontaminate.setup`: every n-gram is hashed to 64 bits
(Python's string hash per word, combined with fixed odd multipliers and a splitmix finaliser, vectorised
with numpy) and kept in a sorted ``uint64`` array beside the segment and word position it came from,
about 16 bytes per n-gram. A document's n-grams are hashed the same way and looked up with
``searchsorted``; every hit is then compared word by word with the benchmark segment, so a hash
collision can never drop a document, and the drop detail quotes the matched words.
"""

from __future__ import annotations

import csv
import glob
import gzip
import json
import os
import re
import unicodedata
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Drop, Filter, Verdict

__all__ = ["BenchmarkSpec", "Decontaminate", "Match", "NGramIndex", "normalize_words"]

# Deleted before splitting: apostrophes inside words, and digit-group separators inside numbers.
_APOSTROPHES = "'\u2019\u02bc`"  # ASCII, right single quotation mark, modifier letter apostrophe, grave
_JOINERS = re.compile(rf"(?<=\w)[{_APOSTROPHES}](?=\w)|(?<=\d)[,.:](?=\d)")
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(rf"[^\W_]+(?:[{_APOSTROPHES},.:][^\W_]+)*")

# Odd 64-bit multipliers, one per n-gram position (fixed seed: any odd constants would do).
_BITMAP_LOG2 = 26
_BITMAP_BITS = 1 << _BITMAP_LOG2
_MULTIPLIERS = np.random.default_rng(13).integers(1, 2**63, size=64, dtype=np.uint64) | np.uint64(1)


def normalize_words(text: str) -> list[str]:
    """The words of ``text`` as decontamination compares them (see the module docstring)."""
    if not unicodedata.is_normalized("NFKC", text):  # the check is 30 times cheaper than normalising
        text = unicodedata.normalize("NFKC", text)
    words: list[str] = []
    # Candidate words with their joiners, fixed up one by one: a sub() over the whole text cost more
    # than the split itself, and few words hold a joiner.
    for token in _TOKEN.findall(text.casefold()):
        if token.isalnum():
            words.append(token)
        else:
            words.extend(_WORD.findall(_JOINERS.sub("", token)))
    return words


def _mix(x: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser: the sum below is linear in the word hashes; this spreads it out.
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _word_hashes(words: list[str]) -> np.ndarray:
    return np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)


def _ngram_hashes(word_hashes: np.ndarray, length: int) -> np.ndarray:
    """The hash of every ``length``-word window, in order of its first word."""
    count = len(word_hashes) - length + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    acc = np.full(count, np.uint64(length), dtype=np.uint64)  # the length is part of the key
    with np.errstate(over="ignore"):
        for k in range(length):
            acc += word_hashes[k : k + count] * _MULTIPLIERS[k]
    return _mix(acc)


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark to decontaminate against: which files, and which fields of each item.

    ``path`` is a file or a glob (relative paths are read from the working directory; ``.gz`` is
    decompressed). JSONL items name their fields by key; CSV rows (no header, as MMLU's) by column
    number. ``format`` defaults to the file suffix before any ``.gz``.
    """

    name: str
    path: str
    fields: tuple[str | int, ...]
    format: Literal["jsonl", "csv"] | None = None

    @classmethod
    def from_config(cls, entry: dict[str, Any]) -> BenchmarkSpec:
        if not isinstance(entry, dict):
            raise ValueError(f"a benchmark entry is a mapping with name, path, fields: {entry!r}")
        unknown = sorted(set(entry) - {"name", "path", "fields", "format"})
        missing = sorted({"name", "path", "fields"} - set(entry))
        if unknown or missing:
            raise ValueError(f"benchmark entry {entry!r}: unknown keys {unknown}, missing keys {missing}")
        fields = entry["fields"]
        if isinstance(fields, str | int):
            fields = [fields]
        if not fields:
            raise ValueError(f"benchmark {entry['name']!r}: fields must name at least one field")
        fmt = entry.get("format")
        if fmt not in (None, "jsonl", "csv"):
            raise ValueError(f"benchmark {entry['name']!r}: format must be jsonl or csv, not {fmt!r}")
        return cls(str(entry["name"]), str(entry["path"]), tuple(fields), fmt)

    def files(self) -> list[str]:
        found = sorted(glob.glob(os.path.expanduser(self.path)))
        if not found:
            raise ValueError(f"benchmark {self.name!r}: no file matches path {self.path!r}")
        return found

    def items(self) -> Iterator[tuple[str, int, str | int, str]]:
        """``(file name, 1-based line or row, field, text)`` for every non-empty field of every item."""
        for path in self.files():
            fmt = self.format or Path(path.removesuffix(".gz")).suffix.lstrip(".")
            opener = gzip.open if path.endswith(".gz") else open
            name = os.path.basename(path)
            with opener(path, "rt", encoding="utf-8", newline="") as fh:
                if fmt == "jsonl":
                    # Blank lines are skipped but counted, so that numbers stay the file's line numbers.
                    rows: Iterator[Any] = (json.loads(line) if line.strip() else None for line in fh)
                elif fmt == "csv":
                    rows = csv.reader(fh)
                else:
                    raise ValueError(f"benchmark {self.name!r}: cannot tell the format of {path}")
                for number, row in enumerate(rows, start=1):
                    if row is None:
                        continue
                    for fld in self.fields:
                        value = _field(row, fld, path, number)
                        if value:
                            yield name, number, fld, value


def _field(row: Any, fld: str | int, path: str, number: int) -> str:
    try:
        value = row[fld]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"{path}:{number} has no field {fld!r}") from None
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Match:
    """Where a document overlaps a benchmark: the first matched n-gram and how many distinct ones."""

    benchmark: str
    item: str  # "<file>:<line or row>"
    field: str
    ngram: str
    count: int
    benchmarks: tuple[str, ...]

    def detail(self) -> str:
        return f'{self.benchmark}: {self.item} {self.field} "{self.ngram}" ({self.count} n-grams)'


class NGramIndex:
    """Hashed word n-grams of benchmark segments (see the module docstring for the scheme).

    Lookups first test a bitmap of 2**26 bits (8 MiB) addressed by the top bits of each hash, which
    lets through under 1 % of a clean document's n-grams; only those are binary-searched in the sorted
    keys (a binary search per n-gram was 80 % of the time before).
    """

    def __init__(self, specs: list[BenchmarkSpec], n: int = 13, min_words: int = 8) -> None:
        self.n = n
        self.min_words = min_words
        self.names = [s.name for s in specs]
        self.segments: list[str] = []  # normalised segment text, words joined by one space
        seg_meta: list[tuple[int, int, int, int]] = []  # benchmark, file, line, field
        # Word hashes, not words: a list of 1.5 million word strings tripled the build's peak memory.
        all_hashes = array("q")
        starts: list[int] = []
        file_ids: dict[str, int] = {}
        field_ids: dict[str, int] = {}
        self.items = 0
        for b, spec in enumerate(specs):
            for file, line, fld, text in spec.items():
                self.items += 1
                words = normalize_words(text)
                if len(words) < min_words:
                    continue
                starts.append(len(all_hashes))
                all_hashes.extend(map(hash, words))
                self.segments.append(" ".join(words))
                fid = file_ids.setdefault(file, len(file_ids))
                seg_meta.append((b, fid, line, field_ids.setdefault(str(fld), len(field_ids))))
        self.files = list(file_ids)
        self.fields = list(field_ids)
        self.segment_meta = np.array(seg_meta, dtype=np.uint32).reshape(-1, 4)
        # Hash all segments in one pass over their concatenation, then keep the windows that lie
        # inside one segment: per-segment numpy calls made the build ten times slower.
        word_hashes = np.frombuffer(all_hashes, dtype=np.int64).view(np.uint64)
        seg_start = np.array(starts, dtype=np.int64)
        seg_len = np.diff(np.append(seg_start, len(word_hashes)))
        seg_of_word = np.repeat(np.arange(len(starts), dtype=np.uint32), seg_len)
        keys, refs, positions = [], [], []
        full = _ngram_hashes(word_hashes, n)
        if len(full):
            window_start = np.arange(len(full))
            refs_n = seg_of_word[window_start]
            inside = window_start + n <= seg_start[refs_n] + seg_len[refs_n]
            keys.append(full[inside])
            refs.append(refs_n[inside])
            positions.append((window_start - seg_start[refs_n])[inside])
        self.lengths = [n]
        for length in range(n - 1, min_words - 1, -1):
            segs = np.flatnonzero(seg_len == length)
            if len(segs):
                self.lengths.append(length)
                keys.append(_ngram_hashes(word_hashes, length)[seg_start[segs]])
                refs.append(segs.astype(np.uint32))
                positions.append(np.zeros(len(segs), dtype=np.int64))
        all_keys = np.concatenate(keys) if keys else np.empty(0, dtype=np.uint64)
        # Sorted, first occurrence of each n-gram kept: MMLU repeats ~376 questions, and a repeat
        # must not be counted twice nor named instead of the first item.
        self.keys, first = np.unique(all_keys, return_index=True)
        self.refs = np.concatenate(refs)[first].astype(np.uint32) if keys else np.empty(0, np.uint32)
        self.positions = np.concatenate(positions)[first].astype(np.uint32) if keys else self.refs.copy()
        self.bitmap = np.zeros(_BITMAP_BITS // 8, dtype=np.uint8)
        slot = self.keys >> np.uint64(64 - _BITMAP_LOG2)
        np.bitwise_or.at(
            self.bitmap, slot >> np.uint64(3), np.left_shift(1, slot & np.uint64(7)).astype(np.uint8)
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays and the segment texts (what one worker keeps)."""
        arrays = (self.keys, self.refs, self.positions, self.segment_meta, self.bitmap)
        return sum(a.nbytes for a in arrays) + sum(len(s) + 49 for s in self.segments)  # 49: str header

    def __len__(self) -> int:
        return len(self.keys)

    def _segment_ngram(self, ref: int, pos: int) -> list[str]:
        words = self.segments[ref].split(" ")
        return words[pos : pos + min(self.n, len(words))]

    def _candidates(self, hashes: np.ndarray) -> np.ndarray:
        slot = hashes >> np.uint64(64 - _BITMAP_LOG2)
        bits = self.bitmap[slot >> np.uint64(3)] >> (slot & np.uint64(7)).astype(np.uint8)
        return np.flatnonzero(bits & 1)

    def match(self, words: list[str]) -> Match | None:
        """The first (by position in ``words``) benchmark n-gram found in ``words``, or None."""
        if len(words) < self.min_words or not len(self.keys):
            return None
        word_hashes = _word_hashes(words)
        found: dict[tuple[int, int], int] = {}  # (segment, position) -> first position in the document
        for length in self.lengths:
            hashes = _ngram_hashes(word_hashes, length)
            starts = self._candidates(hashes)
            if not len(starts):
                continue
            slots = np.searchsorted(self.keys, hashes[starts])
            slots[slots == len(self.keys)] = 0
            for start, slot in zip(starts.tolist(), slots.tolist(), strict=True):
                if self.keys[slot] != hashes[start]:
                    continue
                ref, pos = int(self.refs[slot]), int(self.positions[slot])
                # Confirm the words themselves: a 64-bit collision must not flag a document.
                if (ref, pos) not in found and self._segment_ngram(ref, pos) == words[start : start + length]:
                    found[(ref, pos)] = start
        if not found:
            return None
        (ref, pos), _ = min(found.items(), key=lambda kv: kv[1])
        bench, fid, line, kid = (int(v) for v in self.segment_meta[ref])
        names = sorted({self.names[int(self.segment_meta[r][0])] for r, _ in found})
        return Match(
            benchmark=self.names[bench],
            item=f"{self.files[fid]}:{line}",
            field=self.fields[kid],
            ngram=" ".join(self._segment_ngram(ref, pos)),
            count=len(found),
            benchmarks=tuple(names),
        )


@register
class Decontaminate(Filter):
    """Drops (or flags) documents that share a word n-gram with a benchmark's test items.

    ``benchmarks``: a list of ``{name, path, fields, format?}`` (see :class:`BenchmarkSpec`); nothing
    is read by default, the config names the files (``jobs/configs/decontaminate.yaml`` shows GSM8K and
    MMLU). ``n``: words per n-gram (13, as GPT-3 and Llama). ``min_words``: benchmark fields shorter
    than ``n`` are matched whole when they have at least this many words, and ignored below it.
    ``min_matches``: distinct benchmark n-grams a document needs to count as contaminated (1: any).

    ``action: drop`` drops with reason ``benchmark_contamination`` and a detail naming the benchmark,
    the first matched item (``file:line``), the field and the matched words. ``action: flag`` keeps the
    document and writes ``metadata["contamination"]`` (the benchmarks matched, comma-separated) and
    ``metadata["contamination_detail"]``. In both modes ``scores[label]`` is the number of distinct
    benchmark n-grams found (0.0 for a clean document), so thresholds can be studied in flag mode.
    """

    name = "decontaminate"

    def __init__(
        self,
        benchmarks: list[dict[str, Any]] | None = None,
        n: int = 13,
        min_words: int = 8,
        action: Literal["drop", "flag"] = "drop",
        min_matches: int = 1,
    ) -> None:
        super().__init__()
        if not benchmarks:
            raise ValueError("benchmarks must list at least one {name, path, fields} entry")
        if action not in ("drop", "flag"):
            raise ValueError(f"action must be 'drop' or 'flag', not {action!r}")
        if not 1 <= min_words <= n <= len(_MULTIPLIERS):
            raise ValueError(f"need 1 <= min_words <= n <= {len(_MULTIPLIERS)}, got {min_words=} {n=}")
        if min_matches < 1:
            raise ValueError(f"min_matches must be at least 1, not {min_matches}")
        self.specs = [BenchmarkSpec.from_config(entry) for entry in benchmarks]
        names = [s.name for s in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"benchmark names must be unique: {names}")
        for spec in self.specs:
            spec.files()  # a wrong path fails when the config loads, not in the first worker
        self.n = n
        self.min_words = min_words
        self.action = action
        self.min_matches = min_matches
        self._index: NGramIndex | None = None

    def setup(self) -> None:
        self._index = NGramIndex(self.specs, self.n, self.min_words)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_index"] = None  # each worker builds its own: the hashes are per-process
        state["_ready"] = False
        return state

    def check(self, doc: Document) -> Verdict:
        assert self._index is not None, "setup() builds the index"
        found = self._index.match(normalize_words(doc.text))
        count = found.count if found else 0
        doc.scores[self.label] = float(count)
        if found is None or count < self.min_matches:
            return None
        if self.action == "drop":
            return Drop("benchmark_contamination", detail=found.detail())
        doc.metadata["contamination"] = ",".join(found.benchmarks)
        doc.metadata["contamination_detail"] = found.detail()
        return None
