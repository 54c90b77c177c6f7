"""The XLSX exporter as it was before the streaming writer (openpyxl write-only mode).

Kept for the tests only: the streaming writer must read back exactly as this did.
It spools the saved workbook to a temporary file, so its first byte comes after the last row.
"""
from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from opendata.formats.columns import Column

CHUNK_SIZE = 64 * 1024
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSION = "xlsx"
EXCEL_MAX_ROWS = 1_048_576
SHEET_TITLE_MAX = 31
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Small workbooks never touch the disk; large ones spill over.
SPOOL_IN_MEMORY_UP_TO = 1024 * 1024
EXCEL_EXACT_INTEGER = 999_999_999_999_999

_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_ERROR_CODES = frozenset(ERROR_CODES)


def export_xlsx(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str = "data",
    max_rows_per_sheet: int = EXCEL_MAX_ROWS,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield an .xlsx file in chunks.

    The first row of every sheet holds the bilingual titles ("中文 / English"). Past
    ``max_rows_per_sheet`` rows (header included) the data continues on "data_2",
    "data_3", ... each again with the header row.
    """
    if max_rows_per_sheet < 2:
        raise ValueError("max_rows_per_sheet must leave room for the header and one row")
    if max_rows_per_sheet > EXCEL_MAX_ROWS:
        raise ValueError(f"Excel sheets hold at most {EXCEL_MAX_ROWS} rows")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    base_title = _SHEET_TITLE_FORBIDDEN.sub("_", sheet_title).strip("'") or "data"
    return _generate(tuple(columns), rows, base_title, max_rows_per_sheet, chunk_size)


def _generate(
    columns: tuple[Column, ...],
    rows: Iterable[Sequence[Any]],
    base_title: str,
    max_rows_per_sheet: int,
    chunk_size: int,
) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    try:
        _fill(workbook, columns, rows, base_title, max_rows_per_sheet)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_UP_TO) as output:
            workbook.save(output)
            output.seek(0)
            while chunk := output.read(chunk_size):
                yield chunk
    finally:
        _discard_unsaved_sheets(workbook)


def _fill(
    workbook: Workbook,
    columns: tuple[Column, ...],
    rows: Iterable[Sequence[Any]],
    base_title: str,
    max_rows_per_sheet: int,
) -> None:
    sheet_number = 1
    sheet = _new_sheet(workbook, columns, base_title, sheet_number)
    room = max_rows_per_sheet - 1
    cell_makers = [_CELL_MAKERS[column.type] for column in columns]
    append = sheet.append
    for row in rows:
        if room == 0:
            sheet_number += 1
            sheet = _new_sheet(workbook, columns, base_title, sheet_number)
            append = sheet.append
            room = max_rows_per_sheet - 1
        append([make(sheet, value) for make, value in zip(cell_makers, row)])
        room -= 1


def _sheet_title(base_title: str, number: int) -> str:
    suffix = "" if number == 1 else f"_{number}"
    return base_title[: SHEET_TITLE_MAX - len(suffix)] + suffix


def _new_sheet(workbook: Workbook, columns: tuple[Column, ...], base_title: str, number: int):
    sheet = workbook.create_sheet(_sheet_title(base_title, number))
    # Column widths and frozen panes must be set before the first row in write-only mode.
    for index, column in enumerate(columns, 1):
        width = min(60, max(12, 2 * len(column.bilingual_title)))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = _text_cell(sheet, column.bilingual_title)
        if not isinstance(cell, Cell):
            cell = WriteOnlyCell(sheet, cell)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def _text_cell(sheet, value: Any) -> Any:
    """A text value, forced to stay text.

    openpyxl turns a str starting with "=" into a formula and "#N/A"-like strings into
    error cells; uploaded data must never be executed by Excel, so such values get an
    explicit string cell. Control characters that XML cannot carry are removed.
    """
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text[:1] == "=" or (text[:1] == "#" and text in _ERROR_CODES):
        cell = WriteOnlyCell(sheet, None)
        cell.value = text
        cell.data_type = "s"
        return cell
    return text


def _string_cell(sheet, value: Any) -> Any:
    # Fast path: most text needs no care at all.
    if type(value) is str and value[:1] not in ("=", "#") and not ILLEGAL_CHARACTERS_RE.search(value):
        return value
    return _text_cell(sheet, value)


def _number_cell(sheet, value: Any) -> Any:
    kind = type(value)
    if kind is int:
        # Excel keeps 15 significant digits: longer integers (identity numbers, codes)
        # would come back altered, so they travel as text.
        return value if -EXCEL_EXACT_INTEGER <= value <= EXCEL_EXACT_INTEGER else str(value)
    if kind is float:
        return value if math.isfinite(value) else _text_cell(sheet, repr(value))
    if kind is Decimal:
        return value if value.is_finite() else _text_cell(sheet, str(value))
    return _other_cell(sheet, value)


def _boolean_cell(sheet, value: Any) -> Any:
    return value if type(value) is bool else _other_cell(sheet, value)


def _dated_cell(sheet, value: date, number_format: str) -> Cell:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: keep the wall-clock time the data was recorded in.
        value = value.replace(tzinfo=None)
    cell = WriteOnlyCell(sheet, None)
    cell.number_format = number_format  # before the value, so openpyxl keeps it
    cell.value = value
    return cell


def _date_cell(sheet, value: Any) -> Any:
    if type(value) is date:
        # openpyxl gives a plain date the number format yyyy-mm-dd (DATE_FORMAT) by itself,
        # without the cost of a styled cell per value.
        return value
    if isinstance(value, datetime):
        return _dated_cell(sheet, value, DATETIME_FORMAT)
    if isinstance(value, date):
        return _dated_cell(sheet, value, DATE_FORMAT)
    return _other_cell(sheet, value)


def _datetime_cell(sheet, value: Any) -> Any:
    if isinstance(value, date):
        return _dated_cell(sheet, value, DATETIME_FORMAT)
    return _other_cell(sheet, value)


def _other_cell(sheet, value: Any) -> Any:
    """For a value whose Python type does not match its column."""
    if value is None or isinstance(value, bool):
        return None if value is None else bool(value)
    if isinstance(value, int):
        return _number_cell(sheet, int(value))
    if isinstance(value, float):
        return _number_cell(sheet, float(value))
    if isinstance(value, Decimal):
        return _number_cell(sheet, Decimal(value))
    if isinstance(value, date):
        return _date_cell(sheet, value)
    return _text_cell(sheet, value)


_CELL_MAKERS = {
    "string": _string_cell,
    "integer": _number_cell,
    "decimal": _number_cell,
    "number": _number_cell,
    "boolean": _boolean_cell,
    "date": _date_cell,
    "datetime": _datetime_cell,
}


def _discard_unsaved_sheets(workbook: Workbook) -> None:
    """Remove the per-sheet temporary files openpyxl leaves behind when a save never happens.

    openpyxl deletes them itself only on a successful save (or at interpreter exit), so
    a failing row source or an abandoned download would otherwise leak files on disk.
    This reaches into openpyxl's write-only internals (``_rows``, ``_writer``).
    """
    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None or sheet.closed:
            continue
        try:
            if sheet._rows is not None:
                sheet._rows.close()
            writer.close()
            writer.cleanup()
        except (OSError, ValueError, RuntimeError, StopIteration):
            pass
