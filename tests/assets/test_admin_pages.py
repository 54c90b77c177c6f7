"""Administrators keep the asset register on the portal (/admin/assets): register a
dataset, amend a registration, revoke one; the same service and audit as the API."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from opendata.assets.models import AssetCertificate, DataAsset
from opendata.portal import admin_assets, paging
from tests.assets.test_register import _records
from tests.portal.helpers import count_rows, make_staff, post_form, sign_in

FORM = {"dataset": "bus-stops", "permitted_uses": "出行服务\n\n城市规划研究\n", "value_assessment": "高价值：日均调用量大",
        "compliance_status": "passed", "compliance_reviewer": "市政务数据局 合规审查组", "compliance_date": "2026-11-30",
        "holder_department": ""}


def _admin(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    sign_in(client, "admin")


def _register(client: TestClient) -> str:
    response = post_form(client, "/admin/assets", FORM)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/assets/PDA-") and "notice=asset_registered" in location
    return location.split("/assets/")[1].split("?")[0]


def test_only_administrators_reach_the_page_and_its_forms(client: TestClient, database_url: str) -> None:
    assert client.get("/admin/assets", follow_redirects=False).status_code in (302, 303)
    make_staff(database_url, "pub", "publisher", "gz-transport")
    sign_in(client, "pub")
    assert client.get("/admin/assets").status_code == 403
    assert post_form(client, "/admin/assets", FORM).status_code == 403
    assert count_rows(database_url, DataAsset) == 0


def test_an_administrator_registers_a_dataset_through_the_form(client: TestClient, database_url: str) -> None:
    _admin(client, database_url)
    page = client.get("/admin/assets").text
    assert 'href="/admin/assets"' in page and 'data-testid="register-asset-form"' in page
    assert 'value="bus-stops"' in page
    code = _register(client)
    certificate = client.get(f"/assets/{code}?notice=asset_registered").text
    assert "已登记为数据资产" in certificate and "出行服务" in certificate
    asset = client.get(f"/api/v1/assets/{code}").json()
    # An empty box takes the dataset's own value; uses one per line, blank lines dropped.
    assert asset["holder_department"] == "广州市交通运输局"
    assert asset["permitted_uses"] == ["出行服务", "城市规划研究"] and asset["compliance_status"] == "passed"
    assert asset["compliance_date"] == "2026-11-30" and asset["revision"] == 1
    [record] = [r for r in _records(database_url) if r.action == "asset.register"]
    assert record.outcome == "success" and record.actor == "user:admin" and record.target == f"asset:{code}"
    # Registered datasets are no longer offered; a second registration by hand is refused.
    page = client.get("/admin/assets").text
    assert 'value="bus-stops"' not in page and f'data-testid="admin-asset-{code}"' in page
    again = post_form(client, "/admin/assets", FORM)
    assert again.status_code == 409 and "该数据集已登记为数据资产" in again.text
    assert count_rows(database_url, DataAsset) == 1


def test_bad_form_values_are_shown_back_and_write_nothing(client: TestClient, database_url: str) -> None:
    _admin(client, database_url)
    for changed, status in [({"compliance_date": "30/11/2026"}, 400), ({"compliance_status": "maybe"}, 400),
                            ({"dataset": ""}, 400), ({"dataset": "nothing"}, 400),
                            ({"holder_department": "x" * 300}, 400)]:
        response = post_form(client, "/admin/assets", {**FORM, **changed})
        assert response.status_code == status, (changed, response.text)
        assert 'role="alert"' in response.text, changed
    # The form comes back as it was submitted.
    shown = post_form(client, "/admin/assets?lang=en", {**FORM, "compliance_date": "30/11/2026"}).text
    assert "高价值：日均调用量大" in shown and "is not a date" in shown
    assert count_rows(database_url, DataAsset) == 0


def test_amend_keeps_empty_boxes_and_issues_a_new_certificate(client: TestClient, database_url: str) -> None:
    _admin(client, database_url)
    code = _register(client)
    form = client.get("/admin/assets").text.split(f'data-testid="admin-asset-{code}"')[1]
    assert "高价值：日均调用量大" in form and 'value="2026-11-30"' in form  # the current values
    amended = post_form(client, f"/admin/assets/{code}/amend",
                        {"value_assessment": "复评：高价值", "compliance_reviewer": "", "compliance_status": "passed"})
    assert amended.status_code == 303 and "notice=asset_amended" in amended.headers["location"]
    asset = client.get(f"/api/v1/assets/{code}").json()
    assert asset["revision"] == 2 and asset["value_assessment"] == "复评：高价值"
    assert asset["compliance_reviewer"] == "市政务数据局 合规审查组"  # an empty box keeps its value
    assert asset["permitted_uses"] == ["出行服务", "城市规划研究"]
    assert count_rows(database_url, AssetCertificate) == 2
    document = client.get(f"/api/v1/assets/{code}/certificate").json()
    assert document["payload"]["asset"]["revision"] == 2
    [record] = [r for r in _records(database_url) if r.action == "asset.amend"]
    assert json.loads(record.details)["changed"] == ["value_assessment"]
    bad = post_form(client, f"/admin/assets/{code}/amend", {"compliance_status": "maybe"})
    assert bad.status_code == 400 and client.get(f"/api/v1/assets/{code}").json()["revision"] == 2


def test_revoking_needs_a_reason_and_the_confirmation(client: TestClient, database_url: str) -> None:
    _admin(client, database_url)
    code = _register(client)
    for form in ({"reason": "停止开放"}, {"confirm": "1"}):
        refused = post_form(client, f"/admin/assets/{code}/revoke", form)
        assert refused.status_code == 400 and 'role="alert"' in refused.text
        assert client.get(f"/api/v1/assets/{code}").json()["status"] == "registered"
    done = post_form(client, f"/admin/assets/{code}/revoke", {"reason": "数据集停止开放", "confirm": "1"})
    assert done.status_code == 303 and "notice=asset_revoked" in done.headers["location"]
    assert client.get(f"/api/v1/assets/{code}").json()["status"] == "revoked"
    [record] = [r for r in _records(database_url) if r.action == "asset.revoke" and r.outcome == "success"]
    assert json.loads(record.details)["reason"] == "数据集停止开放"
    page = client.get("/admin/assets").text.split(f'data-testid="admin-asset-{code}"')[1].split("</article>")[0]
    assert "数据集停止开放" in page and f"/admin/assets/{code}/amend" not in page
    again = post_form(client, f"/admin/assets/{code}/revoke", {"reason": "再次", "confirm": "1"})
    assert again.status_code == 409 and "该资产登记已撤销" in again.text
    # Revoked: the dataset may not be registered again (amend it instead), and is not offered.
    assert 'value="bus-stops"' not in client.get("/admin/assets").text


def test_the_page_reads_in_english(client: TestClient, database_url: str) -> None:
    _admin(client, database_url)
    code = _register(client)
    page = client.get("/admin/assets?lang=en").text
    assert "Asset register" in page and "Register as an asset" in page and "Amend the registration" in page
    assert "Revoke the registration" in page and code in page


def test_the_registrations_are_paged_and_suggestions_bounded(client: TestClient, database_url: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "ADMIN_PAGE_SIZE", 1)
    monkeypatch.setattr(admin_assets, "SUGGESTED_DATASETS", 1)
    _admin(client, database_url)
    first = _register(client)
    suggested = client.get("/admin/assets").text.split('<datalist id="unregistered-datasets">')[1]
    assert suggested.split("</datalist>")[0].count("<option") == 1
    response = post_form(client, "/admin/assets", {**FORM, "dataset": "si-headcount"})  # typed, not suggested
    assert response.status_code == 303, response.text
    second = response.headers["location"].split("/assets/")[1].split("?")[0]
    page_one = client.get("/admin/assets").text
    assert f'data-testid="admin-asset-{first}"' in page_one and f'data-testid="admin-asset-{second}"' not in page_one
    assert 'data-testid="assets-pager"' in page_one and 'href="/admin/assets?page=2"' in page_one
    page_two = client.get("/admin/assets?page=2").text
    assert f'data-testid="admin-asset-{second}"' in page_two and f'data-testid="admin-asset-{first}"' not in page_two
