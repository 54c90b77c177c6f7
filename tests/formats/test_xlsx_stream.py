"""The streaming XLSX writer: the same workbook as the openpyxl exporter it replaced, sent as it is made."""

import io
import struct
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest

from opendata.formats import Column, export_xlsx, xlsx_stream

from . import openpyxl_reference
from .test_xlsx_export import COLUMNS

EAST_8 = timezone(timedelta(hours=8))
# Per column, values of every kind it may meet, edge values and wrong types included.
EDGE_VALUES = [
    ["朝阳区", "", " leading", "trailing ", "\u3000全角空格", "a\r\nb\tc", "x & <y> \"z\" 'w'", "=1+2",
     "=HYPERLINK(\"http://evil\",\"点我\")", "#N/A", "#DIV/0!", "#NOT-AN-ERROR", "bad\x01con\x1ftrol", "\x02",
     "长" * 40_000, "😀 emoji", "   ", 42, 1.5, date(2024, 1, 2), None],
    [0, -1, 999_999_999_999_999, -999_999_999_999_999, 10**15, 10**20, -(10**30), True, False, "12",
     1.5, Decimal("2.5"), None],
    [Decimal("1234.5678"), Decimal("-0"), Decimal("1E+2"), Decimal("0.1000000000000000055511151231257827"),
     Decimal("12345678901234567.89"), Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), 7, 0.25, None],
    [0.1, 0.1 + 0.2, -0.0, 3.0, 1e16, 1e300, 5e-324, -2.5e-10, float("nan"), float("inf"), float("-inf"),
     123456789012345678, "text", None],
    [True, False, 1, 0, "yes", None],
    [date(2024, 5, 1), date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1), date(1899, 12, 31),
     date(1, 1, 1), date(9999, 12, 31), datetime(2024, 5, 1, 8, 30, tzinfo=EAST_8), datetime(2024, 5, 1, 23, 59, 59),
     "2024-01-01", 20240101, None],
    [datetime(2024, 5, 1, 8, 30, 5, 123456), datetime(2024, 5, 1, 8, 30, tzinfo=EAST_8),
     datetime(1900, 1, 1, 12), datetime(1900, 3, 1, 0, 0, 1), datetime(9999, 12, 31, 23, 59, 59, 999999),
     date(2020, 1, 1), "not a time", None],
]
EDGE_ROWS = [
    tuple(values[i] if i < len(values) else None for values in EDGE_VALUES)
    for i in range(max(map(len, EDGE_VALUES)))
]


