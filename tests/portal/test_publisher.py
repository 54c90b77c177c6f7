"""The publisher workspace: metadata edits, and uploads that change everything or nothing."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import inspect

from opendata.audit.models import AuditRecord
from opendata.db import Database
from tests.portal.helpers import count_rows, make_staff, post_form, sign_in, text_of


def tables(database_url: str) -> set[str]:
    database = Database(database_url)
    names = {n for n in inspect(database.engine).get_table_names() if n.startswith("rows_")}
    database.dispose()
    return names


def upload(client: TestClient, content: bytes, name: str = "stops.csv"):
    return post_form(client, "/publisher/datasets/bus-stops/resources/stops/upload",
                     files={"file": (name, content, "text/csv")})


def test_publisher_sees_and_edits_only_its_department(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    listing = client.get("/publisher").text
    assert "/publisher/datasets/bus-stops" in listing and "si-headcount" not in listing
    saved = post_form(client, "/publisher/datasets/bus-stops", {
        "title_zh": "广州市公交站点（新版）", "title_en": "Guangzhou bus stops", "description_zh": "全市公交站点。",
        "description_en": "", "contact": "12345", "usage_notes": "", "spatial_coverage": "广州市",
        "update_frequency": "weekly", "tags": "公交，站点; bus"})
    assert saved.status_code == 303
    page = text_of(client.get("/datasets/bus-stops").text)
    assert "广州市公交站点（新版）" in page and "每周" in page and "站点" in page and "12345" in page
    found = text_of(client.get("/datasets?q=新版").text)
    assert "共找到 1 个数据集" in found


def test_bad_metadata_says_why_and_changes_nothing(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    response = post_form(client, "/publisher/datasets/bus-stops", {
        "title_zh": "", "description_zh": "x", "update_frequency": "weekly", "tags": ""})
    assert response.status_code == 400 and "填写的内容不符合要求" in response.text
    response = post_form(client, "/publisher/datasets/bus-stops", {
        "title_zh": "新名称", "description_zh": "x", "update_frequency": "hourly", "tags": ""})
    assert response.status_code == 400 and 'value="新名称"' in response.text
    assert "广州市公交站点" in client.get("/datasets/bus-stops").text
    assert "新名称" not in client.get("/datasets/bus-stops").text


def test_a_bad_upload_lists_every_problem_and_changes_nothing(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    before = tables(database_url)
    bad = "stop_id,name,district,lines\nS1,一站,天河区,12\nS2,二站,越秀区,many\nS3,三站,海珠区,7\nS4,四站,番禺区,1.5\n"
    response = upload(client, bad.encode())
    assert response.status_code == 400
    report = response.text.split('data-testid="ingest-errors"')[1].split("</table>")[0]
    rows = [text_of(r).split() for r in report.split("<tr>")[2:]]
    assert rows[0][:3] == ["3", "lines", "many"] and rows[1][:3] == ["5", "lines", "1.5"]
    assert "取值与字段类型不符" in report and "数据未做任何更改" in response.text
    assert tables(database_url) == before
    assert "天河客运站" in client.get("/datasets/bus-stops").text  # the old rows are still served
    refused = count_rows(database_url, AuditRecord, AuditRecord.action == "resource.upload",
                         AuditRecord.outcome == "refused")
    assert refused == 1
    header = upload(client, "stop_id,name\nS1,x\n".encode())
    assert header.status_code == 400 and "缺少列" in header.text


def test_a_good_upload_replaces_the_rows(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    good = "站点编号,站点名称,所属区,线路数\nN1,新客运站,天河区,3\nN2,新广场,海珠区,4\n".encode("gb18030")
    response = upload(client, good)
    assert response.status_code == 303 and "notice=upload_done" in response.headers["location"]
    page = client.get("/datasets/bus-stops").text
    assert "新客运站" in page and "天河客运站" not in page and "符合条件 2 行" in text_of(page)
    wrong = upload(client, b"a,b\n", "stops.txt")
    assert wrong.status_code == 400 and "只支持 .csv 和 .xlsx 文件" in wrong.text
    assert count_rows(database_url, AuditRecord, AuditRecord.action == "resource.upload",
                      AuditRecord.outcome == "success") == 1
