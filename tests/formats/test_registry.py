"""Behaviour shared by every export format: registry, empty results, laziness, memory."""

import csv
import io
import json
import tracemalloc
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from opendata.formats import (
    Column,
    FormatError,
    UnknownFormatError,
    available_formats,
    get_exporter,
)

COLUMNS = [
    Column("id", "编号", "ID", "integer"),
    Column("name", "名称", "Name", "string"),
    Column("district", "区县", None, "string"),
    Column("amount", "金额", "Amount", "decimal"),
    Column("ratio", "比例", "Ratio", "number"),
    Column("open", "是否开放", "Open", "boolean"),
    Column("day", "日期", "Date", "date"),
    Column("updated", "更新时间", "Updated", "datetime"),
    Column("note", "备注", "Note", "string"),
    Column("count", "数量", "Count", "integer"),
]
FORMATS = ["csv", "xlsx", "json", "ndjson"]


def make_rows(count: int, consumed: list[int] | None = None):
    """Rows made one at a time, counting how many were taken."""
    day, moment = date(2024, 1, 1), datetime(2024, 1, 1, 8, 30)
    for i in range(count):
        if consumed is not None:
            consumed[0] = i + 1
        yield (i, f"北京市单位{i}", "海淀区", Decimal(i) / 100, i * 0.5, i % 2 == 0,
               day, moment, "备注, \"引号\"" if i % 10 == 0 else None, -i)


def test_the_four_formats_are_registered():
    assert available_formats() == sorted(FORMATS)
    assert get_exporter("csv").media_type == "text/csv; charset=utf-8"
    assert get_exporter("xlsx").media_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert get_exporter("json").media_type == "application/json"
    assert get_exporter("ndjson").media_type == "application/x-ndjson"
    assert [get_exporter(name).extension for name in FORMATS] == FORMATS
    assert get_exporter("CSV").filename("公交线路") == "公交线路.csv"


@pytest.mark.parametrize("name", ["xls", "", "parquet"])
def test_an_unknown_format_has_a_clear_error(name):
    with pytest.raises(UnknownFormatError) as caught:
        get_exporter(name)
    assert isinstance(caught.value, FormatError)
    assert caught.value.code == "unknown_format"
    assert "csv, json, ndjson, xlsx" in caught.value.message


def parse(name: str, data: bytes) -> list:
    if name == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    if name == "json":
        return json.loads(data)
    if name == "ndjson":
        return [json.loads(line) for line in data.decode().splitlines()]
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [[cell.value for cell in row] for row in book.active.iter_rows()]


@pytest.mark.parametrize("name", FORMATS)
def test_empty_results_are_valid_files(name):
    data = b"".join(get_exporter(name)(COLUMNS, []))
    expected_rows = {"csv": 1, "xlsx": 1, "json": 0, "ndjson": 0}[name]  # header only
    assert len(parse(name, data)) == expected_rows


@pytest.mark.parametrize("name", FORMATS)
def test_every_row_arrives(name):
    data = b"".join(get_exporter(name)(COLUMNS, make_rows(1000)))
    header_rows = 1 if name in ("csv", "xlsx") else 0
    assert len(parse(name, data)) == 1000 + header_rows


@pytest.mark.parametrize("name", FORMATS)
def test_nothing_is_read_before_the_first_chunk_is_asked_for(name):
    consumed = [0]
    chunks = get_exporter(name)(COLUMNS, make_rows(10, consumed))
    assert consumed == [0]
    next(chunks)
    chunks.close()


@pytest.mark.parametrize("name", FORMATS)
def test_the_first_chunk_comes_long_before_the_rows_end(name):
    consumed = [0]
    ten_million = make_rows(10**7, consumed)
    first = next(get_exporter(name)(COLUMNS, ten_million))
    taken = consumed[0]
    assert 100 < taken < 10_000
    assert 32 * 1024 <= len(first) < 1024 * 1024
    assert next(ten_million)[0] == taken  # the generator was not exhausted


def peak_memory(export, rows) -> int:
    tracemalloc.start()
    try:
        for _ in export(COLUMNS, rows):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["csv", "ndjson", "json"])
def test_memory_stays_flat_for_100k_rows(name):
    # 100,000 rows are 10-20 MB of output; holding them would show.
    assert peak_memory(get_exporter(name), make_rows(100_000)) < 3 * 1024 * 1024


def test_xlsx_memory_does_not_grow_with_rows():
    # The sheet XML is deflated into the response as it is made: 100,000 rows (~55 MB
    # of XML, 5.7 MB deflated) need no more memory than 10,000. (More rows would only
    # make tracemalloc slower: it traces every allocation.)
    exporter = get_exporter("xlsx")
    small = peak_memory(exporter, make_rows(10_000))
    large = peak_memory(exporter, make_rows(100_000))
    assert large < small + 256 * 1024
    assert large < 2 * 1024 * 1024
