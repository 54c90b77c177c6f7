"""A line chart of numbers over time, drawn on the server as inline SVG.

A real time axis (dates are placed by their distance, not their rank), round ticks on
both axes with labels, up to three series told apart by dash pattern as well as colour,
a legend in text, and a ``<desc>`` summing each series up (first and last date, lowest,
highest, latest) for screen readers; the page adds the values as a table.
Classes, not inline styles (the CSP forbids them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Sequence

from markupsafe import Markup, escape

from opendata.portal.svg_map import nice_step

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 30, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MARKERS_UP_TO = 120  # points per series drawn with a marker and its own tooltip


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float | None]  # one per x; None: no value that day


def _day(value: date | datetime) -> float:
    if isinstance(value, datetime):
        return value.toordinal() + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return float(value.toordinal())


def _text(value: date | datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else value.isoformat()


def number(value: float, step: float | None = None) -> str:
    """Thousands separated; decimals as the step (or the value) needs them."""
    if step is not None:
        decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    else:
        decimals = 0 if float(value).is_integer() else 2
    return f"{value:,.{decimals}f}"


def time_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Round dates between ``start`` and ``end``: years, months or days as the span needs."""
    span = (end - start).days
    if span > 3 * 365:
        step = max(1, round(nice_step(span / 365.25, 5)))
        return [(date(y, 1, 1), str(y)) for y in range(start.year + 1, end.year + 1) if y % step == 0]
    if span > 62:
        months = next(m for m in (1, 2, 3, 6, 12) if span / 30.4 / m <= 7)
        ticks, year, month = [], start.year, start.month
        while True:
            month += 1
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
            tick = date(year, month, 1)
            if tick > end:
                return ticks
            if (month - 1) % months == 0:
                ticks.append((tick, f"{year}-{month:02d}"))
    days = next(d for d in (1, 2, 5, 7, 14, 31) if span / d <= 8)
    ticks = [(start + timedelta(days=i), "") for i in range(0, span + 1, days)]
    return [(d, d.strftime("%m-%d") if i else d.isoformat()) for i, (d, _) in enumerate(ticks)]


def _value_range(values: list[float]) -> tuple[float, float, float]:
    low, high = min(values), max(values)
    if low >= 0 and low <= high / 2:
        low = 0.0
    if high == low:
        high, low = high + (abs(high) or 1) / 2, low - (abs(low) or 1) / 2 if low else 0.0
    step = nice_step(high - low, 4)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def summary(label: str, xs: Sequence[date | datetime], values: Sequence[float | None], unit: str = "",
            words: tuple[str, str, str] = ("min", "max", "last")) -> str:
    """A series in one line for screen readers; ``words``: lowest, highest, last in the page language."""
    known = [(x, v) for x, v in zip(xs, values) if v is not None]
    if not known:
        return f"{label}: —"
    low = min(known, key=lambda item: item[1])
    high = max(known, key=lambda item: item[1])
    return (f"{label}: {len(known)} × {_text(known[0][0])} – {_text(known[-1][0])}; "
            f"{words[0]} {number(low[1])}{unit} ({_text(low[0])}), {words[1]} {number(high[1])}{unit} "
            f"({_text(high[0])}), {words[2]} {number(known[-1][1])}{unit}")


def line_chart(xs: Sequence[date | datetime], lines: Sequence[Line], *, title: str, description: str) -> Markup:
    """``xs`` ascending (at least one); each line has one value per x."""
    values = [v for line in lines for v in line.values if v is not None] or [0.0]
    low, high, step = _value_range(values)
    first, last = _day(xs[0]), _day(xs[-1])
    width_days = (last - first) or 1.0

    def x_of(value: date | datetime) -> float:
        return LEFT + (_day(value) - first) / width_days * PLOT_W if last > first else LEFT + PLOT_W / 2

    def y_of(value: float) -> float:
        return TOP + (high - value) / (high - low) * PLOT_H

    parts = [
        f'<svg class="chart line-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="series-title series-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="series-title">{escape(title)}</title><desc id="series-desc">{escape(description)}</desc>',
    ]
    tick = low
    while tick <= high + step / 2:
        y = y_of(tick)
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="chart-axis" x="{LEFT - 6}" y="{y + 4:.1f}">{number(tick, step)}</text>')
        tick += step
    start = xs[0].date() if isinstance(xs[0], datetime) else xs[0]
    end = xs[-1].date() if isinstance(xs[-1], datetime) else xs[-1]
    for day, label in time_ticks(start, end):
        x = x_of(day)
        parts.append(f'<line class="chart-axis-line" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + PLOT_H}" '
                     f'y2="{TOP + PLOT_H + 4}"/><text class="chart-tick chart-tick-x" x="{x:.1f}" '
                     f'y="{HEIGHT - 10}">{escape(label)}</text>')
    parts.append(f'<line class="chart-axis-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + PLOT_H}" '
                 f'y2="{TOP + PLOT_H}"/>')
    for i, line in enumerate(lines):
        known = [(x, v) for x, v in zip(xs, line.values) if v is not None]
        path = " ".join(f"{x_of(x):.1f},{y_of(v):.1f}" for x, v in known)
        parts.append(f'<g class="series series-{i}"><polyline class="chart-line" points="{path}"/>')
        if len(known) <= MARKERS_UP_TO:
            for x, v in known:
                parts.append(f'<circle class="chart-marker" cx="{x_of(x):.1f}" cy="{y_of(v):.1f}" r="3">'
                             f"<title>{escape(line.label)} · {_text(x)}: {number(v)}</title></circle>")
        legend_x = LEFT + i * 170
        parts.append(f'<line class="chart-line" x1="{legend_x}" x2="{legend_x + 22}" y1="12" y2="12"/>'
                     f'<circle class="chart-marker" cx="{legend_x + 11}" cy="12" r="3"/>'
                     f'<text class="chart-legend" x="{legend_x + 28}" y="16">{escape(line.label)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
