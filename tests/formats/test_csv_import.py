import io
import os
from datetime import date, datetime
from decimal import Decimal

import pytest

from opendata.formats import Column, FormatError, RowConverter, export_csv, read_csv
from opendata.formats.csv_import import SAMPLE_SIZE, detect_encoding

COLUMNS = [
    Column("name", "名称", "Name", "string"),
    Column("count", "数量", None, "integer"),
    Column("day", "日期", "Date", "date"),
]


def write(tmp_path, data: bytes, name="upload.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(source, columns=None):
    table = read_csv(source, columns)
    return table, list(table)


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("gbk", "gb18030"),
    ("gb2312", "gb18030"),
    ("gb18030", "gb18030"),
])
def test_detects_the_encodings_chinese_publishers_use(tmp_path, encoding, expected):
    text = "名称,地址\r\n北京市公安局,东城区前门东大街9号\r\n海淀区图书馆,\"丹棱街, 16号\"\r\n"
    table, rows = read_all(write(tmp_path, text.encode(encoding)))
    assert table.encoding == expected
    assert table.header == ["名称", "地址"]  # no BOM left on the first title
    assert [row.values for row in rows] == [
        ["北京市公安局", "东城区前门东大街9号"], ["海淀区图书馆", "丹棱街, 16号"],
    ]
    assert [row.line for row in rows] == [2, 3]


@pytest.mark.parametrize("garbage, hint", [
    (bytes(range(256)) * 64, "NUL"),
    (bytes(range(0x80, 0x100)) * 64, "neither UTF-8 nor GB18030"),
    (b"PK\x03\x04" + b"\x00" * 100, "ZIP"),
    ("名称,地址".encode("utf-16"), "UTF-16"),
    (b"a,b\r\n" + bytes(range(1, 9)) * 100, "control characters"),
])
def test_a_binary_file_has_a_clear_error(tmp_path, garbage, hint):
    path = write(tmp_path, garbage, "garbage.csv")
    with pytest.raises(FormatError) as caught:
        read_csv(path)
    assert caught.value.code == "unknown_encoding"
    assert hint in caught.value.message
    assert caught.value.file == str(path)
    assert "UTF-8" in caught.value.message  # says how to fix it


def test_random_bytes_are_not_text():
    with pytest.raises(FormatError) as caught:
        detect_encoding(os.urandom(4096), complete=True)
    assert caught.value.code == "unknown_encoding"


def test_a_sample_cut_inside_a_character_is_not_an_error():
    text = "名" * 10
    assert detect_encoding(text.encode("utf-8")[:-1], complete=False) == "utf-8"
    assert detect_encoding(text.encode("gbk")[:-1], complete=False) == "gb18030"


def test_a_bad_byte_after_the_sample_names_its_line(tmp_path):
    lines = ["id,name"] + [f"{i},row number {i}" for i in range(1, 5000)]
    data = "\r\n".join(lines).encode("ascii") + b"\r\n"
    assert len(data) > SAMPLE_SIZE
    bad_line = 4321  # well past the first 64 KiB
    broken = data.split(b"\r\n")
    broken[bad_line - 1] += "中文".encode("gbk")
    path = write(tmp_path, b"\r\n".join(broken))
    table = read_csv(path)
    assert table.encoding == "utf-8"
    with pytest.raises(FormatError) as caught:
        list(table)
    error = caught.value
    assert error.code == "invalid_encoding"
    assert error.line == bad_line
    assert f"upload.csv, line {bad_line}" in str(error)


def test_a_bad_byte_inside_the_sample_names_its_line():
    data = b"a,b\n1,2\n3,\xff\n"
    with pytest.raises(FormatError) as caught:
        read_csv(io.BytesIO(data))
    assert (caught.value.code, caught.value.line) == ("unknown_encoding", 3)


