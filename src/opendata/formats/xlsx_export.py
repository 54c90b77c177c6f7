"""Stream rows into an XLSX workbook, sending bytes while the rows are still being read.

Each row becomes ``<row>`` XML here and is deflated straight into the zip stream of
xlsx_stream.py, which hands out a chunk whenever ``chunk_size`` bytes are ready: the
first chunk of a million-row download leaves after a few thousand rows, not after the
last one, so no proxy read timeout runs out, and nothing is kept on disk or in memory.

What a reader gets back is what the earlier openpyxl write-only exporter gave (the
tests compare both): text as inline strings, never formulas; numbers written with
openpyxl's 16 significant digits; dates as Excel serial numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.workbook.child import avoid_duplicate_name

from .columns import Column
from .xlsx_stream import (
    COMPRESS_LEVEL,
    DATE_FORMAT,
    DATETIME_FORMAT,
    STYLE_BOLD,
    STYLE_DATE,
    STYLE_DATETIME,
    XlsxZipStream,
    sheet_start,
    xml_text,
)

__all__ = ["DATE_FORMAT", "DATETIME_FORMAT", "export_xlsx"]

CHUNK_SIZE = 64 * 1024
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSION = "xlsx"
EXCEL_MAX_ROWS = 1_048_576
SHEET_TITLE_MAX = 31
EXCEL_EXACT_INTEGER = 999_999_999_999_999
# Excel's limit for one cell's text; openpyxl cut longer text to it as well.
EXCEL_MAX_TEXT = 32_767
# Row XML is deflated in pieces of about this size: fewer zipfile calls, bounded memory.
WRITE_BATCH_BYTES = 32 * 1024

_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Anything that needs more than copying: markup characters and the controls XML forbids.
_NOT_PLAIN = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]")
# Excel serial numbers count days from 1899-12-30 (the 1900 leap-year bug included).
_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()

CellXml = Callable[[Any, str], str]


def export_xlsx(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str = "data",
    max_rows_per_sheet: int = EXCEL_MAX_ROWS,
    chunk_size: int = CHUNK_SIZE,
    compress_level: int = COMPRESS_LEVEL,
) -> Iterator[bytes]:
    """Yield an .xlsx file in chunks of at most ``chunk_size`` bytes, as the rows arrive.

    The first row of every sheet holds the bilingual titles ("中文 / English"). Past
    ``max_rows_per_sheet`` rows (header included) the data continues on "data_2",
    "data_3", ... each again with the header row; so does a sheet whose XML would
    outgrow 2 GiB (see xlsx_stream.MEMBER_LIMIT).
    """
    if max_rows_per_sheet < 2:
        raise ValueError("max_rows_per_sheet must leave room for the header and one row")
    if max_rows_per_sheet > EXCEL_MAX_ROWS:
        raise ValueError(f"Excel sheets hold at most {EXCEL_MAX_ROWS} rows")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    if not 0 <= compress_level <= 9:
        raise ValueError("compress_level runs from 0 to 9")
    base_title = ILLEGAL_CHARACTERS_RE.sub("", _SHEET_TITLE_FORBIDDEN.sub("_", sheet_title)).strip("'") or "data"
    return _generate(tuple(columns), rows, base_title, max_rows_per_sheet, chunk_size, compress_level)


def _generate(
    columns: tuple[Column, ...],
    rows: Iterable[Sequence[Any]],
    base_title: str,
    max_rows_per_sheet: int,
    chunk_size: int,
    compress_level: int,
) -> Iterator[bytes]:
    stream = XlsxZipStream(chunk_size, compress_level)
    try:
        encode_row = _row_encoder(columns)
        start = sheet_start([min(60, max(12, 2 * len(column.bilingual_title))) for column in columns])
        header = _header_row(columns)

        def open_sheet() -> list[bytes]:
            title = _sheet_title(base_title, len(stream.sheet_titles) + 1)
            return stream.open_sheet(avoid_duplicate_name(stream.sheet_titles, title), start + header)

        yield from open_sheet()
        number, last = 1, max_rows_per_sheet
        batch, batch_size = [], 0
        for row in rows:
            if number == last:
                yield from _flush(stream, batch)
                batch, batch_size = [], 0
                yield from open_sheet()
                number = 1
            number += 1
            data = encode_row(row, number).encode()
            if not stream.room_in_sheet(batch_size + len(data)):
                yield from _flush(stream, batch)
                batch, batch_size = [], 0
                yield from open_sheet()
                number = 2
                data = encode_row(row, number).encode()
            batch.append(data)
            batch_size += len(data)
            if batch_size >= WRITE_BATCH_BYTES:
                yield from _flush(stream, batch)
                batch, batch_size = [], 0
        yield from _flush(stream, batch)
        yield from stream.finish()
    finally:
        # Finished, failed or abandoned: nothing is left behind (there are no files).
        stream.discard()


def _flush(stream: XlsxZipStream, batch: list[bytes]) -> list[bytes]:
    return stream.write(b"".join(batch)) if batch else []


def _sheet_title(base_title: str, number: int) -> str:
    suffix = "" if number == 1 else f"_{number}"
    return base_title[: SHEET_TITLE_MAX - len(suffix)] + suffix


def _header_row(columns: tuple[Column, ...]) -> bytes:
    letters = [get_column_letter(index) for index in range(1, len(columns) + 1)]
    cells = "".join(
        _text_xml(column.bilingual_title, f"{letter}1", STYLE_BOLD) for letter, column in zip(letters, columns)
    )
    return f'<row r="1">{cells}</row>'.encode()


def _row_encoder(columns: tuple[Column, ...]) -> Callable[[Sequence[Any], int], str]:
    cells = list(zip([_CELL_XML[column.type] for column in columns],
                     [get_column_letter(index) for index in range(1, len(columns) + 1)]))

    def encode_row(row: Sequence[Any], number: int) -> str:
        n = str(number)
        # Empty cells are left out, as openpyxl did: the cell references keep the places.
        return "".join([f'<row r="{n}">',
                        *[cell_xml(value, letter + n) for (cell_xml, letter), value in zip(cells, row)
                          if value is not None],
                        "</row>"])

    return encode_row


def _text_xml(value: Any, ref: str, style: int = 0) -> str:
    """A text cell: an inline string, so "=..." or "#N/A" can never become a formula or an
    error. Control characters that XML cannot carry are removed."""
    text = value if type(value) is str else str(value)
    if _NOT_PLAIN.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > EXCEL_MAX_TEXT:
        text = text[:EXCEL_MAX_TEXT]
    styled = f' s="{style}"' if style else ""
    if not text:
        return f'<c r="{ref}"{styled} t="inlineStr"/>'
    # Excel trims leading and trailing white space unless told to keep it.
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    if _NOT_PLAIN.search(text):
        text = xml_text(text)
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _string_xml(value: Any, ref: str) -> str:
    # Fast path: most text needs no care at all.
    if type(value) is str and value and len(value) <= EXCEL_MAX_TEXT and not _NOT_PLAIN.search(value) \
            and not value[0].isspace() and not value[-1].isspace():
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return _text_xml(value, ref)


def _number_xml(value: Any, ref: str) -> str:
    kind = type(value)
    if kind is int:
        # Excel keeps 15 significant digits: longer integers (identity numbers, codes)
        # would come back altered, so they travel as text.
        if -EXCEL_EXACT_INTEGER <= value <= EXCEL_EXACT_INTEGER:
            return f'<c r="{ref}" t="n"><v>{value}</v></c>'
        return _text_xml(str(value), ref)
    if kind is float:
        if math.isfinite(value):
            return f'<c r="{ref}" t="n"><v>{"%.16g" % value}</v></c>'
        return _text_xml(repr(value), ref)
    if kind is Decimal:
        # Beyond a double's range a Decimal would become "inf": keep its digits as text.
        if value.is_finite() and math.isfinite(value):
            return f'<c r="{ref}" t="n"><v>{"%.16g" % value}</v></c>'
        return _text_xml(str(value), ref)
    return _other_xml(value, ref)


def _boolean_xml(value: Any, ref: str) -> str:
    if type(value) is bool:
        return f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>'
    return _other_xml(value, ref)


def _excel_serial(value: date) -> str:
    """Days since 1899-12-30 as openpyxl's ``to_excel`` counts them, written as openpyxl
    wrote them; the time zone, if any, is dropped (Excel has none: the wall-clock time
    the data was recorded in is kept)."""
    days = value.toordinal() - _EPOCH_ORDINAL
    if 0 < days <= 60:  # Excel's fictitious 1900-02-29
        days -= 1
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6
        return "%.16g" % (days + seconds / 86400)
    return str(days)


def _dated_xml(value: date, ref: str, style: int) -> str:
    return f'<c r="{ref}" s="{style}" t="n"><v>{_excel_serial(value)}</v></c>'


def _date_xml(value: Any, ref: str) -> str:
    if isinstance(value, datetime):
        return _dated_xml(value, ref, STYLE_DATETIME)
    if isinstance(value, date):
        return _dated_xml(value, ref, STYLE_DATE)
    return _other_xml(value, ref)


def _datetime_xml(value: Any, ref: str) -> str:
    if isinstance(value, date):
        return _dated_xml(value, ref, STYLE_DATETIME)
    return _other_xml(value, ref)


def _other_xml(value: Any, ref: str) -> str:
    """For a value whose Python type does not match its column."""
    if isinstance(value, bool):
        return _boolean_xml(bool(value), ref)
    if isinstance(value, int):
        return _number_xml(int(value), ref)
    if isinstance(value, float):
        return _number_xml(float(value), ref)
    if isinstance(value, Decimal):
        return _number_xml(Decimal(value), ref)
    if isinstance(value, date):
        return _date_xml(value, ref)
    return _text_xml(value, ref)


_CELL_XML: dict[str, CellXml] = {
    "string": _string_xml,
    "integer": _number_xml,
    "decimal": _number_xml,
    "number": _number_xml,
    "boolean": _boolean_xml,
    "date": _date_xml,
    "datetime": _datetime_xml,
}
