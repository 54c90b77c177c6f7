import io
import tempfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest

from opendata.formats import Column, export_xlsx

COLUMNS = [
    Column("name", "名称", "Name", "string"),
    Column("count", "数量", None, "integer"),
    Column("amount", "金额", "Amount", "decimal"),
    Column("ratio", "比例", "Ratio", "number"),
    Column("open", "是否开放", "Open", "boolean"),
    Column("day", "日期", "Date", "date"),
    Column("updated", "更新时间", "Updated", "datetime"),
]
TITLES = ["名称 / Name", "数量", "金额 / Amount", "比例 / Ratio", "是否开放 / Open",
          "日期 / Date", "更新时间 / Updated"]


def workbook(chunks) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(chunks)))


def values(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_empty_result_has_one_sheet_with_the_bilingual_header():
    book = workbook(export_xlsx(COLUMNS, []))
    assert book.sheetnames == ["data"]
    assert values(book["data"]) == [TITLES]
    assert book["data"]["A1"].font.bold
    assert book["data"].freeze_panes == "A2"


def test_cells_are_typed():
    row = ("朝阳区\n第二行, \"引号\"\t制表", 42, Decimal("1234.5678"), 0.25, True,
           date(2024, 5, 1), datetime(2024, 5, 1, 8, 30, 5))
    sheet = workbook(export_xlsx(COLUMNS, [row]))["data"]
    cells = list(sheet.iter_rows(min_row=2))[0]
    assert [cell.value for cell in cells] == [
        "朝阳区\n第二行, \"引号\"\t制表", 42, 1234.5678, 0.25, True,
        datetime(2024, 5, 1), datetime(2024, 5, 1, 8, 30, 5),
    ]
    assert [cell.data_type for cell in cells] == ["s", "n", "n", "n", "b", "d", "d"]
    assert cells[5].is_date and cells[5].number_format == "yyyy-mm-dd"
    assert cells[6].is_date and cells[6].number_format == "yyyy-mm-dd hh:mm:ss"


@pytest.mark.parametrize("text", ["=1+2", "=HYPERLINK(\"http://evil\",\"点我\")", "#N/A", "#REF!"])
def test_text_that_looks_like_a_formula_stays_text(text):
    sheet = workbook(export_xlsx(COLUMNS[:1], [(text,)]))["data"]
    assert sheet["A2"].value == text
    assert sheet["A2"].data_type == "s"


def test_a_formula_like_title_stays_text():
    sheet = workbook(export_xlsx([Column("x", "=1+1", None, "string")], []))["data"]
    assert sheet["A1"].data_type == "s"


def test_values_excel_cannot_hold_are_kept_as_text():
    row = ("bad\x01control", 123456789012345678, Decimal("NaN"), float("inf"), None,
           None, datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8))))
    sheet = workbook(export_xlsx(COLUMNS, [row]))["data"]
    assert [cell.value for cell in sheet[2]] == [
        "badcontrol", "123456789012345678", "NaN", "inf", None, None,
        datetime(2024, 5, 1, 8, 30),  # wall-clock time kept, zone dropped
    ]


def test_rows_continue_on_further_sheets_each_with_the_header():
    rows = [(f"第{i}行", i, None, None, None, None, None) for i in range(5)]
    book = workbook(export_xlsx(COLUMNS, rows, max_rows_per_sheet=3))
    assert book.sheetnames == ["data", "data_2", "data_3"]
    counts = []
    for sheet in book.worksheets:
        sheet_values = values(sheet)
        assert sheet_values[0] == TITLES
        counts.extend(row[1] for row in sheet_values[1:])
    assert counts == [0, 1, 2, 3, 4]
    assert [sheet.max_row for sheet in book.worksheets] == [3, 3, 2]


def test_exactly_full_sheet_does_not_open_an_empty_one():
    rows = [("x", i, None, None, None, None, None) for i in range(2)]
    assert workbook(export_xlsx(COLUMNS, rows, max_rows_per_sheet=3)).sheetnames == ["data"]


def test_sheet_titles_are_cleaned_and_at_most_31_characters():
    long_title = "北京市/朝阳区:公共数据[开放]清单" * 3
    rows = [("x", 1, None, None, None, None, None)] * 3
    names = workbook(export_xlsx(COLUMNS, rows, sheet_title=long_title, max_rows_per_sheet=2)).sheetnames
    assert len(names) == 3
    assert all(len(name) <= 31 and not set("/:[]") & set(name) for name in names)
    assert names[1].endswith("_2") and names[2].endswith("_3")


def test_output_comes_in_chunks():
    rows = [(f"行{i}" * 20, i, None, None, None, None, None) for i in range(3000)]
    chunks = list(export_xlsx(COLUMNS, rows, chunk_size=8192))
    assert len(chunks) > 3
    assert all(len(chunk) <= 8192 for chunk in chunks)
    assert workbook(chunks)["data"].max_row == 3001


def test_temporary_files_are_removed_also_when_the_rows_fail(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def failing_rows():
        yield ("ok", 1, None, None, None, None, None)
        yield ("ok", 2, None, None, None, None, None)
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        b"".join(export_xlsx(COLUMNS, failing_rows(), max_rows_per_sheet=2))
    assert list(tmp_path.iterdir()) == []

    b"".join(export_xlsx(COLUMNS, [("ok", 1, None, None, None, None, None)] * 3))
    assert list(tmp_path.iterdir()) == []


def test_an_abandoned_download_leaves_no_files(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rows = [(f"行{i}" * 50, i, None, None, None, None, None) for i in range(5000)]
    download = export_xlsx(COLUMNS, rows, chunk_size=1024)
    next(download)
    download.close()
    assert list(tmp_path.iterdir()) == []


def test_bad_options_fail_at_call_time():
    with pytest.raises(ValueError):
        export_xlsx(COLUMNS, [], max_rows_per_sheet=1)
    with pytest.raises(ValueError):
        export_xlsx(COLUMNS, [], max_rows_per_sheet=2_000_000)
