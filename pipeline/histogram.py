"""Score histograms: exact counts over fixed bins, so that workers' histograms add up exactly.

Scores come in two shapes: probabilities in [0, 1] (language id, classifiers) and unbounded values
such as perplexities (1 to 1e5 and beyond) or log-probabilities (negative). One fixed bin scheme
covers both without knowing the score in advance:

* [0, 1): 100 linear bins of width 0.01 (bin ``i`` is ``[i/100, (i+1)/100)``) -- thresholds on
  probabilities are tuned in hundredths;
* [1, ∞): 20 bins per decade (bin ``100 + k`` is ``[10**(k/20), 10**((k+1)/20))``, about 12 % wide),
  the last one open-ended above 1e15;
* negative values mirror the positive ones (bin ``-1 - i`` holds ``-x`` for ``x`` in bin ``i``).

Only non-empty bins are stored. Counts, minimum and maximum do not depend on the order documents
arrive in, so the local and Ray runners report identical histograms, and adding the histograms of
two workers gives the histogram of one pass over both. Percentiles are read off the bins (linear
within a bin), so they are exact to a bin's width. NaN and infinite scores are counted apart.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ScoreHistogram"]

_LINEAR = 100  # bins in [0, 1)
_PER_DECADE = 20
_DECADES = 15  # log bins up to 1e15; larger finite values share the last bin
_TOP = _LINEAR + _PER_DECADE * _DECADES - 1
_HALF_LOG_BIN = 10 ** (0.5 / _PER_DECADE)
_BAR_WIDTH = 40
_MAX_BARS = 24


def bin_index(value: float) -> int:
    """The bin of a finite value."""
    if value < 0:
        return -1 - bin_index(-value)
    if value < 1:
        return min(int(value * _LINEAR), _LINEAR - 1)
    return min(_LINEAR + math.floor(_PER_DECADE * math.log10(value)), _TOP)


def bin_edges(index: int) -> tuple[float, float]:
    """``[low, high)`` of a bin (``(low, high]`` for negative bins); the top bin's high is infinite."""
    if index < 0:
        low, high = bin_edges(-1 - index)
        return -high, -low
    if index < _LINEAR:
        return index / _LINEAR, (index + 1) / _LINEAR
    k = index - _LINEAR
    high = math.inf if index == _TOP else 10 ** ((k + 1) / _PER_DECADE)
    return 10 ** (k / _PER_DECADE), high


