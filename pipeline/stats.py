"""Run statistics: gathered from the per-file completion markers, so a resumed run counts everything."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipeline.sinks import OutputLayout
from pipeline.stage import StageStats

__all__ = ["RunStats", "summary_table", "write_run_outputs"]


@dataclass
class RunStats:
    """Per stage and per input file, summed over every completed input of the output folder."""

    stages: dict[str, StageStats] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    runner: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_markers(cls, markers: list[dict[str, Any]], stage_order: list[str]) -> RunStats:
        stats = cls(stages={label: StageStats() for label in stage_order})
        for marker in markers:
            for label, data in marker["stages"].items():
                stats.stages.setdefault(label, StageStats()).add(StageStats.from_dict(data))
            dropped = sum(sum(s["dropped"].values()) for s in marker["stages"].values())
            stats.files[marker["source"]] = {
                "status": marker["status"],
                "error": marker["error"],
                "responses_read": marker["responses_read"],
                "kept": marker["rows"],
                "dropped": dropped,
                "shards": marker["shards"],
                # Isolation children restarted for this file (a crash or overrun each; 0 without).
                "worker_restarts": marker.get("worker_restarts", 0),
            }
        return stats

    @property
    def responses_read(self) -> int:
        return sum(f["responses_read"] for f in self.files.values())

    @property
    def kept(self) -> int:
        return sum(f["kept"] for f in self.files.values())

    @property
    def failed_files(self) -> dict[str, str]:
        return {src: f["error"] for src, f in self.files.items() if f["status"] != "ok"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "responses_read": self.responses_read,
            "kept": self.kept,
            "dropped": self.responses_read - self.kept,
            "stages": {label: s.to_dict() for label, s in self.stages.items()},
            "files": self.files,
            "runner": self.runner,
        }


def summary_table(stats: RunStats) -> str:
    """A plain-text funnel: one line per stage, with its three largest drop reasons."""
    rows = [("stage", "seen", "kept", "dropped", "seconds", "docs/s", "top drop reasons")]
    for label, s in stats.stages.items():
        rate = f"{s.seen / s.seconds:,.0f}" if s.seconds > 0 else "-"
        reasons = ", ".join(f"{r} {n:,}" for r, n in s.dropped.most_common(3))
        rows.append(
            (label, f"{s.seen:,}", f"{s.kept:,}", f"{s.dropped_total:,}", f"{s.seconds:,.1f}", rate, reasons)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:], strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if i == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def _report_markdown(stats: RunStats, output: str) -> str:
    lines = [
        "# ccsieve run report",
        "",
        f"Output: `{output}`",
        "",
        f"- input files: {len(stats.files)} ({len(stats.failed_files)} with errors)",
        f"- response records read: {stats.responses_read:,}",
        f"- documents kept: {stats.kept:,}",
        "",
        "## Funnel",
        "",
        "| stage | seen | kept | dropped | seconds | drop reasons |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, s in stats.stages.items():
        reasons = ", ".join(f"{r}: {n:,}" for r, n in s.dropped.most_common())
        lines.append(
            f"| {label} | {s.seen:,} | {s.kept:,} | {s.dropped_total:,} | {s.seconds:.2f} | {reasons} |"
        )
    lines += _scores_markdown(stats)
    lines += [
        "",
        "## Input files",
        "",
        "| file | status | responses | kept | dropped |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for source, f in sorted(stats.files.items()):
        status = f["status"] if not f["error"] else f"{f['status']}: {f['error']}"
        lines.append(f"| {source} | {status} | {f['responses_read']:,} | {f['kept']:,} | {f['dropped']:,} |")
    return "\n".join(lines) + "\n"


def _scores_markdown(stats: RunStats) -> list[str]:
    """One text histogram per score and stage, for choosing thresholds from a score-only run."""
    scored = [
        (label, key, hist) for label, s in stats.stages.items() for key, hist in sorted(s.scores.items())
    ]
    if not scored:
        return []
    lines = [
        "",
        "## Scores",
        "",
        "Every score a stage wrote, over every document it saw (the ones it dropped included). Bins are",
        "0.01 wide in [0, 1] and 20 per decade above 1 (mirrored below 0); percentiles are exact to a bin.",
    ]
    for label, key, hist in scored:
        lines += ["", f"### {label}: `{key}`", "", "```", *hist.render(), "```"]
    return lines


def write_run_outputs(layout: OutputLayout, stage_order: list[str], runner: dict[str, Any]) -> RunStats:
    """Aggregate the markers into ``stats.json``, ``report.md`` and ``report.html``; return the stats."""
    from extractors.warc import READ_STAGE

    stats = RunStats.from_markers(layout.markers(), [READ_STAGE, *stage_order])
    stats.runner = runner
    with layout.fs.open(layout.join("stats.json"), "w") as fh:
        json.dump(stats.to_dict(), fh, indent=1)
    with layout.fs.open(layout.join("report.md"), "w") as fh:
        fh.write(_report_markdown(stats, layout.root))
    from pipeline.report_html import write_report_html

    write_report_html(layout.root)
    return stats
