"""Read uploaded XLSX workbooks lazily with openpyxl's read-only mode."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from openpyxl import load_workbook

from .columns import Column
from .errors import FormatError
from .headers import RowRecord, match_header
from .limits import DEFAULT_LIMITS, ReadLimits
from .xlsx_guard import bound_rows, check_archive


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class XlsxTable:
    """One sheet of an open workbook: ``header`` is known, rows are read on iteration.

    Iterating yields RowRecord(line=sheet row number, values) for every non-blank row,
    with dates as datetime and formulas as their last computed value. Rows shorter than
    the header are padded with None (Excel does not store empty cells); a value beyond
    the header's last column raises FormatError("ragged_row").
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | BinaryIO,
        sheet: str | int | None = None,
        columns: Sequence[Column] | None = None,
        *,
        allow_extra_columns: bool = False,
        limits: ReadLimits = DEFAULT_LIMITS,
    ) -> None:
        self.limits = limits
        if isinstance(source, (str, os.PathLike)):
            self.file: str | None = os.fspath(source)
            # Opened by us: openpyxl would refuse a path whose name does not end in
            # .xlsx, and uploads are often stored under temporary names.
            self._owned: BinaryIO | None = open(source, "rb")
            binary: BinaryIO = self._owned
        else:
            name = getattr(source, "name", None)
            self.file = name if isinstance(name, str) else None
            binary, self._owned = source, None
        self.columns = tuple(columns) if columns is not None else None
        self._workbook = None
        try:
            if hasattr(binary, "seek"):
                check_archive(binary, limits, self.file)
            try:
                self._workbook = load_workbook(binary, read_only=True, data_only=True)
            except Exception as error:  # noqa: BLE001 - whatever breaks, the upload is bad
                raise FormatError(
                    "invalid_xlsx", f"the file is not a readable XLSX workbook ({error})",
                    file=self.file,
                ) from None
            self._sheet = self._pick_sheet(sheet)
            self.sheet_title: str = self._sheet.title
            # Some producers write a wrong <dimension>; forget it and read what is there.
            self._sheet.reset_dimensions()
            bound_rows(self._sheet, limits, self.file)
            self._rows = enumerate(self._sheet.iter_rows(values_only=True), 1)
            self._last_line = 0
            header_record = self._next_row()
            if header_record is None:
                raise FormatError(
                    "empty_file", f"sheet {self.sheet_title!r} has no header row", file=self.file
                )
            self.header_line, cells = header_record
            while cells and _is_blank(cells[-1]):
                cells = cells[:-1]
            self.header = ["" if cell is None else str(cell).strip() for cell in cells]
            self._positions = (
                match_header(
                    self.header, self.columns, file=self.file, line=self.header_line,
                    allow_extra_columns=allow_extra_columns,
                )
                if self.columns is not None
                else None
            )
        except BaseException:
            self.close()
            raise

    def _pick_sheet(self, sheet: str | int | None):
        workbook = self._workbook
        names = workbook.sheetnames
        if sheet is None:
            return workbook.worksheets[0]
        if isinstance(sheet, int) and 0 <= sheet < len(names):
            return workbook.worksheets[sheet]
        if isinstance(sheet, str) and sheet in names:
            return workbook[sheet]
        raise FormatError(
            "unknown_sheet",
            f"no sheet {sheet!r}; the workbook has {', '.join(map(repr, names))}",
            file=self.file, value=sheet,
        )

    def _next_row(self) -> tuple[int, tuple[Any, ...]] | None:
        last_allowed = self.limits.max_rows + 1  # the rows and their header
        try:
            for self._last_line, cells in self._rows:
                if self._last_line > last_allowed:
                    # Counted on blank rows too: <row r="999999999"> makes openpyxl yield
                    # every empty row before it.
                    raise FormatError("too_many_rows", f"the sheet has more than {self.limits.max_rows:,} rows",
                                      file=self.file, line=self._last_line)
                if not all(_is_blank(cell) for cell in cells):
                    return self._last_line, cells
        except FormatError:
            raise
        except Exception as error:  # noqa: BLE001 - a damaged sheet, found while reading
            raise FormatError(
                "invalid_xlsx", f"the sheet cannot be read after line {self._last_line} ({error})",
                file=self.file, line=self._last_line + 1,
            ) from None
        return None

    def __iter__(self) -> Iterator[RowRecord]:
        try:
            width = len(self.header)
            positions = self._positions
            while (record := self._next_row()) is not None:
                line, cells = record
                if len(cells) > width:
                    if any(not _is_blank(cell) for cell in cells[width:]):
                        raise FormatError(
                            "ragged_row",
                            f"the row has values beyond the header's {width} columns",
                            file=self.file, line=line,
                        )
                    cells = cells[:width]
                values = list(cells)
                if len(values) < width:
                    values.extend([None] * (width - len(values)))
                yield RowRecord(line, values if positions is None else [values[i] for i in positions])
        finally:
            self.close()

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> XlsxTable:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def read_xlsx(
    source: str | os.PathLike[str] | BinaryIO,
    sheet: str | int | None = None,
    columns: Sequence[Column] | None = None,
    *,
    allow_extra_columns: bool = False,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> XlsxTable:
    """Open a workbook, pick ``sheet`` (name, index or the first) and read its header.

    Iterate the result for the rows; the workbook is closed at the end of iteration, on
    error, or on leaving a ``with`` block. With ``columns``, see read_csv. The workbook
    is checked against ``limits`` (zip directory, sheet dimension, rows, columns) first.
    """
    return XlsxTable(source, sheet, columns, allow_extra_columns=allow_extra_columns, limits=limits)
