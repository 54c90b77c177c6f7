"""PATCH /api/v1/datasets/{id}: publishers edit their own department's metadata."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.access.helpers import (
    CREDIT_A, assert_refused_and_audited, latest_audit, make_staff, register_enterprise, sign_in,
)


@pytest.fixture
def hrss_clerk(client: TestClient, database_url: str) -> dict[str, str]:
    make_staff(database_url, "hrss-clerk", "publisher", publisher_id="gz-hrss")
    return sign_in(client, "hrss-clerk")


def test_publisher_edits_own_dataset_and_search_follows(client: TestClient, hrss_clerk: dict,
                                                        database_url: str) -> None:
    response = client.patch("/api/v1/datasets/si-headcount", headers=hrss_clerk, json={
        "title_en": "Insured headcount", "tags": ["社保", "用工"], "usage_notes": "按月更新。",
        "update_frequency": "quarterly", "contact": None,
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title_en"] == "Insured headcount" and body["tags"] == ["社保", "用工"]
    assert body["update_frequency"]["code"] == "quarterly" and body["contact"] is None
    found = client.get("/api/v1/datasets", params={"q": "用工"}).json()["items"]
    assert [d["id"] for d in found] == ["si-headcount"]
    record = latest_audit(database_url)
    assert (record.action, record.actor, record.target) == ("dataset.edit", "user:hrss-clerk", "dataset:si-headcount")


def test_admin_edits_any_dataset(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    response = client.patch("/api/v1/datasets/bus-stops", json={"description_zh": "全市公交站点。"},
                            headers=sign_in(client, "admin"))
    assert response.status_code == 200 and response.json()["description_zh"] == "全市公交站点。"


@pytest.mark.parametrize(("body", "code"), [
    ({}, "nothing_to_change"),
    ({"open_level": "unconditional"}, "not_editable"),
    ({"title_zh": "  "}, "invalid_value"),
    ({"title_zh": 5}, "invalid_value"),
    ({"tags": ["a", "a"]}, "invalid_value"),
    ({"tags": "a"}, "invalid_value"),
    ({"update_frequency": "hourly"}, "invalid_value"),
])
def test_bad_edits_change_nothing(client: TestClient, hrss_clerk: dict, body: dict, code: str) -> None:
    response = client.patch("/api/v1/datasets/si-headcount", json=body, headers=hrss_clerk)
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert client.get("/api/v1/datasets/si-headcount").json()["title_zh"] == "企业社保参保人数"


def test_enterprises_and_strangers_cannot_edit(client: TestClient, database_url: str) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    response = client.patch("/api/v1/datasets/si-headcount", json={"title_zh": "x"}, headers=sign_in(client, "acme"))
    assert_refused_and_audited(response, 403, "forbidden_role", database_url, "dataset.edit")
    anonymous = client.patch("/api/v1/datasets/si-headcount", json={"title_zh": "x"})
    assert_refused_and_audited(anonymous, 401, "authentication_required", database_url, "dataset.edit")
    missing = client.patch("/api/v1/datasets/nope", json={"title_zh": "x"}, headers=sign_in(client, "acme"))
    assert missing.status_code == 403  # the role is checked before the dataset is looked up
