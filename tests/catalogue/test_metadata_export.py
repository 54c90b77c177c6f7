"""The catalogue's metadata in bulk (GET /api/v1/catalogue/export): every dataset of the
selection, one row each, as CSV or XLSX, with public metadata only."""

from __future__ import annotations

import csv
import io

from litestar.testing import TestClient
from openpyxl import load_workbook

from opendata.catalogue import metadata_export

EXPORT = "/api/v1/catalogue/export"


def _csv(response) -> list[dict[str, str]]:  # noqa: ANN001
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_whole_catalogue_as_csv(client: TestClient) -> None:
    response = client.get(EXPORT)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "catalogue-metadata.csv" in response.headers["content-disposition"]
    rows = _csv(response)
    assert [r["id"] for r in rows] == ["bus-stops", "personal-si-base", "si-headcount"]  # id order
    bus = rows[0]
    assert bus["publisher"] == "广州市交通运输局" and bus["open_level"] == "无条件开放"
    assert bus["tags"] == "公交; bus" and bus["formats"] == "csv" and bus["resources"] == "1"
    assert int(bus["rows"]) > 0
    assert bus["landing_page"].endswith("/datasets/bus-stops")
    assert bus["api_url"].endswith("/api/v1/datasets/bus-stops")
    # closed data is listed like every other door lists it, without a single row value
    closed = rows[1]
    assert closed["open_level"] == "不予开放" and set(closed) == {c.name for c in metadata_export.COLUMNS}


def test_facet_filters_select_datasets(client: TestClient) -> None:
    rows = _csv(client.get(EXPORT, params={"domain": "社会保障", "open_level": "conditional"}))
    assert [r["id"] for r in rows] == ["si-headcount"]
    assert _csv(client.get(EXPORT, params={"tag": "bus"}))[0]["id"] == "bus-stops"
    assert _csv(client.get(EXPORT, params={"resource_format": "xlsx"})) == []


def test_for_excel_a_bom_and_chinese_headers(client: TestClient) -> None:
    response = client.get(EXPORT, params={"bom": "1", "header": "titles"})
    assert response.content.startswith(b"\xef\xbb\xbf")
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("数据集编号 / Dataset id,名称 / Title (Chinese)")


def test_xlsx(client: TestClient) -> None:
    response = client.get(EXPORT, params={"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "数据集编号 / Dataset id"
    assert [v[0] for v in values[1:]] == ["bus-stops", "personal-si-base", "si-headcount"]


def test_bad_requests_say_why(client: TestClient) -> None:
    unknown = client.get(EXPORT, params={"format": "pdf"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_format"
    domain = client.get(EXPORT, params={"domain": "nowhere"})
    assert domain.status_code == 400 and domain.json()["error"]["code"] == "unknown_domain"
    bom = client.get(EXPORT, params={"bom": "yes"})
    assert bom.status_code == 400 and bom.json()["error"]["code"] == "invalid_parameter"


def test_large_catalogues_stream_in_batches(client: TestClient, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(metadata_export, "BATCH", 1)  # three batches of one
    assert [r["id"] for r in _csv(client.get(EXPORT))] == ["bus-stops", "personal-si-base", "si-headcount"]


def test_the_search_page_links_the_export_of_its_selection(client: TestClient) -> None:
    html = client.get("/datasets", params={"domain": "social_security", "q": "社保"}).text
    section = html.split('data-testid="metadata-export"')[1].split("</p>")[0]
    csv_link = section.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert csv_link.startswith("/api/v1/catalogue/export?format=csv&bom=1&header=titles&domain=social_security")
    assert "q=" not in csv_link  # the export takes the filters, not the words
    download = client.get(csv_link)
    assert download.content.startswith(b"\xef\xbb\xbf")
    assert [r["数据集编号 / Dataset id"] for r in _csv(download)] == ["personal-si-base", "si-headcount"]
    english = client.get("/datasets?lang=en").text
    assert "Download the catalogue&#39;s metadata" in english and "CSV (for Excel)" in english
