"""GeoJSON (RFC 7946) downloads of tables that carry their places.

A table qualifies when its served columns hold either a numeric longitude and latitude
(named or titled longitude/lon/lng/经度 and latitude/lat/纬度) or a WKT geometry text
(named or titled geometry/geom/wkt/the_geom/几何). A masked coordinate is served as text,
so a table whose coordinates are masked has no GeoJSON download at all. Each row is a
Feature: its geometry from those columns (null when empty or unreadable), every other
served column a property, encoded as the core's JSON export encodes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from opendata.formats import Column, Exporter
from opendata.formats.json_export import chunked, row_encoder

MEDIA_TYPE = "application/geo+json"
NUMERIC = ("integer", "decimal", "number")
LONGITUDE = ("longitude", "lon", "lng", "long", "经度")
LATITUDE = ("latitude", "lat", "纬度")
GEOMETRY = ("geometry", "geom", "wkt", "the_geom", "几何", "空间位置")


def _find(columns: Sequence[Column], names: Sequence[str], types: Sequence[str]) -> int | None:
    for index, column in enumerate(columns):
        spellings = {column.name.lower(), column.title_zh, (column.title_en or "").lower()}
        if column.type in types and spellings & set(names):
            return index
    return None


def locate(columns: Sequence[Column]) -> tuple[str, tuple[int, ...]] | None:
    """("point", (lon, lat)) or ("wkt", (geometry,)) column positions; None: no place."""
    lon, lat = _find(columns, LONGITUDE, NUMERIC), _find(columns, LATITUDE, NUMERIC)
    if lon is not None and lat is not None:
        return "point", (lon, lat)
    wkt = _find(columns, GEOMETRY, ("string",))
    return ("wkt", (wkt,)) if wkt is not None else None


def supports(columns: Sequence[Column]) -> bool:
    return locate(columns) is not None


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_POSITION = re.compile(rf"\s*({_NUMBER})\s+({_NUMBER})(?:\s+{_NUMBER})*\s*")
_KINDS = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
          "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon"}
_DEPTH = {"Point": 0, "LineString": 1, "MultiPoint": 1, "Polygon": 2, "MultiLineString": 2, "MultiPolygon": 3}


def _nested(text: str) -> Any:
    """'(1 2, (3 4))'-style WKT coordinates as nested lists of [x, y] positions."""
    text = text.strip()
    if not text.startswith("("):
        match = _POSITION.fullmatch(text)
        if match is None:
            raise ValueError(text)
        return [float(match.group(1)), float(match.group(2))]
    if not text.endswith(")"):
        raise ValueError(text)
    inner, parts, depth, start = text[1:-1], [], 0, 0
    for i, char in enumerate(inner):
        depth += (char == "(") - (char == ")")
        if depth < 0:
            raise ValueError(text)
        if char == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return [_nested(part) for part in parts]


def wkt_geometry(text: Any) -> dict[str, Any] | None:
    """The GeoJSON geometry of a WKT text (2-D; Z/M values dropped); None if unreadable."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"\s*([A-Za-z]+)\s*(?:Z|M|ZM)?\s*(\(.*\))\s*", text, re.S)
    if match is None or match.group(1).upper() not in _KINDS:
        return None
    kind = _KINDS[match.group(1).upper()]
    try:
        coordinates = _nested(match.group(2))
    except (ValueError, RecursionError):
        return None
    if kind == "Point":
        coordinates = coordinates[0] if len(coordinates) == 1 else None
    elif kind == "MultiPoint":  # MULTIPOINT (1 2, 3 4) and MULTIPOINT ((1 2), (3 4))
        coordinates = [c[0] if c and isinstance(c[0], list) else c for c in coordinates]
    if coordinates is None or _depth(coordinates) != _DEPTH[kind] + 1:
        return None
    return {"type": kind, "coordinates": coordinates}


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    return depth


def _point(lon: Any, lat: Any) -> dict[str, Any] | None:
    if lon is None or lat is None:
        return None
    x, y = float(lon), float(lat)
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        return None
    return {"type": "Point", "coordinates": [x, y]}


def export_geojson(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    place = locate(columns)
    if place is None:
        raise ValueError("the table has no longitude/latitude or WKT geometry column")
    return _features(columns, rows, place)


def _features(columns: Sequence[Column], rows: Iterable[Sequence[Any]],
              place: tuple[str, tuple[int, ...]]) -> Iterator[bytes]:
    kind, positions = place
    kept = [i for i in range(len(columns)) if i not in positions]
    properties = row_encoder([columns[i] for i in kept])

    def feature(row: Sequence[Any]) -> str:
        geometry = _point(row[positions[0]], row[positions[1]]) if kind == "point" else wkt_geometry(row[positions[0]])
        return ('{"type":"Feature","geometry":' + json.dumps(geometry, separators=(",", ":"))
                + ',"properties":' + properties([row[i] for i in kept]) + "}")

    return chunked(map(feature, rows), separator=",", first='{"type":"FeatureCollection","features":[', last="]}\n")


GEOJSON = Exporter("geojson", MEDIA_TYPE, "geojson", export_geojson, supports=supports, reproducible=True,
                   label_zh="GeoJSON（地图）", label_en="GeoJSON (map)", file_type=("GEOJSON", "GeoJSON"))
