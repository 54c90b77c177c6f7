"""Measured quality on the portal's pages: the dataset page (zh/en), the open-data index
per department, and the publisher's downloadable XLSX report."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Iterator

import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook

from opendata import create_app
from opendata.settings import Settings
from tests.portal.helpers import make_staff, sign_in, text_of
from tests.quality.catalogue import write_quality_catalogue


@pytest.fixture
def quality_portal(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    folder = write_quality_catalogue(tmp_path / "quality")
    with TestClient(create_app(settings.replace(catalogues=(folder,), load_catalogues_on_startup=True))) as client:
        yield client


def test_the_dataset_page_shows_the_score_components_and_timeliness(quality_portal: TestClient) -> None:
    zh = text_of(quality_portal.get("/datasets/permits").text)
    assert "数据质量" in zh and "76.6 / 100" in zh
    assert "完整性 90.0% 30" in zh and "一致性 80.0% 20" in zh and "及时性 0.0% 15" in zh
    assert "更新逾期" in zh and "天" in zh
    en = text_of(quality_portal.get("/datasets/permits?lang=en").text)
    assert "Data quality" in en and "Completeness 90.0% 30" in en and "Overdue" in en and "days overdue" in en
    register = text_of(quality_portal.get("/datasets/enterprise-register?lang=en").text)
    assert "100.0 / 100" in register and "Consistency nothing declared 20" in register and "On time" in register


def test_the_open_index_has_a_quality_column_per_department(quality_portal: TestClient) -> None:
    page = quality_portal.get("/open-index").text
    # Both datasets belong to gz-transport: the mean of 100.0 and 76.6.
    assert '<td data-testid="quality-gz-transport">88.3</td>' in page
    assert "数据质量为部门已测量数据集质量评分的平均值" in text_of(page)


def test_the_publisher_downloads_the_quality_report(quality_portal: TestClient, database_url: str) -> None:
    assert quality_portal.get("/publisher/datasets/permits/quality.xlsx", follow_redirects=False).status_code in (
        302, 303, 401)
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    make_staff(database_url, "other", "publisher", "gz-hrss")
    sign_in(quality_portal, "other")
    assert quality_portal.get("/publisher/datasets/permits/quality.xlsx").status_code == 403
    sign_in(quality_portal, "clerk")
    page = quality_portal.get("/publisher/datasets/permits").text
    assert 'href="/publisher/datasets/permits/quality.xlsx"' in page and "76.6" in page
    response = quality_portal.get("/publisher/datasets/permits/quality.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "permits-quality.xlsx" in response.headers["content-disposition"]
    book = load_workbook(BytesIO(response.content), read_only=True)
    summary = {row[0]: row[1:] for row in book["质量 Quality"].iter_rows(values_only=True)}
    assert summary["质量评分 Score (0–100)"][0] == 76.6
    assert summary["完整性 completeness"][:2] == (90.0, 30)
    assert summary["及时性状态 Timeliness status"][0] == "overdue"
    rules = list(book["规则 Rules"].iter_rows(values_only=True))
    check = next(r for r in rules if r[2] == "end >= start")
    assert check[3:7] == (5, 1, 80.0, "3")
    keys = list(book["键 Keys"].iter_rows(values_only=True))
    assert ("list", "credit_code+start", "declared", 5, 1, 80.0) in keys
    assert ("list", "permit_no", "primary_key", 6, 0, 100.0) in keys
    fields = {r[1]: r for r in book["字段 Fields"].iter_rows(values_only=True)}
    assert fields["amount"][2:4] == (5, 1)