def read_back(data: bytes, read_only: bool) -> dict:
    """Everything a reader sees in a workbook: sheets, cells with types and formats."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=read_only)
    sheets = {}
    for sheet in book.worksheets:
        rows = [
            [(cell.value, cell.data_type, cell.number_format, cell.is_date, bool(cell.font and cell.font.b))
             for cell in row]
            for row in sheet.iter_rows()
        ]
        extra = {} if read_only else {
            "freeze_panes": sheet.freeze_panes,
            "widths": {key: dim.width for key, dim in sheet.column_dimensions.items()},
            "dimensions": sheet.dimensions,
        }
        sheets[sheet.title] = (rows, extra)
    book.close()
    return sheets


def both(rows, **options) -> tuple[bytes, bytes]:
    old = b"".join(openpyxl_reference.export_xlsx(COLUMNS, rows, **options))
    new = b"".join(export_xlsx(COLUMNS, rows, **options))
    return old, new


# 9999-12-31 is past Excel's last date: openpyxl warns for both workbooks alike.
@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")
@pytest.mark.parametrize("read_only", [False, True])
def test_every_value_reads_back_as_the_openpyxl_exporter_wrote_it(read_only):
    old, new = both(EDGE_ROWS, max_rows_per_sheet=9)
    old_book, new_book = read_back(old, read_only), read_back(new, read_only)
    assert list(new_book) == ["data", "data_2", "data_3"]
    assert new_book == old_book


def test_a_sheet_title_and_column_titles_read_back_the_same():
    columns = [Column("x", "=1+1", None, "string"), Column("y", "标题 & <尖括号>", "A\x01B", "integer")]
    rows = [("v", 1)] * 3
    title = "北京市/朝阳区:公共数据[开放]清单 & 'x'" * 2
    old = b"".join(openpyxl_reference.export_xlsx(columns, rows, sheet_title=title, max_rows_per_sheet=2))
    new = b"".join(export_xlsx(columns, rows, sheet_title=title, max_rows_per_sheet=2))
    for read_only in (False, True):
        assert read_back(new, read_only) == read_back(old, read_only)


def test_a_decimal_beyond_a_doubles_range_keeps_its_digits_as_text():
    # The openpyxl exporter wrote such a value as an empty number cell: it was lost.
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export_xlsx(COLUMNS[2:3], [(Decimal("1E+400"),)]))))["data"]
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("1E+400", "s")


def test_another_reader_sees_the_same_values():
    calamine = pytest.importorskip("python_calamine")
    rows = [("朝阳区", 42, Decimal("1234.5678"), 0.25, True, date(2024, 5, 1), datetime(2024, 5, 1, 8, 30, 5)),
            ("=1+2", 10**20, None, float("nan"), False, None, None)]
    workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(b"".join(export_xlsx(COLUMNS, rows))))
    assert workbook.sheet_names == ["data"]
    values = workbook.get_sheet_by_name("data").to_python()
    assert values[0][0] == "名称 / Name"
    assert values[1] == ["朝阳区", 42, 1234.5678, 0.25, True, date(2024, 5, 1), datetime(2024, 5, 1, 8, 30, 5)]
    assert values[2][:2] == ["=1+2", "100000000000000000000"]
    assert values[2][3:5] == ["nan", False]


def test_the_zip_is_streamed_sheet_first_with_data_descriptors_and_no_zip64():
    rows = [(f"行{i}", i, None, None, None, None, None) for i in range(10)]
    data = b"".join(export_xlsx(COLUMNS, rows, max_rows_per_sheet=6))
    signature, _version, flags = struct.unpack("<IHH", data[:8])
    assert signature == 0x04034B50
    assert data[30:30 + len("xl/worksheets/sheet1.xml")] == b"xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        members = archive.infolist()
        assert [m.filename for m in members[:2]] == ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", "docProps/core.xml", "docProps/app.xml"} <= {m.filename for m in members}
        for member in members:
            assert member.flag_bits & 0x08, member.filename  # sizes follow the data
            assert member.compress_type == zipfile.ZIP_DEFLATED
            assert member.extract_version < zipfile.ZIP64_VERSION  # Excel refuses needless Zip64
            assert b"<sharedStrings" not in archive.read(member)


def test_the_first_chunk_leaves_after_a_bounded_number_of_rows():
    consumed = [0]

    def source():
        for i in range(200_000):
            consumed[0] = i + 1
            yield (f"广州市第{i}号科技有限公司", i, Decimal(i) / 100, i * 0.5, i % 2 == 0,
                   date(2024, 1, 1), datetime(2024, 1, 1, 8, 30))

    rows = source()
    first = next(export_xlsx(COLUMNS, rows))
    taken = consumed[0]
    assert len(first) == 64 * 1024
    assert taken < 20_000
    assert next(rows)[1] == taken  # the rest is still unread


def test_chunks_are_at_most_chunk_size_and_only_the_last_is_shorter():
    rows = [(f"行{i}" * 20, i, None, None, None, None, None) for i in range(3000)]
    chunks = list(export_xlsx(COLUMNS, rows, chunk_size=4096))
    assert all(len(chunk) == 4096 for chunk in chunks[:-1])
    assert 0 < len(chunks[-1]) <= 4096


def test_a_sheet_that_would_outgrow_a_zip_member_continues_on_the_next(monkeypatch):
    monkeypatch.setattr(xlsx_stream, "MEMBER_LIMIT", 6000)
    rows = [(f"第{i}行", i, None, None, None, None, None) for i in range(300)]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(export_xlsx(COLUMNS, rows))))
    assert len(book.sheetnames) > 3
    counts = []
    for sheet in book.worksheets:
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert values[0][0] == "名称 / Name"
        counts.extend(row[1] for row in values[1:])
    assert counts == list(range(300))
    with zipfile.ZipFile(io.BytesIO(b"".join(export_xlsx(COLUMNS, rows)))) as archive:
        sizes = [m.file_size for m in archive.infolist() if m.filename.startswith("xl/worksheets/")]
    assert max(sizes) <= 6000


def test_the_compression_level_is_checked_and_used():
    with pytest.raises(ValueError):
        export_xlsx(COLUMNS, [], compress_level=10)
    rows = [(f"广州市第{i}号", i, None, None, None, None, None) for i in range(2000)]
    stored = b"".join(export_xlsx(COLUMNS, rows, compress_level=0))
    deflated = b"".join(export_xlsx(COLUMNS, rows, compress_level=6))
    assert len(deflated) * 3 < len(stored)
