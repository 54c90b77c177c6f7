"""The showcase API: submit (signed in), moderation (administrators, with a reason),
public lists of approved showcases only; bad input, hostile URLs, other people's drafts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opendata.showcase.models import Showcase
from tests.access.helpers import PASSWORD, make_staff, sign_in
from tests.conftest import postgres_schema_url
from tests.portal.helpers import count_rows
from tests.showcase.helpers import XSS_TITLE, body, module_portal, portal_client  # noqa: F401  (fixture)


def developer(client: Any, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/register", json={
        "role": "developer", "username": username, "email": f"{username}@example.com", "password": PASSWORD})
    assert response.status_code == 202, response.text
    return sign_in(client, username)


def admin(client: Any, database_url: str, username: str = "admin") -> dict[str, str]:
    make_staff(database_url, username, "admin")
    return sign_in(client, username)


def submit_and_decide(client: Any, database_url: str) -> None:
    ann = developer(client, "ann")
    anonymous = client.post("/api/v1/showcases", json=body())
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"]
    created = client.post("/api/v1/showcases", json=body(datasets=["bus-stops", "si-headcount", "bus-stops"]),
                          headers=ann)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert shown["state"] == "submitted" and shown["datasets"] == ["bus-stops", "si-headcount"]
    number = shown["id"]
    # Not public before an administrator approves it; its submitter sees it.
    assert client.get("/api/v1/showcases").json()["total"] == 0
    assert client.get(f"/api/v1/showcases/{number}").status_code == 404
    assert client.get(f"/api/v1/showcases/{number}", headers=ann).json()["state"] == "submitted"
    bob = developer(client, "bob")
    assert client.get(f"/api/v1/showcases/{number}", headers=bob).status_code == 404
    assert client.get("/api/v1/admin/showcases", headers=bob).status_code == 403
    assert client.post(f"/api/v1/admin/showcases/{number}/decision", headers=bob,
                       json={"decision": "approve", "reason": "好"}).status_code == 403

    boss = admin(client, database_url)
    queue = client.get("/api/v1/admin/showcases", headers=boss).json()
    assert [s["id"] for s in queue["items"]] == [number] and queue["counts"]["submitted"] == 1
    no_reason = client.post(f"/api/v1/admin/showcases/{number}/decision", headers=boss, json={"decision": "approve"})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "missing_field"
    approved = client.post(f"/api/v1/admin/showcases/{number}/decision", headers=boss,
                           json={"decision": "approve", "reason": "内容属实，链接可用"})
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    again = client.post(f"/api/v1/admin/showcases/{number}/decision", headers=boss,
                        json={"decision": "approve", "reason": "再批"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"

    public = client.get("/api/v1/showcases").json()
    assert public["total"] == 1 and public["items"][0]["decision_reason"] is None  # the reason is private
    assert client.get("/api/v1/showcases?dataset=si-headcount").json()["total"] == 1
    assert client.get("/api/v1/showcases?dataset=personal-si-base").json()["total"] == 0
    assert client.get("/api/v1/showcases/mine", headers=ann).json()["items"][0]["decision_reason"] == "内容属实，链接可用"
    down = client.post(f"/api/v1/admin/showcases/{number}/decision", headers=boss,
                       json={"decision": "reject", "reason": "链接已失效"})
    assert down.status_code == 200 and down.json()["state"] == "rejected"
    assert client.get("/api/v1/showcases").json()["total"] == 0
    actions = [r["action"] for r in client.get("/api/v1/audit?action=showcase.*", headers=boss).json()["items"]]
    assert {"showcase.submit", "showcase.approve", "showcase.reject"} <= set(actions)


def test_submit_moderate_and_list(module_portal: Any) -> None:
    client, url = module_portal
    submit_and_decide(client, url)


@pytest.mark.parametrize("changes, code", [
    ({"url": "javascript:alert(1)"}, "invalid_url"),
    ({"url": "JaVaScRiPt:alert(document.cookie)"}, "invalid_url"),
    ({"url": "java\tscript:alert(1)"}, "invalid_url"),
    ({"url": "data:text/html,<script>alert(1)</script>"}, "invalid_url"),
    ({"url": "https:alert"}, "invalid_url"),
    ({"url": "https://user:secret@bank.example.com/"}, "invalid_url"),
    ({"url": "https://ex ample.com/"}, "invalid_url"),
    ({"url": "https://[::1"}, "invalid_url"),
    ({"image_url": "javascript:alert(1)"}, "invalid_url"),
    ({"url": "https://x.example/" + "a" * 500}, "invalid_field"),
    ({"url": 5}, "invalid_field"),
    ({"title": ""}, "missing_field"),
    ({"title": "长" * 121}, "invalid_field"),
    ({"description": "短"}, "missing_field"),
    ({"kind": "game"}, "invalid_showcase_kind"),
    ({"datasets": []}, "invalid_datasets"),
    ({"datasets": "bus-stops"}, "invalid_datasets"),
    ({"datasets": [f"d{i}" for i in range(11)]}, "invalid_datasets"),
    ({"datasets": ["bus-stops", "nope"]}, "unknown_dataset"),
    ({"submitter": "admin"}, "unknown_field"),
    ({"state": "approved"}, "unknown_field"),
])
def test_bad_input_is_refused_with_a_clear_error(module_portal: Any, changes: dict[str, Any], code: str) -> None:
    client, url = module_portal
    before = count_rows(url, Showcase)
    refused = client.post("/api/v1/showcases", json=body(**changes), headers=developer_once(client))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == code and refused.json()["error"]["message"]
    assert count_rows(url, Showcase) == before


_SESSIONS: dict[int, dict[str, str]] = {}


def developer_once(client: Any) -> dict[str, str]:
    if id(client) not in _SESSIONS:
        _SESSIONS[id(client)] = developer(client, "carol")
    return _SESSIONS[id(client)]


def test_a_missing_field_a_missing_showcase_and_bad_paging(module_portal: Any) -> None:
    client, url = module_portal
    dave = developer(client, "dave")
    missing = client.post("/api/v1/showcases", json={"title": "只有标题"}, headers=dave)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_field"
    assert client.get("/api/v1/showcases/999999").status_code == 404
    assert client.get("/api/v1/showcases?page=0").status_code == 400
    assert client.get("/api/v1/showcases?kind=game").json()["error"]["code"] == "invalid_showcase_kind"
    boss = admin(client, url)
    assert client.get("/api/v1/admin/showcases?state=draft", headers=boss).json()["error"]["code"] == "invalid_state"
    assert client.post("/api/v1/admin/showcases/999999/decision", headers=boss,
                       json={"decision": "approve", "reason": "x"}).status_code == 404


def test_at_most_five_a_day(module_portal: Any) -> None:
    client, url = module_portal
    erin = developer(client, "erin")
    for _ in range(5):
        assert client.post("/api/v1/showcases", json=body(), headers=erin).status_code == 201
    refused = client.post("/api/v1/showcases", json=body(), headers=erin)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "86400"


def test_a_hostile_title_is_stored_as_text(module_portal: Any) -> None:
    client, url = module_portal
    frank = developer(client, "frank")
    created = client.post("/api/v1/showcases", json=body(title=XSS_TITLE[:120]), headers=frank)
    assert created.status_code == 201 and created.json()["title"] == XSS_TITLE[:120]


@pytest.mark.postgres
def test_submit_moderate_and_list_on_postgresql(tmp_path: Path) -> None:
    with postgres_schema_url() as url, portal_client(tmp_path, url) as client:
        submit_and_decide(client, url)
