from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from opendata.formats import Column, FormatError, RowConverter, converter_for


@pytest.mark.parametrize("column_type, raw, expected", [
    ("string", "北京", "北京"),
    ("string", " 保留空格 ", " 保留空格 "),
    ("string", 110101.0, "110101"),  # a code that Excel stored as a number
    ("string", 12, "12"),
    ("integer", " 42 ", 42),
    ("integer", "-7", -7),
    ("integer", "+7", 7),
    ("integer", 42, 42),
    ("integer", 42.0, 42),
    ("decimal", "3.14159265358979323846", Decimal("3.14159265358979323846")),
    ("decimal", "-.5", Decimal("-0.5")),
    ("decimal", "1e3", Decimal("1E+3")),
    ("decimal", 0.1, Decimal("0.1")),
    ("decimal", 5, Decimal(5)),
    ("number", "2.5", 2.5),
    ("number", "-1E-3", -0.001),
    ("number", 3, 3.0),
    ("boolean", "true", True),
    ("boolean", "FALSE", False),
    ("boolean", "1", True),
    ("boolean", "0", False),
    ("boolean", "是", True),
    ("boolean", "否", False),
    ("boolean", "Yes", True),
    ("boolean", "no", False),
    ("boolean", True, True),
    ("boolean", 0, False),
    ("date", "2024-05-01", date(2024, 5, 1)),
    ("date", "2024/5/1", date(2024, 5, 1)),
    ("date", "2024年5月1日", date(2024, 5, 1)),
    ("date", datetime(2024, 5, 1), date(2024, 5, 1)),
    ("date", date(2024, 5, 1), date(2024, 5, 1)),
    ("datetime", "2024-05-01T08:30:05", datetime(2024, 5, 1, 8, 30, 5)),
    ("datetime", "2024-05-01 08:30", datetime(2024, 5, 1, 8, 30)),
    ("datetime", "2024/05/01 08:30", datetime(2024, 5, 1, 8, 30)),
    ("datetime", "2024-05-01T08:30:00+08:00",
     datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))),
    ("datetime", "2024-05-01", datetime(2024, 5, 1)),
    ("datetime", datetime(2024, 5, 1, 8, 30), datetime(2024, 5, 1, 8, 30)),
    ("datetime", date(2024, 5, 1), datetime(2024, 5, 1)),
])
def test_good_values(column_type, raw, expected):
    value = converter_for(column_type)(raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("column_type", ["string", "integer", "decimal", "number", "boolean",
                                         "date", "datetime"])
@pytest.mark.parametrize("empty", ["", None])
def test_empty_is_none(column_type, empty):
    assert converter_for(column_type)(empty) is None


@pytest.mark.parametrize("column_type", ["integer", "decimal", "number", "boolean", "date",
                                         "datetime"])
def test_blank_text_is_none_for_typed_columns(column_type):
    assert converter_for(column_type)("   ") is None


@pytest.mark.parametrize("column_type, raw, reason", [
    ("integer", "abc", "'abc' is not an integer"),
    ("integer", "1,234", "'1,234' is not an integer"),
    ("integer", "1_000", "is not an integer"),
    ("integer", "１２３", "is not an integer"),
    ("integer", "1.5", "is not an integer"),
    ("integer", 1.5, "'1.5' is not an integer"),
    ("integer", True, "is not an integer"),
    ("decimal", "12元", "'12元' is not a decimal number"),
    ("decimal", "NaN", "is not a decimal number"),
    ("decimal", float("inf"), "is not a decimal number"),
    ("number", "1,5", "'1,5' is not a number"),
    ("number", "inf", "is not a number"),
    ("boolean", "maybe", "'maybe' is not a boolean"),
    ("boolean", 2, "is not a boolean"),
    ("date", "2024-13-01", "'2024-13-01' is not a valid date"),
    ("date", "2024-02-30", "is not a valid date"),
    ("date", "01/05/2024", "is not a date (expected YYYY-MM-DD or YYYY/MM/DD)"),
    ("date", datetime(2024, 5, 1, 8, 30), "has a time of day"),
    ("date", 45000, "is not a date"),
    ("datetime", "yesterday", "'yesterday' is not a date and time"),
    ("datetime", "2024/02/30 10:00", "is not a valid date and time"),
    ("datetime", 45000.5, "is not a date and time"),
])
def test_bad_values_have_a_readable_reason(column_type, raw, reason):
    with pytest.raises(ValueError) as caught:
        converter_for(column_type)(raw)
    assert reason in str(caught.value)


def test_long_values_are_shortened_in_reasons():
    with pytest.raises(ValueError) as caught:
        converter_for("integer")("x" * 500)
    assert len(str(caught.value)) < 100


def test_unknown_types_are_refused_early():
    with pytest.raises(ValueError):
        converter_for("money")
    with pytest.raises(ValueError, match="unknown type 'money'"):
        Column("price", "价格", None, "money")


def test_row_converter_collects_every_bad_cell():
    columns = [Column("n", "数量", None, "integer"), Column("d", "日期", None, "date"),
               Column("s", "名称", None, "string")]
    typed, errors = RowConverter(columns).convert(["x", "2024-99-01", "ok"],
                                                  line=7, file="上传.csv")
    assert typed == (None, None, "ok")
    assert [(e.code, e.file, e.line, e.column, e.value) for e in errors] == [
        ("invalid_value", "上传.csv", 7, "n", "x"),
        ("invalid_value", "上传.csv", 7, "d", "2024-99-01"),
    ]
    assert str(errors[0]) == "上传.csv, line 7, column 'n': 'x' is not an integer"
    assert errors[1].as_dict() == {
        "code": "invalid_value", "message": "'2024-99-01' is not a valid date",
        "file": "上传.csv", "line": 7, "column": "d", "value": "2024-99-01",
    }


def test_format_error_without_location_is_just_the_message():
    error = FormatError("empty_file", "the file has no header row")
    assert str(error) == "the file has no header row"
    assert error.as_dict()["value"] is None
    error.value = date(2024, 1, 1)
    assert error.as_dict()["value"] == "2024-01-01"
