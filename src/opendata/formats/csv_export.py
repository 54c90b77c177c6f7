"""Stream rows as CSV (RFC 4180, UTF-8), safe to open in Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .columns import Column

CHUNK_SIZE = 64 * 1024
MEDIA_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csv"
UTF8_BOM = b"\xef\xbb\xbf"
HEADER_STYLES = ("names", "titles")

# OWASP "CSV injection": spreadsheet programs run a cell that starts with one of these
# as a formula. A leading apostrophe makes Excel show the text as it is.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CellFormatter = Callable[[Any], str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _fallback(value: Any) -> str:
    """For a value whose Python type does not match its column: never trust it as a number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return _text(value)


def _integer(value: Any) -> str:
    return str(value) if type(value) is int else _fallback(value)


def _decimal(value: Any) -> str:
    # "f" never uses exponent notation: Decimal("1E+3") is written 1000.
    return format(value, "f") if type(value) is Decimal else _fallback(value)


def _number(value: Any) -> str:
    return repr(value) if type(value) is float else _fallback(value)


def _boolean(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _fallback(value)


def _temporal(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else _fallback(value)


_FORMATTERS: dict[str, CellFormatter] = {
    "string": _text,
    "integer": _integer,
    "decimal": _decimal,
    "number": _number,
    "boolean": _boolean,
    "date": _temporal,
    "datetime": _temporal,
}


# Classes whose values csv.writer already writes as we do: str(int), repr(float) (the
# shortest exact decimal, which is also what a decimal stored as a REAL reads back as) and
# str(date) (ISO 8601). bool is its own class, so True never passes as the integer 1.
_NATIVE_CLASSES = frozenset({int, float, date, type(None)})
_NATIVE_TYPES = frozenset({"integer", "number", "decimal", "date"})


def _cell_expression(index: int, column_type: str) -> str:
    """The source of one cell of the generated row formatter (see ``row_formatter``)."""
    cell = f"r[{index}]"
    if column_type == "string":
        # The common case inline: text that no spreadsheet would run as a formula.
        return f"(v if (v := {cell}).__class__ is str and not v.startswith(TRIGGERS) else text(v))"
    if column_type == "date":
        # A date, or its ISO text as a SQLite row store holds it (Exporter.iso_dates): text
        # passes as _fallback would pass it (defended like any text).
        return (f"(v if (c := (v := {cell}).__class__) in NATIVE or (c is str and not v.startswith(TRIGGERS))"
                f" else fallback(v))")
    if column_type in _NATIVE_TYPES:
        return f"(v if (v := {cell}).__class__ in NATIVE else fallback(v))"
    return f"formatters[{index}]({cell})"


def row_formatter(columns: Sequence[Column]) -> Callable[[Sequence[Any]], list[Any]]:
    """One function formatting a whole row into what csv.writer should write.

    Generated for the export's columns (its source is built from column positions and
    this module's own names only, never from data or field names), so that a row costs
    one call instead of a call and a loop step per cell: the per-cell Python work was a
    third of a CSV download's CPU. Each cell gives exactly what its formatter in
    ``_FORMATTERS`` gives (tests/formats/test_csv_export.py compares them value by value).
    """
    formatters = [_FORMATTERS[column.type] for column in columns]
    body = ", ".join(_cell_expression(i, column.type) for i, column in enumerate(columns))
    namespace = {"TRIGGERS": _FORMULA_TRIGGERS, "NATIVE": _NATIVE_CLASSES, "text": _text,
                 "fallback": _fallback, "formatters": formatters}
    return eval(f"lambda r: [{body}]", namespace)  # noqa: S307 - the source is ours alone


def export_csv(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    header: str = "names",
    bom: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield the CSV file in chunks of about ``chunk_size`` bytes.

    ``header`` is "names" (field names, good for programs) or "titles" (bilingual titles,
    good for people); ``bom=True`` starts the file with a UTF-8 BOM so that Excel
    recognises UTF-8 and shows Chinese text correctly.
    """
    if header not in HEADER_STYLES:
        raise ValueError(f"header must be one of {HEADER_STYLES}, not {header!r}")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    # Validated above, generated below: a bad option fails before any byte is sent.
    return _generate(tuple(columns), rows, header, bom, chunk_size)


def _generate(
    columns: tuple[Column, ...],
    rows: Iterable[Sequence[Any]],
    header: str,
    bom: bool,
    chunk_size: int,
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    titles = [c.name if header == "names" else c.bilingual_title for c in columns]
    writer.writerow([_text(title) for title in titles])
    pending_bom = UTF8_BOM if bom else b""

    def drain() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    writerow = writer.writerow
    tell = buffer.tell
    format_row = row_formatter(columns)
    for row in rows:
        writerow(format_row(row))
        # tell() counts characters, not bytes: Chinese text makes chunks up to ~3x
        # larger, which is harmless and saves encoding twice.
        if tell() >= chunk_size:
            yield pending_bom + drain()
            pending_bom = b""
    yield pending_bom + drain()
