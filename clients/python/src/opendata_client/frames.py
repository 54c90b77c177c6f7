"""Rows as pandas DataFrames and Arrow tables, typed from the data dictionary.

pandas and pyarrow are optional: without them these raise MissingDependency, which names
the pip command. JSON carries dates, datetimes and decimals as text; they are parsed here
so that a column of dates is a date column, not strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Sequence

from opendata_client.errors import MissingDependency

if TYPE_CHECKING:
    from opendata_client.models import Field

_PARSERS: dict[str, Callable[[Any], Any]] = {
    "date": lambda v: date.fromisoformat(v) if isinstance(v, str) else v,
    "datetime": lambda v: datetime.fromisoformat(v) if isinstance(v, str) else v,
    "decimal": lambda v: Decimal(str(v)),
    "integer": int,
    "number": float,
    "boolean": bool,
}


def _columns(fields: Sequence["Field"], rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    names = [f.name for f in fields] or (list(rows[0]) if rows else [])
    types = {f.name: f.type for f in fields}
    columns: dict[str, list[Any]] = {}
    for name in names:
        parse = _PARSERS.get(types.get(name, "string"))
        values = (row.get(name) for row in rows)
        columns[name] = [v if v is None or parse is None else parse(v) for v in values]
    return columns


def rows_to_pandas(fields: Sequence["Field"], rows: Sequence[dict[str, Any]]) -> Any:
    try:
        import pandas
    except ImportError:
        raise MissingDependency("pandas", "pandas") from None
    types = {f.name: f.type for f in fields}
    frame = pandas.DataFrame(_columns(fields, rows))
    for name in frame.columns:
        kind = types.get(name)
        if kind == "integer":
            frame[name] = frame[name].astype("Int64")
        elif kind == "boolean":
            frame[name] = frame[name].astype("boolean")
        elif kind == "number":
            frame[name] = frame[name].astype("float64")
        elif kind in ("date", "datetime"):
            frame[name] = pandas.to_datetime(frame[name])
    return frame


def rows_to_arrow(fields: Sequence["Field"], rows: Sequence[dict[str, Any]]) -> Any:
    try:
        import pyarrow
    except ImportError:
        raise MissingDependency("pyarrow", "arrow") from None
    arrow_types = {"integer": pyarrow.int64(), "number": pyarrow.float64(), "boolean": pyarrow.bool_(),
                   "date": pyarrow.date32(), "datetime": pyarrow.timestamp("us"), "string": pyarrow.string()}
    columns = _columns(fields, rows)
    types = {f.name: f.type for f in fields}
    arrays = {}
    for name, values in columns.items():
        # Decimals: Arrow infers the precision and scale from the values themselves.
        arrays[name] = pyarrow.array(values, type=arrow_types.get(types.get(name, "string")))
    return pyarrow.table(arrays)