def test_ragged_rows_are_reported_with_their_line(tmp_path):
    data = 'a,b,c\n1,2,3\n"multi\nline",5,6\n7,8\n'.encode()
    table = read_csv(write(tmp_path, data))
    rows = []
    with pytest.raises(FormatError) as caught:
        for row in table:
            rows.append(row)
    assert [row.line for row in rows] == [2, 3]
    assert rows[1].values == ["multi\nline", "5", "6"]
    assert caught.value.code == "ragged_row"
    assert caught.value.line == 5
    assert "2 cells" in caught.value.message and "3" in caught.value.message


def test_quoting_commas_newlines_tabs_and_blank_lines():
    data = 'a,b\r\n"x, ""y""","1\r\n2\t3"\r\n\r\n,\r\nlast,z'.encode()
    table, rows = read_all(io.BytesIO(data))
    assert [(row.line, row.values) for row in rows] == [
        (2, ['x, "y"', "1\r\n2\t3"]), (6, ["last", "z"]),  # blank records are skipped
    ]


def test_broken_quoting_is_an_error_with_a_line():
    data = b'a,b\n1,2\n"x"y,3\n'
    with pytest.raises(FormatError) as caught:
        list(read_csv(io.BytesIO(data)))
    assert (caught.value.code, caught.value.line) == ("malformed_csv", 3)


def test_an_empty_file_has_no_header():
    with pytest.raises(FormatError) as caught:
        read_csv(io.BytesIO(b""))
    assert caught.value.code == "empty_file"


def test_columns_are_matched_by_name_or_title_and_reordered():
    data = "日期 ,NAME,数量\n2024/1/2,朝阳,3\n".encode("utf-8-sig")
    table, rows = read_all(io.BytesIO(data), COLUMNS)
    assert rows[0].values == ["朝阳", "3", "2024/1/2"]
    typed, errors = RowConverter(COLUMNS).convert(rows[0].values, line=rows[0].line)
    assert typed == ("朝阳", 3, date(2024, 1, 2)) and errors == []


def test_header_problems_are_listed_together():
    data = "名称,名称,颜色\n".encode()
    with pytest.raises(FormatError) as caught:
        read_csv(io.BytesIO(data), COLUMNS)
    error = caught.value
    assert error.code == "duplicate_column" and error.line == 1
    assert "missing columns: count, day" in error.message
    assert "'颜色'" in error.message


def test_extra_columns_can_be_allowed():
    data = "name,count,day,colour,\nx,1,2024-01-01,red,\n".encode()
    table = read_csv(io.BytesIO(data), COLUMNS, allow_extra_columns=True)
    assert [row.values for row in table] == [["x", "1", "2024-01-01"]]


def test_an_unseekable_stream_works_and_stays_open():
    class Unseekable(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self._data.readinto(memoryview(buffer)[:7])  # dribbles in

    stream = Unseekable(("名称\n" + "北京\n" * 20000).encode("gbk"))
    table, rows = read_all(stream)
    assert table.encoding == "gb18030" and len(rows) == 20000
    assert not stream.closed


def test_a_text_mode_file_is_refused(tmp_path):
    path = write(tmp_path, b"a\n1\n")
    with open(path, encoding="utf-8") as text_file, pytest.raises(TypeError):
        read_csv(text_file)


def test_what_we_export_we_can_import(tmp_path):
    columns = COLUMNS + [
        Column("amount", "金额", None, "decimal"),
        Column("at", "时间", None, "datetime"),
        Column("ok", "有效", None, "boolean"),
    ]
    rows = [
        ("多行\n文本, \"引号\"", -3, date(2024, 2, 29), Decimal("0.10"),
         datetime(2024, 2, 29, 23, 59, 1), True),
        (None, None, None, None, None, False),
    ]
    path = tmp_path / "export.csv"
    path.write_bytes(b"".join(export_csv(columns, rows, bom=True)))
    with read_csv(path, columns) as table:
        converter = RowConverter(columns)
        imported = [converter.convert(row.values)[0] for row in table]
    assert table.encoding == "utf-8-sig"
    assert imported == rows
