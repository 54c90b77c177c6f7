"""The enterprise workspace through its forms: apply, be returned, edit, resubmit, be
approved (narrowed), see the licence and its quota, manage API clients, see usage."""

from __future__ import annotations

from litestar.testing import TestClient

from opendata.access.models import Application, ApiClient
from tests.portal.helpers import (
    CREDIT_B, application_form, count_rows, make_staff, post_form, register_enterprise, sign_in, sign_out, text_of,
)


def _apply(client: TestClient, **changes) -> int:
    response = post_form(client, "/workspace/applications", application_form(**changes))
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[3].split("?")[0])


def test_application_returned_edited_resubmitted_and_approved_narrowed(client: TestClient, database_url: str) -> None:
    assert register_enterprise(client).status_code == 303
    page = client.get("/datasets/si-headcount")
    assert 'href="/workspace/applications/new?dataset=si-headcount"' in page.text
    form = client.get("/workspace/applications/new?dataset=si-headcount")
    assert form.status_code == 200 and 'name="fields.si-headcount" value="headcount"' in form.text
    application_id = _apply(client)
    detail = client.get(f"/workspace/applications/{application_id}")
    assert "待审核" in detail.text

    sign_out(client)
    make_staff(database_url, "admin", "admin")
    sign_in(client, "admin")
    queue = client.get("/admin")
    assert f"/admin/applications/{application_id}" in queue.text
    returned = post_form(client, f"/admin/applications/{application_id}/decide",
                         {"decision": "return", "reason": "请补充授信场景的具体银行名称。"})
    assert returned.status_code == 303, returned.text

    sign_out(client)
    sign_in(client, "acme")
    overview = client.get("/workspace")
    assert "已退回" in overview.text and "请补充授信场景的具体银行名称。" in overview.text
    edit = client.get(f"/workspace/applications/{application_id}/edit")
    assert "退回意见" in edit.text and "请补充授信场景的具体银行名称。" in edit.text
    resubmitted = post_form(client, f"/workspace/applications/{application_id}",
                            application_form(scenario="广州银行对小微企业的授信前核验。"))
    assert resubmitted.status_code == 303, resubmitted.text
    assert "广州银行" in client.get(f"/workspace/applications/{application_id}").text

    sign_out(client)
    sign_in(client, "admin")
    approved = post_form(client, f"/admin/applications/{application_id}/decide", {
        "decision": "approve", "reason": "用途明确，同意。", "fields.si-headcount": ["headcount"],
        "rows_per_day": "500", "downloads_per_day": "3", "compute_calls_per_day": "0",
        "start_date": application_form()["start_date"], "end_date": application_form()["end_date"],
    })
    assert approved.status_code == 303, approved.text
    review = client.get(f"/admin/applications/{application_id}")
    assert "已批准" in review.text and "用途明确，同意。" in review.text

    sign_out(client)
    sign_in(client, "acme")
    overview = text_of(client.get("/workspace").text)
    assert "授权许可 #1" in overview and "有效" in overview
    assert "headcount" in overview and "500" in overview  # narrowed fields and quota
    assert "month" not in overview.split("授权许可 #1")[1].split("查询行数")[0]


def test_bad_application_shows_why_and_changes_nothing(client: TestClient, database_url: str) -> None:
    register_enterprise(client)
    for changes, message in [
        ({"fields": ()}, "请为每个数据集至少选择一个字段"),
        ({"terms": False}, "请先阅读并同意数据使用协议"),
        ({"end_date": "2000-01-01"}, "使用期限无效"),
        ({"start_date": "yesterday"}, "日期格式"),
        ({"dataset": "bus-stops", "operations": ("query",), "fields": ("name",)}, "无条件开放数据无需申请授权"),
        ({"dataset": "personal-si-base", "operations": ("download",), "fields": ("base",)}, "不予开放数据只能申请计算"),
        ({"purpose": ""}, "有必填项未填写"),
    ]:
        response = post_form(client, "/workspace/applications", application_form(**changes))
        assert response.status_code == 400, (changes, response.text)
        assert message in response.text, changes
    assert count_rows(database_url, Application) == 0
    # what was typed is kept
    response = post_form(client, "/workspace/applications", application_form(terms=False, purpose="保留这段文字"))
    assert "保留这段文字" in response.text


def test_a_closed_dataset_can_be_applied_for_compute_only(client: TestClient) -> None:
    register_enterprise(client)
    form = client.get("/workspace/applications/new?dataset=personal-si-base&operation=compute")
    assert 'name="operations.personal-si-base" value="compute" checked' in form.text
    assert 'value="download"' not in form.text
    draft = post_form(client, "/workspace/applications", application_form(
        "personal-si-base", operations=("compute",), fields=("id_number", "base"), action="save"))
    assert draft.status_code == 303
    assert "草稿" in client.get(draft.headers["location"]).text


def test_another_enterprise_cannot_see_the_application(client: TestClient) -> None:
    register_enterprise(client)
    application_id = _apply(client)
    sign_out(client)
    register_enterprise(client, "other", CREDIT_B)
    assert client.get(f"/workspace/applications/{application_id}").status_code == 404
    response = post_form(client, f"/workspace/applications/{application_id}/close")
    assert response.status_code == 404


def test_api_client_secret_is_shown_once_rotated_and_revoked(client: TestClient, database_url: str) -> None:
    register_enterprise(client)
    missing = post_form(client, "/workspace/clients", {"name": "  "})
    assert missing.status_code == 400 and "请填写 1–255 字的应用名称" in missing.text
    assert count_rows(database_url, ApiClient) == 0
    created = post_form(client, "/workspace/clients", {"name": "授信系统"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    client_id = created.text.split('data-testid="client-id">')[1].split("<")[0]
    secret = created.text.split('data-testid="client-secret">')[1].split("<")[0]
    assert client_id.startswith("odc_") and len(secret) > 30
    listing = client.get("/workspace/clients")
    assert client_id in listing.text and secret not in listing.text
    rotated = post_form(client, f"/workspace/clients/{client_id}/rotate")
    new_secret = rotated.text.split('data-testid="client-secret">')[1].split("<")[0]
    assert new_secret != secret
    revoked = post_form(client, f"/workspace/clients/{client_id}/revoke")
    assert revoked.status_code == 303
    assert "已撤销" in client.get("/workspace/clients").text
    usage = client.get("/workspace/usage").text
    assert "client.create" in usage and "client.rotate" in usage and "client.revoke" in usage
