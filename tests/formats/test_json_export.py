import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from opendata.formats import Column, export_json, export_ndjson, json_export

COLUMNS = [
    Column("name", "名称", "Name", "string"),
    Column("count", "数量", None, "integer"),
    Column("amount", "金额", "Amount", "decimal"),
    Column("ratio", "比例", "Ratio", "number"),
    Column("open", "是否开放", "Open", "boolean"),
    Column("day", "日期", "Date", "date"),
    Column("updated", "更新时间", "Updated", "datetime"),
]
NO_DECIMALS = [column for column in COLUMNS if column.type != "decimal"]

ROWS = [
    ('北京,"海淀"\n\t第二行', 7, Decimal("12345678901234567890.123456789"), 0.1, True,
     date(2024, 5, 1), datetime(2024, 5, 1, 8, 30, 5)),
    (None, None, None, None, None, None, None),
    ("=1+2", -1, Decimal("-0.000001"), float("nan"), False, date(2000, 2, 29),
     datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))),
]


@pytest.fixture(params=["stdlib", "orjson"])
def encoder(request, monkeypatch):
    """Both row encoders must give the same output; the stdlib one must work alone."""
    if request.param == "stdlib":
        monkeypatch.setattr(json_export, "orjson", None)
    elif json_export.orjson is None:
        pytest.skip("orjson is not installed")
    return request.param


def test_empty_json_is_an_empty_array(encoder):
    assert b"".join(export_json(COLUMNS, [])) == b"[]"


def test_empty_ndjson_is_an_empty_body(encoder):
    assert b"".join(export_ndjson(COLUMNS, [])) == b""


def test_json_is_an_array_of_objects_keyed_by_field_name(encoder):
    data = b"".join(export_json(COLUMNS, ROWS))
    parsed = json.loads(data, parse_float=Decimal)
    assert parsed[0] == {
        "name": '北京,"海淀"\n\t第二行', "count": 7,
        "amount": Decimal("12345678901234567890.123456789"), "ratio": Decimal("0.1"),
        "open": True, "day": "2024-05-01", "updated": "2024-05-01T08:30:05",
    }
    assert parsed[1] == dict.fromkeys([c.name for c in COLUMNS])
    assert parsed[2]["ratio"] is None  # NaN is not JSON
    assert parsed[2]["updated"] == "2024-05-01T08:30:00+08:00"


def test_decimal_is_a_json_number_without_precision_loss(encoder):
    data = b"".join(export_json(COLUMNS, ROWS))
    assert b'"amount":12345678901234567890.123456789' in data
    assert b'"amount":-0.000001' in data


def test_chinese_is_written_as_utf8_not_escapes(encoder):
    data = b"".join(export_json(COLUMNS, ROWS))
    assert "北京".encode() in data and b"\\u" not in data


def test_ndjson_lines_each_parse(encoder):
    data = b"".join(export_ndjson(COLUMNS, ROWS))
    assert data.endswith(b"\n")
    lines = data.decode().split("\n")[:-1]
    assert len(lines) == len(ROWS)
    assert [json.loads(line)["count"] for line in lines] == [7, None, -1]


def test_a_table_without_decimals(encoder):
    rows = [tuple(v for c, v in zip(COLUMNS, row) if c.type != "decimal") for row in ROWS]
    expected = json.loads(b"".join(export_json(COLUMNS, ROWS)))
    for item in expected:
        del item["amount"]
    assert json.loads(b"".join(export_json(NO_DECIMALS, rows))) == expected


def test_both_encoders_agree_byte_for_byte(monkeypatch):
    if json_export.orjson is None:
        pytest.skip("orjson is not installed")
    rows = [tuple(v for c, v in zip(COLUMNS, row) if c.type != "decimal") for row in ROWS]
    rows.append(("x", 2**70, 1e300, True, date.max, datetime(1, 1, 1, 0, 0, 0, 1)))
    fast = b"".join(export_ndjson(NO_DECIMALS, rows))
    monkeypatch.setattr(json_export, "orjson", None)
    assert b"".join(export_ndjson(NO_DECIMALS, rows)) == fast


def test_chunks_are_batches_of_rows(encoder):
    rows = [ROWS[0]] * 2000
    chunks = list(export_json(COLUMNS, rows, chunk_size=4096))
    assert 10 < len(chunks) < 2000
    assert len(json.loads(b"".join(chunks))) == 2000
    chunks = list(export_ndjson(COLUMNS, rows, chunk_size=4096))
    assert 10 < len(chunks) < 2000
    # The newline inside each value is escaped, so raw newlines only end records.
    assert b"".join(chunks).count(b"\n") == 2000


def test_a_mistyped_value_is_still_valid_json(encoder):
    row = ("ok", "not a number", 3, Decimal("1.5"), "yes", "2024-01-01", date(2024, 1, 1))
    assert json.loads(b"".join(export_json(COLUMNS, [row])))[0] == {
        "name": "ok", "count": "not a number", "amount": 3, "ratio": 1.5, "open": "yes",
        "day": "2024-01-01", "updated": "2024-01-01",
    }
