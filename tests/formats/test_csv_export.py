import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest

from opendata.formats import Column, export_csv

COLUMNS = [
    Column("name", "名称", "Name", "string"),
    Column("count", "数量", None, "integer"),
    Column("amount", "金额", "Amount", "decimal"),
    Column("ratio", "比例", "Ratio", "number"),
    Column("open", "是否开放", "Open", "boolean"),
    Column("day", "日期", "Date", "date"),
    Column("updated", "更新时间", "Updated", "datetime"),
]


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_empty_result_is_just_the_header():
    data = b"".join(export_csv(COLUMNS, []))
    assert data == b"name,count,amount,ratio,open,day,updated\r\n"


def test_header_with_bilingual_titles():
    data = b"".join(export_csv(COLUMNS, [], header="titles"))
    assert parse(data)[0][:2] == ["名称 / Name", "数量"]


def test_values_are_written_in_their_plain_text_form():
    row = (
        "朝阳区", -12, Decimal("1E+3"), 0.25, True,
        date(2024, 5, 1), datetime(2024, 5, 1, 8, 30, 5),
    )
    assert parse(b"".join(export_csv(COLUMNS, [row])))[1] == [
        "朝阳区", "-12", "1000", "0.25", "true", "2024-05-01", "2024-05-01T08:30:05",
    ]


def test_none_is_empty_and_decimal_keeps_every_digit():
    row = (None, None, Decimal("12345678901234567890.000000001"), None, False, None, None)
    assert parse(b"".join(export_csv(COLUMNS, [row])))[1] == [
        "", "", "12345678901234567890.000000001", "", "false", "", "",
    ]


def test_unicode_newlines_commas_quotes_and_tabs_survive():
    tricky = '北京,"海淀"\n第二行\t制表符'
    data = b"".join(export_csv(COLUMNS[:1], [(tricky,)]))
    assert parse(data) == [["name"], [tricky]]
    assert '"北京,""海淀""\n第二行\t制表符"'.encode() in data


def test_bom_option_prepends_the_utf8_bom_once():
    rows = [("中文",)] * 50
    chunks = list(export_csv(COLUMNS[:1], rows, bom=True, chunk_size=64))
    assert len(chunks) > 2
    assert chunks[0].startswith(b"\xef\xbb\xbfname\r\n")
    assert all(not chunk.startswith(b"\xef\xbb\xbf") for chunk in chunks[1:])
    assert not b"".join(export_csv(COLUMNS[:1], rows)).startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("dangerous", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx",
                                       "=HYPERLINK(\"http://evil\")"])
def test_text_that_excel_would_run_gets_an_apostrophe(dangerous):
    rows = parse(b"".join(export_csv(COLUMNS[:1], [(dangerous,)])))
    assert rows[1] == ["'" + dangerous]


def test_numbers_are_not_mistaken_for_formulas():
    row = ("ok", -5, Decimal("-1.5"), -0.5, None, None, None)
    assert parse(b"".join(export_csv(COLUMNS, [row])))[1][:4] == ["ok", "-5", "-1.5", "-0.5"]


def test_text_in_a_numeric_column_is_still_defended():
    # A mistyped value must not slip past the defence because of its column.
    assert parse(b"".join(export_csv(COLUMNS[1:2], [("=cmd",)])))[1] == ["'=cmd"]


def test_titles_are_defended_too():
    column = Column("x", "=危险", None, "string")
    assert parse(b"".join(export_csv([column], [], header="titles")))[0] == ["'=危险"]


def test_rows_are_batched_into_chunks_of_about_the_chunk_size():
    rows = [("数据", i, None, None, None, None, None) for i in range(5000)]
    chunks = list(export_csv(COLUMNS, rows, chunk_size=4096))
    assert 10 < len(chunks) < 5000
    assert all(len(chunk) < 4 * 4096 for chunk in chunks)
    assert len(parse(b"".join(chunks))) == 5001


def test_bad_options_fail_at_call_time():
    with pytest.raises(ValueError):
        export_csv(COLUMNS, [], header="labels")
    with pytest.raises(TypeError):
        export_csv(COLUMNS, [], sheet_title="x")


class _Text(str):
    """A str subclass (as markup libraries return): never trusted as plain text."""


EDGE_VALUES = [
    None, "", "plain", "中文，带逗号", "=1+1", "+86", "-5", "@sum", "\tx", "\rx", "'quoted", _Text("=cmd"), _Text("ok"),
    0, 1, -1, 10**30, True, False, 0.1, -0.0, 1e-7, 1e300, float("inf"), float("nan"),
    Decimal("1E+3"), Decimal("-0.10"), Decimal("12345678901234567890.123456789"),
    date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 1, 2, 3, 4, 5, 6), "2024-01-02", b"bytes", [1, 2],
]


@pytest.mark.parametrize("column_type", ["string", "integer", "decimal", "number", "boolean", "date", "datetime"])
def test_each_cell_is_written_as_its_types_formatter_writes_it(column_type):
    """The exporter formats a whole row with one generated function; every value of every
    type, matching or not, must come out as the per-type formatter (the rule) writes it."""
    from opendata.formats.csv_export import _FORMATTERS

    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(["a", "b"])
    for value in EDGE_VALUES:
        writer.writerow([_FORMATTERS[column_type](value), _FORMATTERS["string"]("next")])
    columns = [Column("a", "甲", None, column_type), Column("b", "乙", None, "string")]
    written = b"".join(export_csv(columns, [(value, "next") for value in EDGE_VALUES]))
    assert written.decode("utf-8") == expected.getvalue()
