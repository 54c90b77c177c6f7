"""Administrators search, export and verify the audit trail over HTTP."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from litestar.testing import TestClient
from openpyxl import load_workbook

from opendata.db import utcnow
from tests.access.helpers import ROWS, Licensed, assert_refused_and_audited, bearer


def test_search_filters_and_pages(client: TestClient, licensed: Licensed) -> None:
    token = licensed.token(client)
    client.get(ROWS, headers=bearer(token))
    client.get(ROWS, params={"fields": "credit_code"}, headers=bearer(token))
    admin = licensed.admin
    everything = client.get("/api/v1/audit", headers=admin).json()["items"]
    assert [r["id"] for r in everything] == sorted((r["id"] for r in everything), reverse=True)
    data = client.get("/api/v1/audit", params={"action": "data.*"}, headers=admin).json()["items"]
    assert [(r["action"], r["outcome"]) for r in data] == [("data.query", "refused"), ("data.query", "success")]
    assert data[1]["details"]["rows"] == 3 and data[1]["token_jti"] and data[1]["user_agent"]
    refused = client.get("/api/v1/audit", params={"outcome": "refused"}, headers=admin).json()["items"]
    assert refused[0]["code"] == "field_not_licensed"
    by_actor = client.get("/api/v1/audit", params={"actor": "user:acme"}, headers=admin).json()["items"]
    assert by_actor and all(r["actor"] == "user:acme" for r in by_actor)
    by_target = client.get("/api/v1/audit", params={"target": f"application:{licensed.application_id}"},
                           headers=admin).json()["items"]
    assert [r["action"] for r in reversed(by_target)] == [
        "application.create", "application.submit", "application.approve"]
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/audit", params={"since": future}, headers=admin).json()["items"] == []
    page = client.get("/api/v1/audit", params={"page_size": 2}, headers=admin).json()
    assert len(page["items"]) == 2 and page["next_before"] == page["items"][-1]["id"]
    rest = client.get("/api/v1/audit", params={"page_size": 500, "before": page["next_before"]}, headers=admin).json()
    assert [r["id"] for r in page["items"] + rest["items"]] == [r["id"] for r in everything]
    assert rest["next_before"] is None


def test_bad_search_parameters(client: TestClient, licensed: Licensed) -> None:
    for params, code in [({"outcome": "maybe"}, "invalid_outcome"), ({"page_size": 0}, "invalid_page_size"),
                         ({"since": "2025-01-01T00:00:00"}, "invalid_time"),
                         ({"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "invalid_time"),
                         ({"before": "x"}, "invalid_parameter")]:
        response = client.get("/api/v1/audit", params=params, headers=licensed.admin)
        assert response.status_code == 400 and response.json()["error"]["code"] == code, params


def test_only_admins_see_the_trail(client: TestClient, licensed: Licensed, database_url: str) -> None:
    response = client.get("/api/v1/audit", headers=licensed.enterprise)
    assert_refused_and_audited(response, 403, "forbidden_role", database_url, "audit.search")


def test_csv_and_xlsx_exports(client: TestClient, licensed: Licensed) -> None:
    exported = client.get("/api/v1/audit/export", params={"format": "csv", "action": "application.*"},
                          headers=licensed.admin)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert 'filename="audit.csv"' in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:5] == ["id", "at", "actor", "actor_role", "action"]
    assert [r[4] for r in rows[1:]] == ["application.create", "application.submit", "application.approve"]
    workbook = client.get("/api/v1/audit/export", params={"format": "xlsx"}, headers=licensed.admin)
    sheet = load_workbook(io.BytesIO(workbook.content), read_only=True).worksheets[0]
    values = list(sheet.values)
    assert values[0][0] == "序号 / ID" and len(values) > 5
    last = client.get("/api/v1/audit", headers=licensed.admin).json()["items"][0]
    assert last["action"] == "audit.export" and last["details"]["format"] == "xlsx"
    bad = client.get("/api/v1/audit/export", params={"format": "pdf"}, headers=licensed.admin)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_format"


def test_verify_endpoint(client: TestClient, licensed: Licensed, portal_settings) -> None:
    body = client.get("/api/v1/audit/verify", headers=licensed.admin).json()
    assert body["intact"] is True and body["records"] > 5 and body["broken_id"] is None
    assert body["checkpoints"] >= 1  # the one signed at start
    # A checkpoint line forged in the data dir is reported over HTTP too.
    path = portal_settings.data_dir / "audit-checkpoints.jsonl"
    path.write_text(path.read_text() + path.read_text().splitlines()[0].replace('"tree_size":0', '"tree_size":99')
                    + "\n")
    body = client.get("/api/v1/audit/verify", headers=licensed.admin).json()
    assert body["intact"] is False and any("bad signature" in p for p in body["problems"])
