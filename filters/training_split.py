"""Preparing fastText training documents: exact-duplicate removal, group-wise held-out split and
cross-validation folds, and class balancing.

A document's *group* (its site, when known) is never split: a site's template or a page cut into
passages on both sides of a split would inflate the held-out figures.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from filters.classifiers import DEFAULT_MAX_CHARS, preprocess

__all__ = ["Example", "dedupe", "fold_groups", "oversample", "split_holdout"]


@dataclass(frozen=True, slots=True)
class Example:
    """One training document: its text, its class, and the group it must not be split from."""

    text: str
    positive: bool
    group: str


def dedupe(
    examples: Iterable[Example], max_chars: int = DEFAULT_MAX_CHARS, scheme: str = "dclm"
) -> tuple[list[Example], int]:
    """Drop empty texts and exact duplicates (after :func:`preprocess`); a text given both labels is
    dropped entirely. Returns the survivors and how many were removed."""
    seen: dict[str, bool | None] = {}
    order: list[tuple[str, Example]] = []
    removed = 0
    for ex in examples:
        key = preprocess(ex.text, max_chars, scheme)
        if not key:
            removed += 1
            continue
        if key in seen:
            removed += 1
            if seen[key] is not None and seen[key] != ex.positive:
                seen[key] = None  # contradictory labels: neither copy is evidence
            continue
        seen[key] = ex.positive
        order.append((key, ex))
    kept = [ex for key, ex in order if seen[key] is not None]
    return kept, removed + len(order) - len(kept)


def _strata(examples: Sequence[Example], seed: int) -> list[list[tuple[str, int]]]:
    """Groups that hold positives and groups that do not, each shuffled with ``seed``, with sizes."""
    sizes: dict[str, int] = {}
    has_positive: dict[str, bool] = {}
    for ex in examples:
        sizes[ex.group] = sizes.get(ex.group, 0) + 1
        has_positive[ex.group] = has_positive.get(ex.group, False) or ex.positive
    rng = random.Random(seed)
    strata = []
    for flag in (True, False):
        groups = sorted(g for g in sizes if has_positive[g] is flag)
        rng.shuffle(groups)
        strata.append([(g, sizes[g]) for g in groups])
    return strata


def split_holdout(
    examples: Sequence[Example], fraction: float = 0.1, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Split into (train, held-out) by whole groups, about ``fraction`` of the documents held out.

    Groups with positives and groups without are drawn separately so both classes reach the
    held-out set; the training list is shuffled with ``seed`` (fastText learns in file order).
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"held-out fraction must be in [0, 1), not {fraction}")
    held: set[str] = set()
    for stratum in _strata(examples, seed):
        target = fraction * sum(size for _, size in stratum)
        taken = 0
        for group, size in stratum:
            if taken >= target:
                break
            if taken + size > 2 * target:
                continue  # one big site would overshoot the fraction twice over; a smaller one may fit
            held.add(group)
            taken += size
        if not taken and target > 0 and stratum:
            held.add(min(stratum, key=lambda item: item[1])[0])  # every group is big: take the smallest
    train = [ex for ex in examples if ex.group not in held]
    test = [ex for ex in examples if ex.group in held]
    random.Random(seed).shuffle(train)
    return train, test


def fold_groups(examples: Sequence[Example], folds: int, seed: int = 0) -> list[set[str]]:
    """Assign groups to ``folds`` folds, positive-holding groups and the rest dealt out separately,
    largest first, each to the fold with the fewest documents of that stratum so far."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    assignment: list[set[str]] = [set() for _ in range(folds)]
    for stratum in _strata(examples, seed):
        load = [0] * folds
        # Stable sort after the seeded shuffle: equal-sized groups keep a random order.
        for group, size in sorted(stratum, key=lambda item: -item[1]):
            target = min(range(folds), key=lambda i: (load[i], i))
            assignment[target].add(group)
            load[target] += size
    return assignment


def oversample(examples: Sequence[Example], seed: int = 0) -> list[Example]:
    """Repeat the rarer class ``majority // minority`` times and shuffle (training side only)."""
    pos = [ex for ex in examples if ex.positive]
    neg = [ex for ex in examples if not ex.positive]
    minority, majority = (pos, neg) if len(pos) < len(neg) else (neg, pos)
    factor = len(majority) // len(minority) if minority else 1
    out = minority * factor + majority
    random.Random(seed).shuffle(out)
    return out