@dataclass(slots=True)
class ScoreHistogram:
    """Counts of one score's values over the fixed bins; ``add`` merges another worker's counts."""

    bins: Counter[int] = field(default_factory=Counter)
    count: int = 0  # finite values, the ones in ``bins``
    nonfinite: int = 0  # NaN and ±inf: not binned, not in min/max or percentiles
    min: float = math.inf
    max: float = -math.inf

    def record(self, value: float) -> None:
        value = float(value)
        if not math.isfinite(value):
            self.nonfinite += 1
            return
        self.bins[bin_index(value)] += 1
        self.count += 1
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    def add(self, other: ScoreHistogram) -> None:
        self.bins.update(other.bins)
        self.count += other.count
        self.nonfinite += other.nonfinite
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 ≤ q ≤ 1), exact to the width of the bin it falls in; NaN when empty."""
        if self.count == 0:
            return math.nan
        target = q * self.count
        seen = 0
        for index in sorted(self.bins):
            n = self.bins[index]
            if seen + n >= target and n:
                low, high = bin_edges(index)
                # The observed extremes are tighter than the outer bins' edges (and the top bin is open).
                low, high = max(low, self.min), min(high, self.max)
                return low + (high - low) * (target - seen) / n
            seen += n
        return self.max

    @property
    def is_probability(self) -> bool:
        """Every value in [0, 1]: shown on a fixed [0, 1] axis so histograms of scores compare."""
        return self.count > 0 and self.min >= 0 and self.max <= 1

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the extremes, p10/p50/p90, and the non-empty bins as ``[low, high, count]``."""
        data: dict[str, Any] = {"count": self.count}
        if self.nonfinite:
            data["nonfinite"] = self.nonfinite
        if self.count:
            data |= {"min": self.min, "max": self.max}
            data |= {f"p{p}": _round(self.quantile(p / 100)) for p in (10, 50, 90)}
        # An open end of the outermost bins is written as null: JSON has no infinity.
        data["bins"] = [
            [*(_round(e) if math.isfinite(e) else None for e in bin_edges(i)), n]
            for i, n in sorted(self.bins.items())
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreHistogram:
        # The midpoint of the written edges lies well inside its bin, whatever the rounding; for the
        # open-ended outermost bins, a point half a log bin beyond the closed edge does.
        bins: Counter[int] = Counter()
        for low, high, n in data["bins"]:
            inside = (
                (low + high) / 2 if low is not None and high is not None else (low or high) * _HALF_LOG_BIN
            )
            bins[bin_index(inside)] += n
        return cls(
            bins,
            data["count"],
            data.get("nonfinite", 0),
            data.get("min", math.inf),
            data.get("max", -math.inf),
        )

    def render(self) -> list[str]:
        """Text lines: a summary, then one bar per range (█, longest bar = most documents)."""
        head = f"n={self.count:,}"
        if self.nonfinite:
            head += f" (+{self.nonfinite:,} NaN/inf)"
        if not self.count:
            return [head]
        head += "  " + "  ".join(
            f"{name} {_num(v)}"
            for name, v in [
                ("min", self.min),
                ("p10", self.quantile(0.1)),
                ("p50", self.quantile(0.5)),
                ("p90", self.quantile(0.9)),
                ("max", self.max),
            ]
        )
        bars = self._bars()
        peak = max(n for _, _, n in bars)
        # Negative bins hold (low, high], the others [low, high).
        labels = [
            f"({_num(low)}, {_num(high)}]" if high <= 0 else f"[{_num(low)}, {_num(high)})"
            for low, high, _ in bars
        ]
        if self.is_probability:
            labels[-1] = labels[-1][:-1] + "]"  # the last bar holds the scores of exactly 1 too
        width = max(map(len, labels))
        lines = [head]
        for label, (_, _, n) in zip(labels, bars, strict=True):
            length = round(_BAR_WIDTH * n / peak)
            bar = "█" * length or ("▏" if n else "")
            lines.append(f"{label.ljust(width)} {bar.ljust(_BAR_WIDTH)} {n:,}")
        return lines

    def _bars(self) -> list[tuple[float, float, int]]:
        """At most ``_MAX_BARS`` bars of whole fine bins: 0.05 wide for probabilities, else grouped
        so that the groups line up with decades (1, 2, 4, 5, 10, 20, ... fine bins per bar)."""
        if self.is_probability:
            # A probability of exactly 1.0 sits in the first log bin; it belongs to the last bar.
            fine = Counter({min(i, _LINEAR - 1): 0 for i in self.bins})
            for i, n in self.bins.items():
                fine[min(i, _LINEAR - 1)] += n
            first, last, group = 0, _LINEAR - 1, 5
        else:
            fine = self.bins
            first, last = min(fine), max(fine)
            group = next(g for g in _groups() if (last // g) - (first // g) + 1 <= _MAX_BARS)
        bars = []
        for start in range((first // group) * group, last + 1, group):
            n = sum(fine.get(i, 0) for i in range(start, start + group))
            low, high = bin_edges(start)[0], bin_edges(start + group - 1)[1]
            bars.append((low, high, n))
        return bars


def _groups() -> list[int]:
    return [1, 2, 4, 5, 10, 20, 40, 50, 100, 200, 500, 1000, 10_000]


def _round(value: float) -> float:
    return value if not math.isfinite(value) or value == 0 else float(f"{value:.6g}")


def _num(value: float) -> str:
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.4g}"
