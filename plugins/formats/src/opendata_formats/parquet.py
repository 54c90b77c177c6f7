"""Parquet downloads, written one row group at a time (constant memory for any table).

Column types: string -> UTF-8 string, integer -> int64, decimal -> decimal128(38, 10)
(a value needing more than 10 decimal places or 28 integer digits stops the stream:
pyarrow refuses to round), number -> float64, boolean -> bool, date -> date32,
datetime -> timestamp[us]. Masked fields arrive as text and are written as strings. The
bilingual titles travel in each field's metadata (``title_zh``, ``title_en``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from opendata.formats import Column, Exporter, FormatError

MEDIA_TYPE = "application/vnd.apache.parquet"
ROW_GROUP_ROWS = 10_000
MAX_ROW_GROUP_ROWS = 100_000
TYPES = {
    "string": pa.string(), "integer": pa.int64(), "decimal": pa.decimal128(38, 10), "number": pa.float64(),
    "boolean": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("us"),
}


def schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([
        pa.field(c.name, TYPES[c.type], metadata={"title_zh": c.title_zh or "", "title_en": c.title_en or ""})
        for c in columns])


class _Drain:
    """A write-only file for pyarrow: the bytes written since the last ``take()``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def export_parquet(columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                   row_group_rows: int = ROW_GROUP_ROWS) -> Iterator[bytes]:
    """Yield the file: its header, then one chunk per row group, then the footer."""
    if not 1 <= row_group_rows <= MAX_ROW_GROUP_ROWS:
        raise ValueError(f"row_group_rows must be from 1 to {MAX_ROW_GROUP_ROWS}")
    return _write(schema(columns), rows, row_group_rows)


def _decimal(value: Any) -> Any:
    return value if value is None or isinstance(value, Decimal) else Decimal(str(value))


def _write(arrow_schema: pa.Schema, rows: Iterable[Sequence[Any]], group: int) -> Iterator[bytes]:
    decimals = [i for i, f in enumerate(arrow_schema) if pa.types.is_decimal(f.type)]
    drain = _Drain()
    writer = pq.ParquetWriter(pa.PythonFile(drain, mode="w"), arrow_schema, compression="zstd")
    names = arrow_schema.names
    source = iter(rows)
    try:
        while batch := list(islice(source, group)):
            values = [[row[i] for row in batch] for i in range(len(names))]
            for i in decimals:  # the row store may hand a SQLite NUMERIC back as a float
                values[i] = [_decimal(v) for v in values[i]]
            arrays = [pa.array(values[i], type=arrow_schema.field(i).type) for i in range(len(names))]
            writer.write_table(pa.Table.from_arrays(arrays, schema=arrow_schema), row_group_size=group)
            yield drain.take()
        writer.close()
        writer = None
        yield drain.take()
    finally:
        if writer is not None:
            writer.close()


def parquet_options(params: Mapping[str, str], settings: Any) -> dict[str, Any]:
    raw = params.get("row_group_rows")
    if raw is None:
        return {}
    # ASCII digits only, and few of them: str.isdigit() takes "²" and "٣", which int()
    # refuses or reads, and int() refuses over 4,300 digits (both were a 500).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_ROW_GROUP_ROWS:
        raise FormatError("invalid_parameter", f"row_group_rows takes an integer from 1 to {MAX_ROW_GROUP_ROWS}")
    return {"row_group_rows": int(raw)}


PARQUET = Exporter("parquet", MEDIA_TYPE, "parquet", export_parquet, parquet_options,
                   label_zh="Parquet（列式）", label_en="Parquet (columnar)", file_type=("PARQUET", "Parquet"),
                   parameters=("row_group_rows",))
