"""Zip-bomb-safe checks of an XLSX workbook before openpyxl parses any of it.

openpyxl's read-only mode streams sheet rows, but it reads the shared-string table, the
styles and the workbook part whole: a 220 KB upload declaring five million shared strings
took a process to 0.8 GB. So the zip directory (sizes as the archive declares them) and the
sheet's ``<dimension>`` are checked first, and while rows stream, their count and the
column of their last cell are checked before openpyxl pads the row out to that column.
A member whose real size exceeds its declared size cannot get past zipfile either: it
raises on reading past the declared size.
"""

from __future__ import annotations

import re
import zipfile
from typing import Any, BinaryIO

from openpyxl.utils.cell import column_index_from_string

from .errors import FormatError
from .limits import ReadLimits

SHARED_STRINGS = re.compile(r"(^|/)sharedStrings\d*\.xml$", re.IGNORECASE)
WORKSHEET = re.compile(r"(^|/)worksheets/[^/]+\.xml$", re.IGNORECASE)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?\"")
DIMENSION_SCAN_BYTES = 64 * 1024


def _too_big(file: str | None, message: str) -> FormatError:
    return FormatError("xlsx_too_large", message + "; split the workbook or save it as CSV", file=file)


def check_archive(binary: BinaryIO, limits: ReadLimits, file: str | None) -> None:
    """Refuse a workbook whose declared parts exceed ``limits``; reads only the zip directory."""
    try:
        archive = zipfile.ZipFile(binary)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FormatError("invalid_xlsx", f"the file is not a readable XLSX workbook ({error})", file=file) from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise _too_big(file, f"the workbook has {len(members)} parts; at most {limits.max_members}")
        total = sum(member.file_size for member in members)
        if total > limits.max_uncompressed_bytes:
            raise _too_big(file, f"the workbook unpacks to {total:,} bytes; at most {limits.max_uncompressed_bytes:,}")
        sheets = [member for member in members if WORKSHEET.search(member.filename)]
        if len(sheets) > limits.max_sheets:
            raise _too_big(file, f"the workbook has {len(sheets)} sheets; at most {limits.max_sheets}")
        for member in members:
            if WORKSHEET.search(member.filename):
                continue
            cap = limits.max_shared_strings_bytes if SHARED_STRINGS.search(member.filename) else limits.max_part_bytes
            if member.file_size > cap:
                raise _too_big(file, f"the part {member.filename} unpacks to {member.file_size:,} bytes; "
                                     f"at most {cap:,}")
        for member in sheets:
            _check_dimension(archive, member, limits, file)
    binary.seek(0)


def _check_dimension(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ReadLimits, file: str | None) -> None:
    """A sheet that says it is larger than the limits is refused before its rows are read."""
    with archive.open(member) as part:
        head = part.read(DIMENSION_SCAN_BYTES)
    found = _DIMENSION.search(head)
    if not found:
        return  # No dimension (or a late one): the row-by-row checks still apply.
    last_column = (found.group(3) or found.group(1) or b"").decode()
    last_row = (found.group(4) or found.group(2) or b"").decode()
    if last_row and int(last_row) > limits.max_rows + 1:  # + the header row
        raise _too_big(file, f"a sheet declares {int(last_row):,} rows; at most {limits.max_rows:,}")
    if last_column and column_index_from_string(last_column) > limits.max_columns:
        raise _too_big(file, f"a sheet declares {column_index_from_string(last_column):,} columns; "
                             f"at most {limits.max_columns:,}")


def bound_rows(sheet: Any, limits: ReadLimits, file: str | None) -> None:
    """Make ``sheet`` (an openpyxl ReadOnlyWorksheet) refuse a cell beyond the column limit.

    openpyxl builds each row as a list as wide as the row's last cell: one cell in column
    XFD makes a 16,384-entry row. The hook sees the parsed cells first.
    """
    original = sheet._get_row

    def bounded_row(row: list[dict[str, Any]], min_col: int = 1, max_col: int | None = None,
                    values_only: bool = False) -> tuple[Any, ...]:
        if row:
            last = row[-1]
            if last["column"] > limits.max_columns:
                raise FormatError("too_many_columns", f"the row has a value in column {last['column']:,}; "
                                  f"at most {limits.max_columns:,} columns", file=file, line=last.get("row"))
        return original(row, min_col, max_col, values_only)

    sheet._get_row = bounded_row
