"""Stream rows as a JSON array of objects, or as NDJSON (one object per line).

Two interchangeable row encoders write the same bytes for the value types rows carry:
- the standard library one assembles each object from precomputed '"key":' fragments
  and one encoder per column, several times faster than json.dumps on a dict;
- when the optional ``orjson`` package is importable (it is not a dependency) it is
  used for about 3x more speed, as long as it can write Decimals losslessly: orjson
  older than 3.9 has no ``Fragment``, so tables with decimal columns then use the
  standard library encoder.
Decimals are written as JSON numbers from their exact text (never through float);
dates and datetimes as ISO 8601 strings; not-a-number and infinity, which JSON cannot
express, as null.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring  # C-accelerated, keeps non-ASCII as is
from typing import Any

from .columns import Column

try:  # optional speed-up, see the module docstring
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None

CHUNK_SIZE = 64 * 1024
JSON_MEDIA_TYPE = "application/json"
NDJSON_MEDIA_TYPE = "application/x-ndjson"

ValueEncoder = Callable[[Any], str]


def _fallback(value: Any) -> str:
    """For a value whose Python type does not match its column."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else "null"
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, date):
        return '"' + value.isoformat() + '"'
    return encode_basestring(value if isinstance(value, str) else str(value))


def _string(value: Any) -> str:
    return encode_basestring(value) if type(value) is str else _fallback(value)


def _integer(value: Any) -> str:
    return int.__repr__(value) if type(value) is int else _fallback(value)


def _decimal(value: Any) -> str:
    if type(value) is not Decimal:
        return _fallback(value)
    if not value.is_finite():
        return "null"
    # "f" avoids forms such as "1E+3" that are valid JSON but surprise people; the digits
    # are exactly the stored ones, so no precision is lost.
    return format(value, "f")


def _number(value: Any) -> str:
    if type(value) is float:
        return float.__repr__(value) if math.isfinite(value) else "null"
    return _fallback(value)


def _boolean(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _fallback(value)


def _temporal(value: Any) -> str:
    return '"' + value.isoformat() + '"' if isinstance(value, date) else _fallback(value)


_ENCODERS: dict[str, ValueEncoder] = {
    "string": _string,
    "integer": _integer,
    "decimal": _decimal,
    "number": _number,
    "boolean": _boolean,
    "date": _temporal,
    "datetime": _temporal,
}


def _row_encoder(columns: Sequence[Column]) -> Callable[[Sequence[Any]], str]:
    keys = [
        ("{" if index == 0 else ",") + encode_basestring(column.name) + ":"
        for index, column in enumerate(columns)
    ]
    encoders = [_ENCODERS[column.type] for column in columns]
    plan = list(zip(keys, encoders))
    if not plan:
        return lambda row: "{}"

    def encode_row(row: Sequence[Any]) -> str:
        parts = [
            key + ("null" if value is None else encode(value))
            for (key, encode), value in zip(plan, row)
        ]
        return "".join(parts) + "}"

    return encode_row


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Decimal) and hasattr(orjson, "Fragment"):
        return orjson.Fragment(_decimal(value))
    # Anything else goes to the standard library encoder, so both write the same bytes.
    raise TypeError(f"{type(value).__name__} is left to the standard library encoder")


def _orjson_row_encoder(columns: Sequence[Column]) -> Callable[[Sequence[Any]], str] | None:
    """The orjson encoder, or None when orjson is missing or cannot write these columns."""
    if orjson is None:
        return None
    has_fragment = hasattr(orjson, "Fragment")
    if not has_fragment and any(column.type == "decimal" for column in columns):
        return None
    names = [column.name for column in columns]
    fallback = _row_encoder(columns)
    dumps = orjson.dumps

    def encode_row(row: Sequence[Any]) -> str:
        try:
            return dumps(dict(zip(names, row)), default=_orjson_default).decode()
        except TypeError:  # integers beyond 64 bits, or a type orjson does not know
            return fallback(row)

    return encode_row


def row_encoder(columns: Sequence[Column]) -> Callable[[Sequence[Any]], str]:
    """The fastest available function turning one row into one JSON object (as text)."""
    columns = tuple(columns)
    return _orjson_row_encoder(columns) or _row_encoder(columns)


def chunked(
    pieces: Iterable[str], chunk_size: int = CHUNK_SIZE, separator: str = "", first: str = "", last: str = ""
) -> Iterator[bytes]:
    """``first``, the encoded rows joined with ``separator``, then ``last``, yielded as
    UTF-8 chunks of about ``chunk_size`` (a text format's streaming; plugins' too)."""
    batch: list[str] = [first]
    size = len(first)
    started = False
    for piece in pieces:
        if started and separator:
            batch.append(separator)
        started = True
        batch.append(piece)
        size += len(piece)  # characters, not bytes: close enough and much cheaper
        if size >= chunk_size:
            yield "".join(batch).encode("utf-8")
            batch.clear()
            size = 0
    batch.append(last)
    yield "".join(batch).encode("utf-8")


def _check(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")


def export_json(
    columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield ``[{"field": value, ...}, ...]`` in chunks; zero rows give ``[]``."""
    _check(chunk_size)
    return chunked(map(row_encoder(columns), rows), chunk_size, ",", "[", "]")


def export_ndjson(
    columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield one JSON object per line, each ending in "\\n"; zero rows give an empty body."""
    _check(chunk_size)
    encode_row = row_encoder(columns)
    return chunked((encode_row(row) + "\n" for row in rows), chunk_size, "")
