"""``dedup_report.md``: the dedup funnel, removals by reason, cluster sizes and example clusters."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dedup.signatures import Lookup

__all__ = ["write_report"]

_EXAMPLES = 3


def _snippet(text: str | None) -> str:
    if text is None:
        return "(older run: text not stored)"
    return " ".join(text[:100].split()).replace("|", "\\|")


def write_report(path: str, stats: dict[str, Any], clusters: pa.Table, lookup: Lookup) -> None:
    """Write the report of one run; ``clusters`` are the member rows with their ``node``."""
    lines = ["# Deduplication report", ""]
    lines += [
        f"- documents in: {stats['docs_in']}",
        f"- documents out: {stats['docs_out']}",
        f"- removed: {stats['removed']}",
    ]
    params = stats["params"]
    lines += [
        f"- MinHash: {params['num_perm']} permutations, {params['bands']} bands x {params['rows']} rows, "
        f"word {params['ngram']}-grams, verification: {params['verify_jaccard'] or 'off'}, "
        f"keep score: `{params['keep_score']}`",
        "",
    ]
    lines += ["## Removed by reason", "", "| reason | removed |", "| --- | ---: |"]
    lines += [f"| {reason} | {n} |" for reason, n in stats["removed_by_reason"].items()]
    lines += ["", "## Cluster sizes", "", "| reason | size | clusters |", "| --- | ---: | ---: |"]
    for reason, hist in stats["cluster_sizes"].items():
        lines += [
            f"| {reason} | {size} | {n} |" for size, n in sorted(hist.items(), key=lambda kv: int(kv[0]))
        ]
    if not stats["cluster_sizes"]:
        lines.append("| (no clusters) | | |")
    lines += ["", "## Example clusters", ""]
    if not stats["cluster_sizes"]:
        lines.append("No duplicates found.")
    for reason in stats["cluster_sizes"]:
        part = clusters.filter(pc.equal(clusters.column("reason"), reason))
        counts = pc.value_counts(part.column("cluster_id"))
        ranked = sorted(
            zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
            key=lambda vc: (-vc[1], vc[0]),
        )[:_EXAMPLES]
        for cluster_id, size in ranked:
            rows = part.filter(pc.equal(part.column("cluster_id"), cluster_id))
            nodes = rows.column("node").to_numpy()
            urls, texts = lookup.urls(nodes), lookup.texts(nodes)
            lines += [
                f"### {reason}: `{cluster_id}` ({size} documents)",
                "",
                "| keeper | similarity | url | text |",
                "| --- | ---: | --- | --- |",
            ]
            for row, url, text in zip(rows.to_pylist(), urls, texts, strict=True):
                mark = "yes" if row["is_keeper"] else ""
                lines.append(f"| {mark} | {row['similarity']:.3f} | {url} | {_snippet(text)} |")
            lines.append("")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
