"""What the dataset page's map and line chart draw, read through the preview's own path.

Like the preview (portal.preview), only what the rows API would serve to this browser is
drawn: open data only (``previewable``), the fields ``served_fields`` serves (a dropped
field is absent), never a masked field (its served value is text, and a coordinate kept
to its first digits would still place a point), the guard's grant (``authorize_data``),
the page's filter, and ``record_rows_served``.

Bounded work on any table size:

- the map draws at most MAP_POINTS points. Without a filter they are sampled evenly over
  the row ids (at most MAP_POINTS primary-key lookups, whatever the table's size); with
  a filter, every k-th matching row (one scan, as the preview's count of matching rows);
- the chart aggregates by date in SQL (the sum or the mean per date), by month when
  there are more than SERIES_DAYS dates, and is not drawn for a table of more than
  SERIES_MAX_ROWS rows (said on the page).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from dataclasses import dataclass, field
from typing import Any, Sequence

from litestar import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opendata.access.guard import authorize_data, record_rows_served
from opendata.catalogue import rowquery
from opendata.catalogue.data_api import MASKING_SECRET
from opendata.catalogue.masking import ServedField, served_fields
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.rowstore import ROW_ID, resource_table
from opendata.errors import AppError
from opendata.portal.page import url_with
from opendata.portal.preview import RowFilter, previewable
from opendata.portal.line_chart import Line, line_chart, summary
from opendata.portal.svg_map import MapPoint, point_map
from opendata.secrets import instance_secret

MAP_POINTS = 1000
SERIES_DAYS = 400  # more dates than this: one point per month
SERIES_MAX_ROWS = 200_000
SERIES_MAX = 3  # numeric fields drawn as lines
AGGREGATES = ("sum", "avg")
NUMERIC = ("integer", "decimal", "number")
LONGITUDE_NAMES = ("longitude", "lon", "lng", "long", "经度")
LATITUDE_NAMES = ("latitude", "lat", "纬度")


@dataclass
class MapData:
    lon: ServedField
    lat: ServedField
    label: ServedField | None
    points: list[MapPoint] = field(default_factory=list)
    matching: int = 0  # rows with both coordinates (of the filter's rows)
    sampled: bool = False


@dataclass
class SeriesData:
    x: ServedField
    ys: list[ServedField]
    aggregate: str
    monthly: bool = False
    points: list[tuple[Any, list[float | None]]] = field(default_factory=list)
    repeated: bool = False  # some date has several rows: the values are aggregated
    too_large: bool = False


def _drawable(served: ServedField, types: Sequence[str]) -> bool:
    return served.masker is None and served.field.type in types


def _named(served: Sequence[ServedField], names: Sequence[str]) -> ServedField | None:
    for s in served:
        if _drawable(s, NUMERIC) and (s.name.lower() in names or s.field.title_zh in names
                                      or (s.field.title_en or "").lower() in names):
            return s
    return None


def coordinate_fields(served: Sequence[ServedField]) -> tuple[ServedField, ServedField] | None:
    """The served, unmasked, numeric longitude and latitude fields, by name or title."""
    lon, lat = _named(served, LONGITUDE_NAMES), _named(served, LATITUDE_NAMES)
    return (lon, lat) if lon is not None and lat is not None else None


def _served(request: Request, session: Session, dataset: Dataset, resource: Resource,
            row_filter: RowFilter) -> tuple[list[ServedField], rowquery.RowQuery, Any] | None:
    """The served fields (narrowed by the grant), the page's filter as a query, the grant;
    None when the preview would show nothing (conditional/closed data, files, a bad filter)."""
    if not previewable(dataset, resource):
        return None
    names = [f.name for f in resource.fields]
    served = served_fields(resource.fields, instance_secret(session, MASKING_SECRET))
    try:
        query = rowquery.parse_row_query(dict(row_filter.api_params()), served, names, paginated=False)
    except AppError:
        return None  # the preview shows the error
    grant = authorize_data(request, session, dataset, "query", names, fields_explicit=False)
    if grant.fields is not None:
        served = [s for s in served if s.name in grant.fields]
    return served, query, grant


def map_data(request: Request, session: Session, dataset: Dataset, resource: Resource,
             row_filter: RowFilter) -> MapData | None:
    found = _served(request, session, dataset, resource, row_filter)
    if found is None:
        return None
    served, query, grant = found
    pair = coordinate_fields(served)
    if pair is None:
        return None
    lon, lat = pair
    label = next((s for s in served if s.field.type == "string" and s.masker is None
                  and s.name != resource.primary_key), None)
    key = next((s for s in served if s.name == resource.primary_key and s.masker is None), None)
    table = resource_table(resource)
    lon_c, lat_c, row_id = table.c[lon.name], table.c[lat.name], table.c[ROW_ID]
    where = [*rowquery.where_clause(table, query), lon_c.is_not(None), lat_c.is_not(None),
             lon_c.between(-180, 180), lat_c.between(-90, 90)]
    data = MapData(lon, lat, label or key)
    data.matching = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    columns = [lon_c, lat_c] + ([table.c[data.label.name]] if data.label else [])
    statement = select(*columns).where(*where).order_by(row_id)
    if data.matching > MAP_POINTS:
        data.sampled = True
        if query.filters:
            statement = statement.where(row_id % math.ceil(data.matching / MAP_POINTS) == 0)
        else:
            low, high = session.execute(select(func.min(row_id), func.max(row_id))).one()
            step = (high - low + 1) / MAP_POINTS
            statement = statement.where(row_id.in_(sorted({low + int(i * step) for i in range(MAP_POINTS)})))
    for row in session.execute(statement.limit(MAP_POINTS)):
        data.points.append(MapPoint(float(row[0]), float(row[1]), "" if len(row) < 3 or row[2] is None else str(row[2])))
    record_rows_served(session, grant, len(data.points))
    return data


def series_data(request: Request, session: Session, dataset: Dataset, resource: Resource, row_filter: RowFilter,
                aggregate: str = "sum") -> SeriesData | None:
    found = _served(request, session, dataset, resource, row_filter)
    if found is None:
        return None
    served, query, grant = found
    x = next((s for s in served if _drawable(s, ("date", "datetime"))), None)
    skip = {s.name for s in coordinate_fields(served) or ()} | {resource.primary_key, resource.subject_key}
    ys = [s for s in served if _drawable(s, NUMERIC) and s.name not in skip][:SERIES_MAX]
    if x is None or not ys:
        return None
    data = SeriesData(x, ys, aggregate if aggregate in AGGREGATES else "sum")
    if (resource.row_count or 0) > SERIES_MAX_ROWS:
        data.too_large = True
        return data
    table = resource_table(resource)
    x_c = table.c[x.name]
    where = [*rowquery.where_clause(table, query), x_c.is_not(None)]
    days = session.scalar(select(func.count(func.distinct(x_c))).where(*where)) or 0
    data.monthly = days > SERIES_DAYS
    bucket = _month(session, x_c) if data.monthly else x_c
    combine = func.sum if data.aggregate == "sum" else func.avg
    statement = (select(bucket.label("x"), func.count().label("n"), *[combine(table.c[y.name]) for y in ys])
                 .where(*where).group_by(bucket).order_by(bucket).limit(SERIES_DAYS * 4))
    for row in session.execute(statement):
        data.repeated = data.repeated or row[1] > 1
        data.points.append((_as_time(row[0]), [None if v is None else float(v) for v in row[2:]]))
    record_rows_served(session, grant, len(data.points))
    return data


def _as_time(value: Any) -> date | datetime:
    """A bucket as a date (SQLite's strftime gives text, PostgreSQL's date_trunc a timestamp)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def _month(session: Session, column: Any) -> Any:
    """The first day of the column's month, in this database's dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-01", column)
    return func.date_trunc("month", column)


MAP_TABLE_ROWS = 100  # the table beside the map lists the first points; downloads have all


def page_visuals(page: Any, dataset: Dataset, resource: Resource, row_filter: RowFilter) -> dict[str, Any]:
    """The dataset page's map and line chart (templates/visuals.html): each None when
    the resource has nothing to draw or the preview shows nothing."""
    t, request, session = page.t, page.request, page.session
    result: dict[str, Any] = {"map": None, "series": None}
    found = map_data(request, session, dataset, resource, row_filter)
    if found is not None:
        description = t("map.desc", n=f"{len(found.points):,}", lon=t.title(found.lon.field),
                        lat=t.title(found.lat.field))
        svg = point_map(found.points, title=t("map.title", title=t.title(resource)),
                        description=description) if found.points else None
        result["map"] = {"data": found, "svg": svg, "table": found.points[:MAP_TABLE_ROWS]}
    agg = request.query_params.get("chart_agg", "sum")
    series = series_data(request, session, dataset, resource, row_filter, agg)
    if series is not None:
        xs = [x for x, _ in series.points]
        lines = [Line(t.title(y.field) + (f" ({t.unit(y.field.unit)})" if y.field.unit else ""),
                      [values[i] for _, values in series.points]) for i, y in enumerate(series.ys)]
        svg = None
        if xs:
            words = (t("series.lowest"), t("series.highest"), t("series.last"))
            description = "; ".join(summary(line.label, xs, line.values, words=words) for line in lines)
            svg = line_chart(xs, lines, title=t("series.title", title=t.title(resource)), description=description)
        result["series"] = {"data": series, "svg": svg, "lines": lines, "rows": series.points,
                            "max_rows": SERIES_MAX_ROWS,
                            "agg_urls": {a: url_with(request.url.path, page.params(), chart_agg=a) for a in AGGREGATES}}
    return result
