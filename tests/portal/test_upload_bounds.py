"""A publisher's upload and the pages that show its rows are bounded, whatever the file.

Before: a 220 KB workbook of shared strings took the server to 0.8 GB, and a 0.5 MB
upload whose cells were huge made every anonymous view of the dataset page hundreds of MB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from litestar.testing import TestClient

from opendata import create_app
from opendata.audit.models import AuditRecord
from opendata.portal.preview import CLIPPED
from opendata.settings import Settings
from tests.formats import crafted_xlsx as crafted
from tests.portal.helpers import count_rows, make_staff, post_form, sign_in, text_of

UPLOAD = "/publisher/datasets/bus-stops/resources/stops/upload"
HEADER = ["stop_id", "name", "district", "lines"]


@pytest.fixture
def bounded(portal_settings: Settings) -> Iterator[TestClient]:
    limits = portal_settings.replace(ingest_max_cell_chars=2000, preview_max_cell_chars=50,
                                     upload_max_bytes=300_000, rows_page_max_chars=2500)
    with TestClient(create_app(limits)) as client:
        yield client


def upload(client: TestClient, content: bytes, name: str):
    return post_form(client, UPLOAD, files={"file": (name, content, "application/octet-stream")})


def problems(response) -> list[list[str]]:
    report = response.text.split('data-testid="ingest-errors"')[1].split("</table>")[0]
    return [text_of(row).split() for row in report.split("<tr>")[2:]]


def test_a_workbook_bomb_is_refused_with_a_reason_and_audited(bounded: TestClient, database_url: str,
                                                              tmp_path: Path) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(bounded, "clerk")
    bomb = crafted.shared_strings_bomb(tmp_path / "bomb.xlsx", HEADER, strings=3_000_000).read_bytes()
    response = upload(bounded, bomb, "stops.xlsx")
    assert response.status_code == 400 and "工作簿超过大小上限" in response.text
    assert count_rows(database_url, AuditRecord, AuditRecord.action == "resource.upload",
                      AuditRecord.outcome == "refused") == 1
    assert "天河客运站" in bounded.get("/datasets/bus-stops").text  # the old rows are still served


def test_a_cell_over_the_limit_names_its_row_and_column(bounded: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(bounded, "clerk")
    csv = f"stop_id,name,district,lines\nS1,一站,天河区,1\nS2,{'长' * 2001},越秀区,2\n".encode()
    response = upload(bounded, csv, "stops.csv")
    assert response.status_code == 400
    [row] = problems(response)
    assert row[:2] == ["3", "name"] and "单元格内容过长" in " ".join(row)
    assert len(response.text) < 50_000  # the report quotes the cell, it does not repeat it


def test_an_upload_over_the_size_limit_is_413(bounded: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(bounded, "clerk")
    big = b"stop_id,name,district,lines\n" + b"S1,x,y,1\n" * 40_000
    response = upload(bounded, big, "stops.csv")
    assert response.status_code == 413
    assert count_rows(database_url, AuditRecord, AuditRecord.code == "body_too_large") == 1


def test_long_cells_are_clipped_on_the_page_and_pages_of_rows_are_bounded(bounded: TestClient,
                                                                         database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(bounded, "clerk")
    rows = "".join(f"S{i},{chr(0x4e00 + i) * 1000},天河区,{i}\n" for i in range(6))
    assert upload(bounded, f"stop_id,name,district,lines\n{rows}".encode(), "stops.csv").status_code == 303
    page = bounded.get("/datasets/bus-stops").text
    assert chr(0x4e00) * 50 + CLIPPED in page and chr(0x4e00) * 51 not in page
    api = "/api/v1/datasets/bus-stops/resources/stops/rows"
    first = bounded.get(api).json()
    assert len(first["items"]) == 2 and first["next"]  # 2,500 characters per page, 1,000 per row
    assert len(first["items"][0]["name"]) == 1000  # the API serves cells whole
    seen = [item["stop_id"] for item in first["items"]]
    cursor = first["next"]
    while cursor:
        following = bounded.get(api, params={"cursor": cursor}).json()
        seen += [item["stop_id"] for item in following["items"]]
        cursor = following["next"]
    assert seen == [f"S{i}" for i in range(6)]
