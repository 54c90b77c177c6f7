"""The administrators' pages: decisions need reasons, revocation, audit search and export,
users and clients."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from litestar.testing import TestClient

from opendata.access.models import Application, Licence
from tests.portal.helpers import (
    application_form, count_rows, make_staff, post_form, register_enterprise, sign_in, sign_out, text_of,
)


def submitted(client: TestClient, database_url: str) -> int:
    register_enterprise(client)
    response = post_form(client, "/workspace/applications", application_form())
    assert response.status_code == 303, response.text
    sign_out(client)
    make_staff(database_url, "admin", "admin")
    sign_in(client, "admin")
    return int(response.headers["location"].split("/")[3].split("?")[0])


def test_every_decision_needs_a_reason_and_a_bad_one_changes_nothing(client: TestClient, database_url: str) -> None:
    application_id = submitted(client, database_url)
    path = f"/admin/applications/{application_id}/decide"
    for data, message in [
        ({"decision": "approve", "reason": ""}, "每个审核决定都须说明理由"),
        ({"decision": "reject", "reason": "  "}, "每个审核决定都须说明理由"),
        ({"decision": "", "reason": "好"}, "请选择审核决定"),
        ({"decision": "approve", "reason": "同意", "fields.si-headcount": ["credit_code"],
          "start_date": application_form()["start_date"], "end_date": application_form()["end_date"]},
         "只能缩小字段范围"),
        ({"decision": "approve", "reason": "同意", "fields.si-headcount": ["month"],
          "start_date": "2000-01-01", "end_date": application_form()["end_date"]}, "使用期限无效"),
        ({"decision": "approve", "reason": "同意", "fields.si-headcount": ["month"], "rows_per_day": "-5",
          "start_date": application_form()["start_date"], "end_date": application_form()["end_date"]}, "配额须为非负整数"),
    ]:
        response = post_form(client, path, data)
        assert response.status_code == 400, (data, response.text)
        assert message in response.text, data
    assert count_rows(database_url, Licence) == 0
    assert count_rows(database_url, Application, Application.state == "submitted") == 1
    kept = post_form(client, path, {"decision": "reject", "reason": ""})
    assert 'value="reject" checked' in kept.text


def test_reject_then_nothing_more_can_be_decided(client: TestClient, database_url: str) -> None:
    application_id = submitted(client, database_url)
    unconfirmed = post_form(client, f"/admin/applications/{application_id}/decide",
                            {"decision": "reject", "reason": "用途与数据无关。"})
    assert unconfirmed.status_code == 400 and "请勾选确认框" in unconfirmed.text
    rejected = post_form(client, f"/admin/applications/{application_id}/decide",
                         {"decision": "reject", "reason": "用途与数据无关。", "confirm": "1"})
    assert rejected.status_code == 303
    page = client.get(rejected.headers["location"]).text
    assert "已驳回" in page and "用途与数据无关。" in page and 'action="/admin/applications' not in page
    again = post_form(client, f"/admin/applications/{application_id}/decide", {"decision": "return", "reason": "再看看"})
    assert again.status_code == 409 and "当前状态下不能执行该操作" in again.text


def test_revoke_a_licence_with_a_reason(client: TestClient, database_url: str) -> None:
    application_id = submitted(client, database_url)
    post_form(client, f"/admin/applications/{application_id}/decide", {
        "decision": "approve", "reason": "同意。", "fields.si-headcount": ["month", "headcount"],
        "start_date": application_form()["start_date"], "end_date": application_form()["end_date"]})
    licences = client.get("/admin/licences").text
    assert 'data-testid="revoke-1"' in licences and "acme 科技有限公司" in licences
    no_reason = post_form(client, "/admin/licences/1/revoke", {"reason": "", "confirm": "1"})
    assert no_reason.status_code == 400 and "请填写理由" in no_reason.text
    unconfirmed = post_form(client, "/admin/licences/1/revoke", {"reason": "发现超范围使用。"})
    assert unconfirmed.status_code == 400 and "请勾选确认框" in unconfirmed.text
    assert count_rows(database_url, Licence, Licence.state == "active") == 1
    revoked = post_form(client, "/admin/licences/1/revoke", {"reason": "发现超范围使用。", "confirm": "1"})
    assert revoked.status_code == 303
    page = text_of(client.get("/admin/licences").text)
    assert "已撤销" in page and "发现超范围使用。" in page
    sign_out(client)
    sign_in(client, "acme")
    assert "发现超范围使用。" in client.get("/workspace").text


def test_audit_search_and_export(client: TestClient, database_url: str) -> None:
    application_id = submitted(client, database_url)
    page = client.get("/admin/audit?action=application.*").text
    assert "application.create" in page and "application.submit" in page and "auth.login" not in page
    client.get("/api/v1/datasets/si-headcount/resources/monthly/rows")
    refused = client.get("/admin/audit?outcome=refused").text.split('data-testid="audit-records"')[1]
    assert "licence_required" in refused and "application.create" not in refused
    export = unescape(re.search(r'href="([^"]+)" data-testid="export-csv"', page).group(1))
    assert export.startswith("/api/v1/audit/export?format=csv") and "action=application.%2A" in export
    response = client.get(export)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    actions = {row[4] for row in rows[1:]}
    assert actions == {"application.create", "application.submit"}
    xlsx = unescape(re.search(r'href="([^"]+)" data-testid="export-xlsx"', page).group(1))
    assert client.get(xlsx).content[:2] == b"PK"
    dated = client.get("/admin/audit?since=2000-01-01&until=2000-01-31").text
    assert "没有符合条件的记录" in dated
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 400 and "日期格式" in bad.text
    assert application_id == 1


def test_users_and_clients_can_be_disabled_and_revoked(client: TestClient, database_url: str) -> None:
    register_enterprise(client)
    created = post_form(client, "/workspace/clients", {"name": "授信系统"})
    client_id = created.text.split('data-testid="client-id">')[1].split("<")[0]
    sign_out(client)
    make_staff(database_url, "admin", "admin")
    sign_in(client, "admin")
    users = client.get("/admin/users").text
    assert "acme" in users and client_id in users and "acme 科技有限公司" in users
    confirmed = {"reason": "离职。", "confirm": "1"}
    assert post_form(client, f"/admin/clients/{client_id}/revoke").status_code == 400  # one click is not enough
    assert post_form(client, f"/admin/clients/{client_id}/revoke", confirmed).status_code == 303
    assert post_form(client, "/admin/users/admin/disable", confirmed).status_code == 409
    one_click = post_form(client, "/admin/users/acme/disable")
    assert one_click.status_code == 400 and "请填写理由" in one_click.text
    unconfirmed = post_form(client, "/admin/users/acme/disable", {"reason": "离职。"})
    assert unconfirmed.status_code == 400 and "请勾选确认框" in unconfirmed.text
    assert post_form(client, "/admin/users/acme/disable", confirmed).status_code == 303
    sign_out(client)
    refused = post_form(client, "/login", {"username": "acme", "password": "correct horse battery"})
    assert refused.status_code == 403 and "该账号已被停用" in refused.text
