"""Uploaded files are read under bounds: zip bombs, huge cells, far rows and columns.

Each crafted workbook here is refused with a code, the file and (where there is one) the
row and column, before openpyxl has built anything large: the shared-string bomb took a
process to 0.8 GB and 150 s before these checks, the far row never finished.
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from opendata.formats import Column, FormatError, RowConverter, read_csv, read_xlsx
from opendata.formats.limits import ReadLimits
from tests.formats import crafted_xlsx as crafted

HEADER = ["code", "name"]
COLUMNS = [Column("code", "编号", None, "string"), Column("name", "名称", None, "string")]


def read_all(path: Path, limits: ReadLimits = ReadLimits()) -> list:
    return [record.values for record in read_xlsx(path, columns=COLUMNS, limits=limits)]


def refusal(path: Path, limits: ReadLimits = ReadLimits()) -> FormatError:
    with pytest.raises(FormatError) as caught:
        read_all(path, limits)
    return caught.value


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_shared_string_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    bomb = crafted.shared_strings_bomb(tmp_path / "bomb.xlsx", HEADER, strings=3_000_000)
    assert bomb.stat().st_size < 300_000  # ~57 MB of XML once unpacked
    before = peak_rss_mb()
    error = refusal(bomb)
    assert error.code == "xlsx_too_large" and "sharedStrings.xml" in error.message
    assert peak_rss_mb() - before < 50  # nothing was unpacked


def test_the_whole_workbook_and_its_sheet_count_are_bounded(tmp_path: Path) -> None:
    sheets = crafted.many_sheets(tmp_path / "sheets.xlsx", HEADER, 5)
    assert refusal(sheets, ReadLimits(max_sheets=4)).code == "xlsx_too_large"
    assert read_all(sheets, ReadLimits(max_sheets=5)) == []
    big = crafted.huge_cell(tmp_path / "big.xlsx", HEADER, chars=300_000, rows=1)
    assert "unpacks to" in refusal(big, ReadLimits(max_uncompressed_bytes=200_000)).message


def test_a_sheet_declaring_too_many_rows_or_columns_is_refused_before_its_rows(tmp_path: Path) -> None:
    rows = crafted.declared_dimension(tmp_path / "rows.xlsx", HEADER, "A1:B2000001")
    assert "declares 2,000,001 rows" in refusal(rows, ReadLimits(max_rows=1_000_000)).message
    columns = crafted.declared_dimension(tmp_path / "columns.xlsx", HEADER, "A1:XFD10")
    assert "declares 16,384 columns" in refusal(columns).message


def test_a_cell_in_column_xfd_is_refused_with_its_row(tmp_path: Path) -> None:
    error = refusal(crafted.far_column(tmp_path / "far.xlsx", HEADER))
    assert (error.code, error.line) == ("too_many_columns", 2)


def test_a_row_numbered_999999999_stops_at_the_row_limit(tmp_path: Path) -> None:
    error = refusal(crafted.far_row(tmp_path / "far.xlsx", HEADER), ReadLimits(max_rows=10_000))
    assert error.code == "too_many_rows" and error.line == 10_002


def test_csv_columns_and_rows_are_bounded(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(2000)) + "\n")
    with pytest.raises(FormatError) as caught:
        read_csv(wide)
    assert caught.value.code == "too_many_columns"
    long = tmp_path / "long.csv"
    long.write_text("code,name\n" + "a,b\n" * 11)
    with pytest.raises(FormatError) as caught:
        list(read_csv(long, columns=COLUMNS, limits=ReadLimits(max_rows=10)))
    assert (caught.value.code, caught.value.line) == ("too_many_rows", 12)


def test_a_cell_longer_than_the_limit_is_an_error_naming_row_and_column() -> None:
    converter = RowConverter(COLUMNS, max_cell_chars=100)
    typed, errors = converter.convert(["S1", "x" * 101], line=7, file="f.csv")
    assert [(e.code, e.line, e.column) for e in errors] == [("cell_too_long", 7, "name")]
    assert len(errors[0].value) <= 60 and "101 characters; at most 100" in errors[0].message
    assert converter.convert(["S1", "x" * 100])[1] == []


def test_nul_characters_and_integers_beyond_64_bits_are_cell_errors() -> None:
    converter = RowConverter([Column("n", "数", None, "integer"), Column("s", "文", None, "string")])
    errors = converter.convert([str(2**63), "a\x00b"], line=3)[1]
    assert [(e.code, e.column) for e in errors] == [("invalid_value", "n"), ("invalid_character", "s")]
    assert "64-bit" in errors[0].message
    assert converter.convert([str(2**63 - 1), "ab"])[1] == []
    decimals = RowConverter([Column("d", "额", None, "decimal"), Column("x", "数", None, "number")])
    assert [e.code for e in decimals.convert(["1e999999999", "1e400"])[1]] == ["invalid_value", "invalid_value"]
