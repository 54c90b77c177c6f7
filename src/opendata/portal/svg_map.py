"""A point map drawn on the server as inline SVG: no tiles, no script, no CDN.

Points are projected equirectangularly with the longitude scaled by the cosine of the
middle latitude, so that at a city's scale distances look true in both directions. The
frame is the data's extent (padded), with a graticule of labelled meridians and
parallels at a round step and a scale bar in metres or kilometres. No coastline or
district outline is drawn: the portal ships no boundary data (its CSP would allow a
self-hosted one). Each point carries its label and coordinates in a ``<title>`` (the
browser's tooltip); the page prints the same points as a table beside the map. Classes,
not inline styles (the CSP forbids them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

WIDTH = 560
LEFT, RIGHT, TOP, BOTTOM = 62, 10, 10, 50
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT_MIN, PLOT_HEIGHT_MAX = 200, 420
KM_PER_DEGREE = 111.195  # a degree of latitude on a sphere of radius 6,371 km
MIN_SPAN = 0.01  # degrees: a single point still gets a frame of about a kilometre


@dataclass(frozen=True)
class MapPoint:
    lon: float
    lat: float
    label: str


@dataclass(frozen=True)
class Frame:
    """The extent drawn and its scale: ``scale`` pixels per degree of latitude."""

    lon0: float
    lat1: float
    scale: float
    shrink: float  # cos(middle latitude): pixels per degree of longitude / scale
    height: float  # of the plot area

    def x(self, lon: float) -> float:
        return LEFT + (lon - self.lon0) * self.scale * self.shrink

    def y(self, lat: float) -> float:
        return TOP + (self.lat1 - lat) * self.scale

    @property
    def lon1(self) -> float:
        return self.lon0 + PLOT_WIDTH / (self.scale * self.shrink)

    @property
    def lat0(self) -> float:
        return self.lat1 - self.height / self.scale


def nice_step(span: float, lines: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about ``lines`` lines over ``span``."""
    raw = span / lines
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover


def frame_for(points: Sequence[MapPoint]) -> Frame:
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    mid_lat = (south + north) / 2
    shrink = max(math.cos(math.radians(mid_lat)), 0.05)
    dlon = max(east - west, MIN_SPAN) * 1.12
    dlat = max(north - south, MIN_SPAN) * 1.12
    scale = min(PLOT_WIDTH / (dlon * shrink), PLOT_HEIGHT_MAX / dlat)
    height = min(max(dlat * scale, PLOT_HEIGHT_MIN), PLOT_HEIGHT_MAX)
    # The same scale both ways: the shorter side is widened around the centre.
    lon0 = (west + east) / 2 - PLOT_WIDTH / (scale * shrink) / 2
    lat1 = mid_lat + height / scale / 2
    return Frame(lon0, lat1, scale, shrink, height)


def _degrees(value: float, step: float, positive: str, negative: str) -> str:
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{abs(value):.{decimals}f}°{positive if value >= 0 else negative}"


def _ticks(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step)
    return [round(i * step, 10) for i in range(first, math.floor(high / step) + 1)]


def scale_bar(frame: Frame) -> tuple[float, str]:
    """A round distance about a quarter of the map wide: (its length in pixels, its label)."""
    km_per_pixel = KM_PER_DEGREE / frame.scale
    km = nice_step(PLOT_WIDTH / 4 * km_per_pixel, 1)
    label = f"{km:g} km" if km >= 1 else f"{km * 1000:g} m"
    return km / km_per_pixel, label


def point_map(points: Sequence[MapPoint], *, title: str, description: str) -> Markup:
    """The map of ``points`` (at least one)."""
    frame = frame_for(points)
    height = TOP + frame.height + BOTTOM
    bottom = TOP + frame.height
    parts = [
        f'<svg class="chart map" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-labelledby="map-title map-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="map-title">{escape(title)}</title><desc id="map-desc">{escape(description)}</desc>',
        f'<rect class="map-frame" x="{LEFT}" y="{TOP}" width="{PLOT_WIDTH}" height="{frame.height:.1f}"/>',
    ]
    step = nice_step(frame.lon1 - frame.lon0)
    for lon in _ticks(frame.lon0, frame.lon1, step):
        x = frame.x(lon)
        parts.append(f'<line class="map-grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom:.1f}"/>'
                     f'<text class="map-tick map-tick-x" x="{x:.1f}" y="{bottom + 14:.1f}">'
                     f'{_degrees(lon, step, "E", "W")}</text>')
    step = nice_step(frame.lat1 - frame.lat0)
    for lat in _ticks(frame.lat0, frame.lat1, step):
        y = frame.y(lat)
        parts.append(f'<line class="map-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="map-tick map-tick-y" x="{LEFT - 4}" y="{y + 4:.1f}">'
                     f'{_degrees(lat, step, "N", "S")}</text>')
    for p in points:
        name = f"{p.label} — " if p.label else ""
        parts.append(f'<circle class="map-point" cx="{frame.x(p.lon):.1f}" cy="{frame.y(p.lat):.1f}" r="3.5">'
                     f"<title>{escape(name)}{p.lon:g}, {p.lat:g}</title></circle>")
    # The scale bar sits below the frame, so that it never hides a point.
    length, label = scale_bar(frame)
    x0, y0 = WIDTH - RIGHT - length, bottom + 40
    parts.append(f'<line class="map-scale" x1="{x0:.1f}" x2="{x0 + length:.1f}" y1="{y0:.1f}" y2="{y0:.1f}"/>'
                 f'<text class="map-scale-label" x="{x0 - 6:.1f}" y="{y0 + 4:.1f}">{label}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
