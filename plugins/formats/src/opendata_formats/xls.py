"""Excel 97-2003 (.xls, BIFF) workbooks for publishers' uploads and catalogue resources.

Read with xlrd (the maintained reader of the format; it reads .xls only). The first sheet
is read; its first non-blank row is the header, matched to the data dictionary as the
core matches CSV and XLSX headers (field name, Chinese, English or bilingual title). The
deployment's ReadLimits hold: sheets, rows, columns and characters per cell. Dates come
as datetime (from the workbook's date system), booleans as bool, numbers as float (the
core's converter takes 12.0 for an integer), error cells as a FormatError naming the cell.
xlrd reads the whole workbook into memory; an .xls file holds at most 65,536 rows and
is bounded by the upload size limit. A damaged workbook makes xlrd raise whatever its
parser meets (AssertionError, IndexError, KeyError, struct.error...) when a sheet or cell is
read, not only when the file is opened: each is the file's FormatError ``invalid_xls``
(an upload's 400, a catalogue problem), never a 500. xlrd's warnings go nowhere (it prints
them to stdout by default, into the portal's log stream).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import xlrd

from opendata.formats import Column, FormatError
from opendata.formats.headers import RowRecord, match_header
from opendata.formats.limits import ReadLimits, shortened


class _Discard:
    """xlrd's log file."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _damaged(error: BaseException, file: str) -> FormatError:
    detail = " ".join(str(error).split())[:200]
    return FormatError("invalid_xls", f"the file is not a readable Excel 97-2003 workbook (damaged: "
                                      f"{type(error).__name__}{': ' + detail if detail else ''})", file=file)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class XlsTable:
    """The first sheet of an .xls workbook: ``header`` is known, rows come on iteration."""

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[Column] | None, limits: ReadLimits) -> None:
        self.file = os.fspath(path)
        self.limits = limits
        try:
            self._book = xlrd.open_workbook(self.file, on_demand=True, logfile=_Discard())
        except Exception as error:  # noqa: BLE001 - whatever breaks, the file is bad
            raise FormatError("invalid_xls", f"the file is not a readable Excel 97-2003 workbook ({error})",
                              file=self.file) from None
        try:
            if self._book.nsheets > limits.max_sheets:
                raise FormatError("too_many_sheets", f"the workbook has more than {limits.max_sheets} sheets",
                                  file=self.file)
            self._sheet = self._book.sheet_by_index(0)
            if self._sheet.nrows > limits.max_rows + 1:
                raise FormatError("too_many_rows", f"the sheet has more than {limits.max_rows:,} rows",
                                  file=self.file, line=limits.max_rows + 2)
            if self._sheet.ncols > limits.max_columns:
                raise FormatError("too_many_columns", f"the sheet has more than {limits.max_columns} columns",
                                  file=self.file)
            self._next = 0
            header = self._next_row()
            if header is None:
                raise FormatError("empty_file", f"sheet {self._sheet.name!r} has no header row", file=self.file)
            self.header_line, cells = header
            while cells and _blank(cells[-1]):
                cells = cells[:-1]
            self.header = ["" if c is None else str(c).strip() for c in cells]
            self._positions = (match_header(self.header, columns, file=self.file, line=self.header_line)
                               if columns is not None else None)
        except FormatError:
            self.close()
            raise
        except Exception as error:  # xlrd's parser on a damaged sheet
            self.close()
            raise _damaged(error, self.file) from None
        except BaseException:
            self.close()
            raise

    def _value(self, row: int, col: int) -> Any:
        cell = self._sheet.cell(row, col)
        kind = cell.ctype
        if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        if kind == xlrd.XL_CELL_DATE:
            return xlrd.xldate_as_datetime(cell.value, self._book.datemode)
        if kind == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        if kind == xlrd.XL_CELL_ERROR:
            code = xlrd.error_text_from_code.get(cell.value, "#ERROR")
            raise FormatError("invalid_value", f"the cell holds the error {code}", file=self.file, line=row + 1,
                              column=xlrd.colname(col), value=code)
        if kind == xlrd.XL_CELL_TEXT and len(cell.value) > self.limits.max_cell_chars:
            raise FormatError("cell_too_long", f"the cell has more than {self.limits.max_cell_chars:,} characters",
                              file=self.file, line=row + 1, column=xlrd.colname(col),
                              value=shortened(cell.value))
        return cell.value

    def _next_row(self) -> tuple[int, list[Any]] | None:
        while self._next < self._sheet.nrows:
            row = self._next
            self._next += 1
            cells = [self._value(row, col) for col in range(self._sheet.row_len(row))]
            if not all(_blank(c) for c in cells):
                return row + 1, cells
        return None

    def _read_row(self) -> tuple[int, list[Any]] | None:
        try:
            return self._next_row()
        except FormatError:
            raise
        except Exception as error:  # xlrd's parser on a damaged cell
            raise _damaged(error, self.file) from None

    def __iter__(self) -> Iterator[RowRecord]:
        try:
            width = len(self.header)
            while (record := self._read_row()) is not None:
                line, cells = record
                if any(not _blank(c) for c in cells[width:]):
                    raise FormatError("ragged_row", f"the row has values beyond the header's {width} columns",
                                      file=self.file, line=line)
                values = (cells + [None] * width)[:width]
                positions = self._positions
                yield RowRecord(line, values if positions is None else [values[i] for i in positions])
        finally:
            self.close()

    def close(self) -> None:
        if self._book is not None:
            self._book.release_resources()
            self._book = None  # type: ignore[assignment]


class XlsImporter:
    """The ``xls`` resource format (and ``.xls`` uploads)."""

    name = "xls"
    extensions = ("xls",)

    def open(self, path: Path, columns: Sequence[Column] | None, limits: ReadLimits) -> XlsTable:
        return XlsTable(path, columns, limits)
