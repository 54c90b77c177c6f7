import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from opendata.formats import Column, FormatError, RowConverter, export_xlsx, read_xlsx

COLUMNS = [
    Column("name", "名称", "Name", "string"),
    Column("count", "数量", None, "integer"),
    Column("amount", "金额", "Amount", "decimal"),
    Column("ratio", "比例", None, "number"),
    Column("ok", "有效", None, "boolean"),
    Column("day", "日期", "Date", "date"),
    Column("at", "时间", "Time", "datetime"),
]


def save(tmp_path, rows_by_sheet: dict, name="upload.xlsx"):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in rows_by_sheet.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def test_what_we_export_we_can_import(tmp_path):
    rows = [
        ("=1+2 多行\n文本", -3, Decimal("1234.5"), 0.25, True, date(2024, 2, 29),
         datetime(2024, 2, 29, 23, 59, 1)),
        (None, None, None, None, False, None, None),
    ]
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"".join(export_xlsx(COLUMNS, rows)))
    table = read_xlsx(path, columns=COLUMNS)
    assert table.header[0] == "名称 / Name"
    converter = RowConverter(COLUMNS)
    records = list(table)
    assert [record.line for record in records] == [2, 3]
    assert [converter.convert(record.values)[0] for record in records] == rows


def test_values_are_python_values_and_dates_are_datetimes(tmp_path):
    path = save(tmp_path, {"表1": [["名称", "日期", "数量"], ["北京", date(2024, 5, 1), 3]]})
    table = read_xlsx(path)
    assert table.sheet_title == "表1"
    assert [record.values for record in table] == [["北京", datetime(2024, 5, 1), 3]]


def test_sheets_are_chosen_by_name_or_position(tmp_path):
    path = save(tmp_path, {"说明": [["这是说明"]], "数据": [["a"], [1]]})
    assert read_xlsx(path).header == ["这是说明"]
    assert read_xlsx(path, sheet="数据").header == ["a"]
    assert list(read_xlsx(path, sheet=1))[0].values == [1]
    with pytest.raises(FormatError) as caught:
        read_xlsx(path, sheet="data")
    assert caught.value.code == "unknown_sheet" and "'说明', '数据'" in caught.value.message


def test_leading_blank_rows_short_rows_and_blank_rows(tmp_path):
    path = save(tmp_path, {"s": [[], [], ["a", "b", "c"], ["x"], [None, None], [1, 2, 3, None]]})
    table = read_xlsx(path)
    assert (table.header_line, table.header) == (3, ["a", "b", "c"])
    assert [(record.line, record.values) for record in table] == [
        (4, ["x", None, None]), (6, [1, 2, 3]),
    ]


def test_a_value_beyond_the_header_is_a_ragged_row(tmp_path):
    path = save(tmp_path, {"s": [["a", "b"], [1, 2], [3, 4, 5]]})
    with pytest.raises(FormatError) as caught:
        list(read_xlsx(path))
    assert (caught.value.code, caught.value.line) == ("ragged_row", 3)


def test_a_file_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"name,count\n1,2\n")
    with pytest.raises(FormatError) as caught:
        read_xlsx(path)
    assert caught.value.code == "invalid_xlsx" and caught.value.file == str(path)


def test_a_temporary_upload_name_and_a_file_object_work(tmp_path):
    path = save(tmp_path, {"s": [["a"], ["b"]]}, name="upload.tmp")
    assert [record.values for record in read_xlsx(path)] == [["b"]]
    with open(path, "rb") as stream:
        assert [record.values for record in read_xlsx(stream)] == [["b"]]
        assert not stream.closed


def test_columns_are_matched_and_missing_ones_reported(tmp_path):
    path = save(tmp_path, {"s": [["Name", "数量"], ["x", 1]]})
    with pytest.raises(FormatError) as caught:
        read_xlsx(path, columns=COLUMNS)
    assert caught.value.code == "missing_column"
    assert "amount, ratio, ok, day, at" in caught.value.message
    table = read_xlsx(path, columns=COLUMNS[1::-1])
    assert [record.values for record in table] == [[1, "x"]]


def test_the_workbook_is_closed_after_iteration(tmp_path):
    path = save(tmp_path, {"s": [["a"], [1]]})
    table = read_xlsx(path)
    list(table)
    assert table._workbook is None and table._owned is None


def test_an_empty_sheet(tmp_path):
    path = save(tmp_path, {"s": []})
    with pytest.raises(FormatError) as caught:
        read_xlsx(path)
    assert caught.value.code == "empty_file"


def test_our_multi_sheet_export_reads_sheet_by_sheet():
    rows = [(f"r{i}", i, None, None, None, None, None) for i in range(5)]
    data = io.BytesIO(b"".join(export_xlsx(COLUMNS, rows, max_rows_per_sheet=3)))
    counts = []
    for sheet in ("data", "data_2", "data_3"):
        data.seek(0)
        counts += [record.values[1] for record in read_xlsx(data, sheet=sheet, columns=COLUMNS)]
    assert counts == [0, 1, 2, 3, 4]


def test_a_damaged_workbook_is_reported_not_crashed_on():
    intact = b"".join(export_xlsx(COLUMNS[:2], [(f"r{i}", i) for i in range(1000)]))
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(intact)) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                content = content[: len(content) // 2]  # cut off mid-sheet
            target.writestr(item, content)
    damaged.seek(0)
    with pytest.raises(FormatError) as caught:
        list(read_xlsx(damaged))
    assert caught.value.code == "invalid_xlsx"
