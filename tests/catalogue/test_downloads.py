"""Downloads: every format streams the filtered, masked view with the right headers."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook

from opendata import create_app
from opendata.settings import Settings

PEOPLE = "/api/v1/datasets/people/resources/list/download"


def download(client: TestClient, url: str = PEOPLE, **params):
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response


def test_csv_is_utf8_with_optional_bom_and_survives_awkward_text(data_client: TestClient) -> None:
    plain = download(data_client, format="csv", sort="age").content
    assert not plain.startswith(b"\xef\xbb\xbf")
    with_bom = download(data_client, format="csv", sort="age", bom="1").content
    assert with_bom.startswith(b"\xef\xbb\xbf") and with_bom[3:] == plain
    rows = list(csv.DictReader(io.StringIO(plain.decode("utf-8"))))
    assert len(rows) == 4
    li = next(r for r in rows if r["age"] == "39")
    assert li["note"] == '含逗号, 和"引号"\n以及换行'
    wang = next(r for r in rows if r["age"] == "47")
    assert wang["note"].startswith("'=HYPERLINK")  # not executed by Excel
    assert "phone" not in rows[0] and rows[0]["name"].endswith("*")


def test_content_headers_name_the_file_in_chinese(data_client: TestClient) -> None:
    response = download(data_client, format="csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="people_list.csv"; filename*=UTF-8\'\'')
    assert unquote(disposition.split("''", 1)[1]) == "测试人员名单-名单.csv"
    assert download(data_client, format="xlsx").headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert download(data_client, format="ndjson").headers["content-type"].startswith("application/x-ndjson")
    assert download(data_client, format="json").headers["content-type"].startswith("application/json")


def test_filters_apply_to_downloads(data_client: TestClient) -> None:
    body = download(data_client, format="ndjson", district="天河区", sort="-age", fields="age,district").text
    assert [json.loads(line) for line in body.splitlines()] == [
        {"age": 34, "district": "天河区"}, {"age": 24, "district": "天河区"},
    ]


def test_json_and_ndjson_keep_types_and_masks(data_client: TestClient) -> None:
    items = json.loads(download(data_client, format="json", sort="age").content)
    assert items[1]["income"] == 12345.67 and items[1]["joined"] == "2020-01-15"
    assert items[1]["name"] == "张**" and "440106199001011234" not in json.dumps(items)
    lines = download(data_client, format="ndjson", sort="age").text.splitlines()
    assert [json.loads(line) for line in lines] == items


def test_xlsx_has_bilingual_header_typed_cells_and_dates(data_client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    path.write_bytes(download(data_client, format="xlsx", sort="age").content)
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["身份证号 / ID number", "姓名 / Name"] and "电话" not in header
    second = [c for c in sheet[3]]
    by_title = dict(zip(header, second))
    assert by_title["年龄"].value == 34 and by_title["年龄"].data_type == "n"
    assert isinstance(by_title["加入日期"].value, datetime) and by_title["加入日期"].is_date
    assert by_title["姓名 / Name"].value == "张**"
    formula_row = dict(zip(header, [c for c in sheet[5]]))
    assert formula_row["备注"].data_type == "s" and formula_row["备注"].value.startswith("=HYPERLINK")


def test_empty_results_in_every_format(data_client: TestClient, tmp_path: Path) -> None:
    url = "/api/v1/datasets/empty/resources/nothing/download"
    assert download(data_client, url, format="csv").text.strip() == "a,when"
    assert download(data_client, url, format="json").json() == []
    assert download(data_client, url, format="ndjson").content == b""
    path = tmp_path / "e.xlsx"
    path.write_bytes(download(data_client, url, format="xlsx").content)
    assert [[c.value for c in row] for row in load_workbook(path).active.iter_rows()] == [["甲", "日期"]]
    assert download(data_client, PEOPLE, format="json", age__gt="100").json() == []


def test_xlsx_continues_on_further_sheets(data_settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(data_settings.replace(xlsx_max_rows_per_sheet=3))) as client:
        content = download(client, format="xlsx", sort="age").content
    path = tmp_path / "sheets.xlsx"
    path.write_bytes(content)
    book = load_workbook(path)
    assert book.sheetnames == ["data", "data_2"]
    ages = [[row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] for sheet in book]
    assert ages == [[24, 34], [39, 47]]
    assert [c.value for c in book["data_2"][1]][0] == "身份证号 / ID number"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"format": "parquet"}, 400, "unknown_format"),
        ({"format": "csv", "bom": "yes"}, 400, "invalid_parameter"),
        ({"format": "csv", "age": "x"}, 400, "invalid_filter_value"),
        ({"format": "csv", "name": "张三丰"}, 400, "field_masked"),
    ],
)
def test_bad_download_requests(data_client: TestClient, params: dict, status: int, code: str) -> None:
    response = data_client.get(PEOPLE, params=params)
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_conditional_and_closed_data_are_never_downloaded_without_a_licence(data_client: TestClient) -> None:
    for fmt in ("csv", "xlsx", "json", "ndjson"):
        conditional = data_client.get("/api/v1/datasets/si-headcount/resources/monthly/download", params={"format": fmt})
        assert conditional.status_code == 403 and conditional.json()["error"]["code"] == "licence_required"
        closed = data_client.get("/api/v1/datasets/personal-si-base/resources/bases/download", params={"format": fmt})
        assert closed.status_code == 403 and closed.json()["error"]["code"] == "closed_dataset"


def test_csv_cells_are_the_rows_apis_values_and_its_length_is_its_size(data_client: TestClient) -> None:
    """The CSV download reads dates as SQLite's stored text (Exporter.iso_dates) and the
    rows API as dates: both must give the same text, masks included, and the canonical
    CSV's Content-Length (computed from its own generation) must be its size."""
    rows_url = "/api/v1/datasets/people/resources/list/rows"
    items = data_client.get(rows_url, params={"sort": "age"}).json()["items"]
    plain = download(data_client, format="csv", sort="age").content
    table = list(csv.DictReader(io.StringIO(plain.decode("utf-8"))))
    assert [r["joined"] for r in table] == [i["joined"] or "" for i in items]
    assert [r["person_id"] for r in table] == [i["person_id"] for i in items]  # the HMAC of the same text
    assert [float(r["income"]) if r["income"] else None for r in table] == [i["income"] for i in items]
    data_client.get(PEOPLE, params={"format": "csv"})  # a cold process learns the size from a first one
    canonical = data_client.get(PEOPLE, params={"format": "csv"}, headers={"accept-encoding": "identity"})
    assert int(canonical.headers["content-length"]) == len(canonical.content)


