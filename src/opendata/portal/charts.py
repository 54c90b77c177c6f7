"""Bar charts drawn on the server as inline SVG: no script, no library, no CDN.

Each chart is a ``<svg>`` with a viewBox (so CSS scales it to any screen width), a
``<title>`` and a text alternative, and CSS classes instead of inline styles (the
Content-Security-Policy forbids inline styles). Every value is also printed as text on
the chart, so nothing depends on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

WIDTH = 560
LABEL_WIDTH = 180
VALUE_WIDTH = 56
ROW_HEIGHT = 26
BAR_HEIGHT = 16
LABEL_CHARS = 13  # in CJK characters (two Latin letters count as one)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str | None = None


@dataclass(frozen=True)
class Segment:
    key: str  # a CSS class suffix, e.g. "unconditional"
    label: str
    value: float


@dataclass(frozen=True)
class StackedBar:
    label: str
    segments: Sequence[Segment]


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    wide = sum(2 if ord(c) > 0x2E80 else 1 for c in label)
    if wide <= limit * 2:
        return label
    out, used = "", 0
    for c in label:
        used += 2 if ord(c) > 0x2E80 else 1
        if used > limit * 2 - 2:
            return out + "…"
        out += c
    return out


def _format(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text}{unit}"


def _open(height: int, title: str, description: str, *, links: bool = False) -> list[str]:
    # A picture (role img) hides its content from assistive technology, so a chart whose
    # labels are links is a figure instead: its links stay reachable and are not nested
    # inside an image (axe: nested-interactive).
    role = "figure" if links else "img"
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="{role}" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(description)}</desc>",
    ]


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str = "", maximum: float | None = None,
              css: str = "bar") -> Markup:
    """Horizontal bars, one per row, label on the left and value on the right."""
    top = max([maximum or 0, *[b.value for b in bars]]) or 1
    height = max(1, len(bars)) * ROW_HEIGHT + 8
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    description = "; ".join(f"{b.label}: {_format(b.value, unit)}" for b in bars)
    parts = _open(height, title, description, links=any(b.href for b in bars))
    for i, bar in enumerate(bars):
        y = 4 + i * ROW_HEIGHT
        length = span * bar.value / top
        label = f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 13}">{escape(_short(bar.label))}</text>'
        if bar.href:
            label = f'<a href="{escape(bar.href)}">{label}</a>'
        parts += [
            f"<g><title>{escape(bar.label)}: {escape(_format(bar.value, unit))}</title>",
            label,
            f'<rect class="chart-track" x="{LABEL_WIDTH}" y="{y}" width="{span}" height="{BAR_HEIGHT}" rx="3"/>',
            f'<rect class="chart-{css}" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" rx="3"/>',
            f'<text class="chart-value" x="{LABEL_WIDTH + span + 6}" y="{y + 13}">'
            f"{escape(_format(bar.value, unit))}</text></g>",
        ]
    if not bars:
        parts.append(f'<text class="chart-empty" x="{WIDTH / 2}" y="20">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(rows: Sequence[StackedBar], *, title: str) -> Markup:
    """One horizontal bar per row split into segments (e.g. the open-level mix)."""
    top = max([sum(s.value for s in row.segments) for row in rows] or [1]) or 1
    height = max(1, len(rows)) * ROW_HEIGHT + 8
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    description = "; ".join(
        f"{row.label}: " + ", ".join(f"{s.label} {_format(s.value, '')}" for s in row.segments) for row in rows
    )
    parts = _open(height, title, description)
    for i, row in enumerate(rows):
        y, x = 4 + i * ROW_HEIGHT, float(LABEL_WIDTH)
        total = sum(s.value for s in row.segments)
        parts.append(f'<g><text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 13}">{escape(_short(row.label))}</text>')
        for segment in row.segments:
            if not segment.value:
                continue
            length = span * segment.value / top
            parts.append(
                f'<rect class="chart-seg-{escape(segment.key)}" x="{x:.1f}" y="{y}" width="{length:.1f}" '
                f'height="{BAR_HEIGHT}"><title>{escape(row.label)} · {escape(segment.label)}: '
                f"{escape(_format(segment.value, ''))}</title></rect>"
            )
            x += length
        parts.append(f'<text class="chart-value" x="{LABEL_WIDTH + span + 6}" y="{y + 13}">'
                     f"{escape(_format(total, ''))}</text></g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(days: Sequence[tuple[str, dict[str, float]]], series: Sequence[tuple[str, str]], *,
                 title: str, height: int = 220) -> Markup:
    """Grouped vertical columns over time: ``days`` is (label, {series key: value});
    ``series`` is (key, label) in drawing order. Every seventh day is labelled."""
    left, bottom, top_pad = 44, 28, 12
    plot_height = height - bottom - top_pad
    top = max([v for _, values in days for v in values.values()] or [1]) or 1
    slot = (WIDTH - left - 8) / max(1, len(days))
    column = max(1.0, (slot - 2) / max(1, len(series)))
    description = "; ".join(
        f"{label}: " + ", ".join(f"{name} {_format(values.get(key, 0), '')}" for key, name in series)
        for label, values in days if any(values.values())
    )
    parts = _open(height, title, description or "0")
    for fraction in (0.0, 0.5, 1.0):
        y = top_pad + plot_height * (1 - fraction)
        parts.append(f'<line class="chart-grid" x1="{left}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-axis" x="{left - 6}" y="{y + 4:.1f}">{round(top * fraction):,}</text>')
    for i, (label, values) in enumerate(days):
        x0 = left + i * slot + 1
        for j, (key, name) in enumerate(series):
            value = values.get(key, 0)
            bar_height = plot_height * value / top
            y = top_pad + plot_height - bar_height
            parts.append(
                f'<rect class="chart-col-{escape(key)}" x="{x0 + j * column:.1f}" y="{y:.1f}" '
                f'width="{column:.1f}" height="{bar_height:.1f}"><title>{escape(label)} · {escape(name)}: '
                f"{escape(_format(value, ''))}</title></rect>"
            )
        if i % 7 == 0:
            parts.append(f'<text class="chart-tick" x="{x0:.1f}" y="{height - 8}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
