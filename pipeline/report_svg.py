"""Inline SVG charts for ``report.html``: plain strings, no plotting dependency, no scripts.

Every label goes through :func:`html.escape`, so a stage, reason or score name cannot break the page.
"""

from __future__ import annotations

from html import escape

__all__ = ["hbar_chart", "histogram_chart"]

_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_BAR = "#4c78a8"
_DROP = "#e45756"


def _fmt(value: float) -> str:
    """A short number for an axis or a bar: thousands separators, at most four significant digits."""
    if value == int(value) and abs(value) < 1e9:
        return f"{int(value):,}"
    return f"{value:.4g}"


def hbar_chart(rows: list[tuple[str, float, float]], *, title: str, unit: str = "") -> str:
    """Horizontal bars, one per row ``(label, value, part)``; ``part`` of each bar is drawn in red.

    Used for the funnel (value = seen, part = dropped) and for throughput (part = 0).
    """
    label_w, bar_w, row_h = 170, 560, 22
    height = 28 + row_h * len(rows) + 8
    peak = max((v for _, v, _ in rows), default=0) or 1
    parts = [
        f'<svg width="{label_w + bar_w + 140}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" {_FONT}>',
        f'<text x="4" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value, part) in enumerate(rows):
        y = 28 + i * row_h
        width = bar_w * value / peak
        red = bar_w * min(part, value) / peak
        parts += [
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{label_w}" y="{y + 3}" width="{width - red:.1f}" height="{row_h - 6}" fill="{_BAR}">'
            f"<title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>",
        ]
        if red > 0:
            parts.append(
                f'<rect x="{label_w + width - red:.1f}" y="{y + 3}" width="{red:.1f}" height="{row_h - 6}" '
                f'fill="{_DROP}"><title>{escape(label)}: {_fmt(part)} dropped</title></rect>'
            )
        note = f"{_fmt(value)}{unit}" + (f" ({_fmt(part)} dropped)" if part else "")
        parts.append(f'<text x="{label_w + width + 6:.1f}" y="{y + 15}">{escape(note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def histogram_chart(bars: list[tuple[str, int]], *, title: str, subtitle: str = "") -> str:
    """Vertical bars of counts, one per ``(range label, count)``; the first and last labels on the axis."""
    width, height, left, top, bottom = 640, 220, 48, 40, 34
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max((n for _, n in bars), default=0) or 1
    step = min(plot_w / max(len(bars), 1), 60.0)
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(title)}" {_FONT}>',
        f'<text x="4" y="16" font-weight="bold">{escape(title)}</text>',
        f'<text x="4" y="32" fill="#555">{escape(subtitle)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{_fmt(peak)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, (label, n) in enumerate(bars):
        h = plot_h * n / peak
        x, w = left + i * step + 0.5, max(step - 1, 0.5)
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" '
            f'height="{h:.1f}" fill="{_BAR}"><title>{escape(label)}: {n:,}</title></rect>'
        )
    if bars:
        y = top + plot_h + 16
        parts.append(f'<text x="{left}" y="{y}">{escape(bars[0][0])}</text>')
        if len(bars) > 1:
            parts.append(f'<text x="{left + plot_w}" y="{y}" text-anchor="end">{escape(bars[-1][0])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
