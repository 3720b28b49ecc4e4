"""``report.html``: one self-contained page per run (issue 7).

Built from the run folder alone: ``stats.json`` (funnel, drop reasons, seconds, score histograms), the
kept shards (document lengths, a sample of documents), ``dropped/*.parquet`` (a sample per drop reason)
and, when present, a dedup job's ``dedup_stats.json`` (cluster sizes). Charts are inline SVG
(:mod:`pipeline.report_svg`); the page loads nothing and runs no script. Everything that comes from a
document or a configuration is HTML-escaped.
"""

from __future__ import annotations

import json
import math
import posixpath
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.histogram import ScoreHistogram, bin_index
from pipeline.report_svg import hbar_chart, histogram_chart
from pipeline.sinks import OutputLayout

__all__ = ["ReportData", "build_report_html", "collect", "write_report_html"]

SNIPPET_CHARS = 300
KEPT_SAMPLES = 10
DROP_SAMPLES = 5  # per (stage, reason)
MAX_LENGTH_SHARDS = 64  # document lengths are read from at most this many shards, spread evenly

_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.text { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; max-width: 560px; }
td.url { word-break: break-all; max-width: 260px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .muted { color: #666; }
"""


@dataclass
class ReportData:
    """What the page shows, read from one run folder."""

    root: str
    stats: dict[str, Any]
    lengths: ScoreHistogram = field(default_factory=ScoreHistogram)
    length_shards: tuple[int, int] = (0, 0)  # shards read, shards in the run
    kept: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    dedup: dict[str, Any] | None = None


def _read(layout: OutputLayout, path: str, columns: list[str]) -> pa.Table:
    """Columns of one shard, read on this thread.

    ``pq.read_table`` on a Python file object pre-buffers through Arrow's I/O threads, which call back into
    Python; one still waiting for the GIL at interpreter exit aborts the process ("terminate called without
    an active exception", apache/arrow#45017). ``ParquetFile`` without threads reads synchronously.
    """
    with layout.fs.open(path, "rb") as fh:
        return pq.ParquetFile(fh).read(columns=columns, use_threads=False)


def _lengths(layout: OutputLayout, shards: list[str]) -> tuple[ScoreHistogram, list[dict[str, Any]]]:
    """Histogram of the kept documents' lengths (characters) and the first kept documents."""
    hist = ScoreHistogram()
    kept: list[dict[str, Any]] = []
    for path in shards:
        table = _read(layout, path, ["url", "language", "text"])
        if len(kept) < KEPT_SAMPLES:
            kept += table.slice(0, KEPT_SAMPLES - len(kept)).to_pylist()
        lengths = pc.utf8_length(table.column("text")).to_numpy(zero_copy_only=False).astype(np.float64)
        if not len(lengths):
            continue
        # bin_index vectorised for non-negative values (a length below 1 is 0: the first bin).
        top = bin_index(1e300)
        logs = np.log10(np.maximum(lengths, 1.0))
        bins = np.where(lengths < 1, 0, np.minimum(100 + np.floor(20 * logs).astype(np.int64), top))
        values, counts = np.unique(bins, return_counts=True)
        hist.bins.update(dict(zip(values.tolist(), counts.tolist(), strict=True)))
        hist.count += len(lengths)
        hist.min = min(hist.min, float(lengths.min()))
        hist.max = max(hist.max, float(lengths.max()))
    return hist, kept


def _drop_samples(layout: OutputLayout, stats: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Up to :data:`DROP_SAMPLES` dropped records per stage and reason; stops once every reason has them."""
    wanted = {(stage, reason) for stage, s in stats["stages"].items() for reason in s["dropped"]}
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in sorted(wanted)}
    for path in sorted(layout.fs.glob(layout.join("dropped", "*.parquet"))):
        if all(len(v) >= DROP_SAMPLES for v in samples.values()):
            break
        rows = _read(layout, path, ["url", "stage", "reason", "detail"]).to_pylist()
        for row in rows:
            bucket = samples.setdefault((row["stage"], row["reason"]), [])
            if len(bucket) < DROP_SAMPLES:
                bucket.append(row)
    return samples


def collect(root: str, dedup: str | None = None) -> ReportData:
    """Read everything the page needs from a run folder (``dedup``: a ``dedup_stats.json`` elsewhere)."""
    layout = OutputLayout(root)
    with layout.fs.open(layout.join("stats.json"), "r") as fh:
        stats = json.load(fh)
    shards = layout.shard_files()
    if len(shards) > MAX_LENGTH_SHARDS:
        step = len(shards) / MAX_LENGTH_SHARDS
        chosen = [shards[int(i * step)] for i in range(MAX_LENGTH_SHARDS)]
    else:
        chosen = shards
    lengths, kept = _lengths(layout, chosen)
    data = ReportData(root, stats, lengths, (len(chosen), len(shards)), kept, _drop_samples(layout, stats))
    if dedup is None:
        fs, path = layout.fs, layout.join("dedup_stats.json")
        if not fs.exists(path):
            return data
    else:  # given explicitly: a missing file is an error
        fs, path = fsspec.core.url_to_fs(dedup)
    with fs.open(path, "r") as fh:
        data.dedup = json.load(fh)
    return data


def _num(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.4g}"


def _hist_chart(hist: ScoreHistogram, title: str) -> str:
    """A score histogram as an SVG bar chart, with the bars of the text report (same grouping)."""
    if not hist.count:
        return f"<p class='muted'>{escape(title)}: no finite values</p>"
    bars = [(f"[{_num(low)}, {_num(high)})", n) for low, high, n in hist._bars()]
    if hist.is_probability:  # the last bar holds the scores of exactly 1 too
        bars[-1] = (bars[-1][0][:-1] + "]", bars[-1][1])
    summary = "  ".join(
        f"{name} {_num(v)}"
        for name, v in [
            ("min", hist.min),
            ("p10", hist.quantile(0.1)),
            ("p50", hist.quantile(0.5)),
            ("p90", hist.quantile(0.9)),
            ("max", hist.max),
        ]
    )
    nonfinite = f" (+{hist.nonfinite:,} NaN/inf)" if hist.nonfinite else ""
    return histogram_chart(bars, title=title, subtitle=f"n={hist.count:,}{nonfinite}  {summary}")


def _table(head: list[str], rows: list[list[str]], classes: list[str]) -> str:
    """An HTML table; the cells are already-escaped HTML, ``classes`` one CSS class per column."""
    out = ["<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = "".join(
            f"<td class='{c}'>{cell}</td>" if c else f"<td>{cell}</td>"
            for cell, c in zip(row, classes, strict=True)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _snippet(text: str | None) -> str:
    if text is None:
        return "<span class='muted'>(none)</span>"
    cut = text[:SNIPPET_CHARS]
    return escape(cut) + ("…" if len(text) > SNIPPET_CHARS else "")


def _funnel(stages: dict[str, Any]) -> list[str]:
    rows = [(label, float(s["seen"]), float(sum(s["dropped"].values()))) for label, s in stages.items()]
    table = []
    for label, s in stages.items():
        reasons = (
            ", ".join(f"{escape(r)}: {n:,}" for r, n in Counter(s["dropped"]).most_common())
            or "<span class='muted'>-</span>"
        )
        rate = f"{s['seen'] / s['seconds']:,.1f}" if s["seconds"] > 0 else "-"
        table.append(
            [
                escape(label),
                f"{s['seen']:,}",
                f"{s['kept']:,}",
                f"{sum(s['dropped'].values()):,}",
                f"{s['seconds']:.2f}",
                rate,
                reasons,
            ]
        )
    throughput = [(label, s["seen"] / s["seconds"], 0.0) for label, s in stages.items() if s["seconds"] > 0]
    return [
        "<h2 id='funnel'>Funnel</h2>",
        hbar_chart(rows, title="Documents seen per stage (red: dropped by the stage)"),
        _table(
            ["stage", "seen", "kept", "dropped", "seconds", "docs/s", "drop reasons"],
            table,
            ["", "n", "n", "n", "n", "n", ""],
        ),
        "<h2 id='throughput'>Throughput</h2>",
        "<p class='muted'>Documents seen per second of the stage's own time, summed over workers.</p>",
        hbar_chart(throughput, title="Throughput per stage", unit=" docs/s")
        if throughput
        else "<p class='muted'>No stage timings.</p>",
    ]


def _dedup(dedup: dict[str, Any]) -> list[str]:
    parts = [
        "<h2 id='dedup'>Deduplication</h2>",
        f"<p>documents in {dedup.get('docs_in', 0):,}, out {dedup.get('docs_out', 0):,}, "
        f"removed {dedup.get('removed', 0):,}</p>",
        hbar_chart(
            [(r, float(n), 0.0) for r, n in dedup.get("removed_by_reason", {}).items()],
            title="Removed by reason",
        ),
    ]
    sizes = dedup.get("cluster_sizes", {})
    if not sizes:
        parts.append("<p class='muted'>No duplicate clusters.</p>")
    parts.append("<div class='charts'>")
    for reason, hist in sizes.items():
        bars = [(f"size {size}", int(n)) for size, n in sorted(hist.items(), key=lambda kv: int(kv[0]))]
        total = sum(n for _, n in bars)
        parts.append(histogram_chart(bars, title=f"Cluster sizes: {reason}", subtitle=f"{total:,} clusters"))
    parts.append("</div>")
    return parts


def build_report_html(data: ReportData) -> str:
    """The whole page as one string."""
    stats = data.stats
    stages = stats["stages"]
    runner = stats.get("runner", {})
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'><title>ccsieve run report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>ccsieve run report</h1>",
        f"<p class='muted'>Output: <code>{escape(data.root)}</code></p>",
        "<ul>",
        f"<li>input files: {len(stats.get('files', {})):,}</li>",
        f"<li>response records read: {stats.get('responses_read', 0):,}</li>",
        f"<li>documents kept: {stats.get('kept', 0):,}; dropped: {stats.get('dropped', 0):,}</li>",
        f"<li>wall time: {runner.get('wall_seconds', 0):,.1f} s ({escape(str(runner.get('executor', '?')))}"
        " executor)</li>",
        "</ul>",
        *_funnel(stages),
        "<h2 id='histograms'>Histograms</h2>",
        "<div class='charts'>",
    ]
    read, total = data.length_shards
    of = f" (from {read} of {total} shards)" if read < total else ""
    parts.append(_hist_chart(data.lengths, f"Kept document length, characters{of}"))
    for label, s in stages.items():
        for key, hist in sorted(s.get("scores", {}).items()):
            parts.append(_hist_chart(ScoreHistogram.from_dict(hist), f"{label}: {key}"))
    parts.append("</div>")
    if data.dedup is not None:
        parts += _dedup(data.dedup)
    parts += ["<h2 id='kept'>Sample of kept documents</h2>"]
    parts.append(
        _table(
            ["url", "language", f"text (first {SNIPPET_CHARS} characters)"],
            [[escape(r["url"]), escape(r["language"] or ""), _snippet(r["text"])] for r in data.kept],
            ["url", "", "text"],
        )
        if data.kept
        else "<p class='muted'>No kept documents.</p>"
    )
    parts.append("<h2 id='dropped'>Sample of dropped documents, per reason</h2>")
    for (stage, reason), rows in data.dropped.items():
        parts.append(f"<h3>{escape(stage)}: {escape(reason)}</h3>")
        parts.append(
            _table(
                ["url", "stage", "reason", f"detail (first {SNIPPET_CHARS} characters)"],
                [
                    [escape(r["url"]), escape(r["stage"]), escape(r["reason"]), _snippet(r["detail"])]
                    for r in rows
                ],
                ["url", "", "", "text"],
            )
        )
    if not data.dropped:
        parts.append("<p class='muted'>Nothing was dropped.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report_html(root: str, output: str | None = None, dedup: str | None = None) -> str:
    """Build the page of the run in ``root``, write it (default ``<root>/report.html``), return the path."""
    layout = OutputLayout(root)
    page = build_report_html(collect(root, dedup))
    if output is None:
        with layout.fs.open(layout.join("report.html"), "w", encoding="utf-8") as fh:
            fh.write(page)
        return posixpath.join(root.rstrip("/"), "report.html")
    with open(output, "w", encoding="utf-8") as fh:
        fh.write(page)
    return output