def test_a_cold_process_sends_the_canonical_csv_at_once_and_learns_its_size_from_it(data_client: TestClient) -> None:
    """The first canonical CSV of a generation goes out without a Content-Length (it is not
    generated twice before its first byte); its own bytes give the next one its length, and
    the size and digest the metadata states are those a fresh generation computes."""
    from opendata.catalogue import distribution

    identity = {"accept-encoding": "identity"}
    distribution._digests.clear()  # as in a process that has not seen this generation
    first = data_client.get(PEOPLE, params={"format": "csv"}, headers=identity)
    assert first.status_code == 200 and "content-length" not in first.headers
    second = data_client.get(PEOPLE, params={"format": "csv"}, headers=identity)
    assert second.headers["content-length"] == str(len(first.content)) and second.content == first.content
    assert second.headers["accept-ranges"] == "bytes"
    learned = data_client.get("/api/v1/datasets/people").json()["resources"][0]
    distribution._digests.clear()
    computed = data_client.get("/api/v1/datasets/people").json()["resources"][0]
    assert (learned["byte_size"], learned["checksum"]) == (computed["byte_size"], computed["checksum"])
    assert computed["byte_size"] == len(first.content)
    # A range on a cold process still needs the size first, and gets it; a HEAD answers as
    # the GET would, cold or warm.
    distribution._digests.clear()
    part = data_client.get(PEOPLE, params={"format": "csv"}, headers={**identity, "range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == first.content[:10]
    assert data_client.head(PEOPLE, params={"format": "csv"}, headers=identity).headers["content-length"] == \
        str(len(first.content))
    distribution._digests.clear()
    assert "content-length" not in data_client.head(PEOPLE, params={"format": "csv"}, headers=identity).headers

