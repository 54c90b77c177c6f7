"""Licence applications through HTTP: the REMS workflow, its refusals, and licences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from opendata.access import applications
from opendata.access.models import User
from opendata.access.principals import Principal
from opendata.audit.service import NO_REQUEST
from opendata.db import Database
from opendata.errors import AppError
from tests.access.helpers import (
    CREDIT_A, application_body, assert_refused_and_audited, make_staff, register_enterprise, sign_in,
    submitted_application, local_today,
)


@pytest.fixture
def people(client: TestClient, database_url: str) -> dict[str, dict[str, str]]:
    register_enterprise(client, "acme", CREDIT_A)
    make_staff(database_url, "admin", "admin")
    return {"acme": sign_in(client, "acme"), "admin": sign_in(client, "admin")}


def _post(client: TestClient, application_id: int, command: str, headers: dict[str, str], **body: object):
    return client.post(f"/api/v1/applications/{application_id}/{command}", json=body, headers=headers)


def test_return_edit_resubmit_approve_close_with_every_event_visible(client: TestClient, people: dict) -> None:
    acme, admin = people["acme"], people["admin"]
    application_id = submitted_application(client, acme)
    assert _post(client, application_id, "return", admin, reason="请补充使用场景").json()["state"] == "returned"
    edited = client.put(f"/api/v1/applications/{application_id}",
                        json=application_body(scenario="银行授信前核验，仅用于风险评估。"), headers=acme)
    assert edited.status_code == 200 and edited.json()["state"] == "returned"
    assert _post(client, application_id, "submit", acme).json()["state"] == "submitted"
    approved = _post(client, application_id, "approve", admin, reason="同意", fields={"si-headcount": ["headcount"]},
                     quotas={"rows_per_day": 500})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["state"] == "approved" and body["licence_id"] is not None
    licence = client.get(f"/api/v1/licences/{body['licence_id']}", headers=acme).json()
    assert licence["status"] == "active"
    assert licence["datasets"] == [{"dataset": "si-headcount", "operations": ["query", "download"],
                                    "fields": ["headcount"]}]
    assert licence["quotas"] == {"rows_per_day": 500, "downloads_per_day": 50, "compute_calls_per_day": 1000}
    assert licence["usage_today"] == {"rows": 0, "downloads": 0, "compute": 0}
    closed = _post(client, application_id, "close", acme, reason="项目结束")
    assert closed.json()["state"] == "closed"
    assert client.get(f"/api/v1/licences/{body['licence_id']}", headers=acme).json()["status"] == "closed"
    events = client.get(f"/api/v1/applications/{application_id}", headers=acme).json()["events"]
    assert [(e["command"], e["from_state"], e["to_state"], e["reason"], e["actor"]) for e in events] == [
        ("create", None, "draft", None, "acme"),
        ("submit", "draft", "submitted", None, "acme"),
        ("return", "submitted", "returned", "请补充使用场景", "admin"),
        ("edit", "returned", "returned", None, "acme"),
        ("submit", "returned", "submitted", None, "acme"),
        ("approve", "submitted", "approved", "同意", "admin"),
        ("close", "approved", "closed", "项目结束", "acme"),
    ]


def test_reject_needs_a_reason_and_is_final(client: TestClient, people: dict, database_url: str) -> None:
    application_id = submitted_application(client, people["acme"])
    missing = _post(client, application_id, "reject", people["admin"])
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_reason"
    assert _post(client, application_id, "reject", people["admin"], reason="用途不明确").json()["state"] == "rejected"
    again = _post(client, application_id, "submit", people["acme"])
    assert_refused_and_audited(again, 409, "invalid_transition", database_url, "application.submit")


def test_approving_twice_is_an_invalid_transition(client: TestClient, people: dict, database_url: str) -> None:
    application_id = submitted_application(client, people["acme"])
    assert _post(client, application_id, "approve", people["admin"]).status_code == 200
    second = _post(client, application_id, "approve", people["admin"])
    assert_refused_and_audited(second, 409, "invalid_transition", database_url, "application.approve")
    assert "it is approved" in second.json()["error"]["message"]


def test_submitted_applications_cannot_be_edited(client: TestClient, people: dict, database_url: str) -> None:
    application_id = submitted_application(client, people["acme"])
    edit = client.put(f"/api/v1/applications/{application_id}", json=application_body(), headers=people["acme"])
    assert_refused_and_audited(edit, 409, "invalid_transition", database_url, "application.edit")


def test_only_admins_decide(client: TestClient, people: dict, database_url: str) -> None:
    application_id = submitted_application(client, people["acme"])
    response = _post(client, application_id, "approve", people["acme"])
    assert_refused_and_audited(response, 403, "forbidden_role", database_url, "application.approve")


def test_nobody_decides_on_their_own_application(client: TestClient, people: dict, database_url: str) -> None:
    application_id = submitted_application(client, people["acme"])
    database = Database(database_url)
    with database.session() as session:
        applicant = session.scalars(select(User).where(User.username == "acme")).one()
        applicant.role = "admin"  # an applicant who has since become an administrator
        application = applications.load(session, application_id)
        with pytest.raises(AppError) as refused:
            applications.decide(session, Principal(applicant, None, "test"), application,  # type: ignore[arg-type]
                                "approve", None, NO_REQUEST)
        assert (refused.value.status, refused.value.code) == (403, "own_application")
    with database.session() as session:  # the role change was rolled back; the refusal kept
        assert applications.load(session, application_id).state == "submitted"  # type: ignore[union-attr]
        assert session.scalars(select(User.role).where(User.username == "acme")).one() == "enterprise"
    database.dispose()


@pytest.mark.parametrize(("change", "code"), [
    ({"items": [{"dataset": "no-such-data", "operations": ["query"], "fields": ["x"]}]}, "unknown_dataset"),
    ({"items": [{"dataset": "si-headcount", "operations": ["query"], "fields": ["salary"]}]}, "unknown_field"),
    ({"items": [{"dataset": "si-headcount", "operations": ["sell"], "fields": ["month"]}]}, "unknown_operation"),
    ({"items": [{"dataset": "si-headcount", "operations": [], "fields": ["month"]}]}, "no_operations"),
    ({"items": [{"dataset": "si-headcount", "operations": ["query"], "fields": []}]}, "no_fields"),
    ({"items": [{"dataset": "personal-si-base", "operations": ["query"], "fields": ["base"]}]},
     "operation_not_allowed"),
    ({"items": [{"dataset": "personal-si-base", "operations": ["compute", "download"], "fields": ["base"]}]},
     "operation_not_allowed"),
    ({"items": [{"dataset": "bus-stops", "operations": ["query"], "fields": ["name"]}]}, "no_licence_needed"),
    ({"items": []}, "no_datasets"),
    ({"items": [{"dataset": "si-headcount", "operations": ["query"], "fields": ["month"]}] * 2},
     "duplicate_dataset"),
    ({"purpose": "  "}, "missing_field"),
    ({"end_date": (local_today() - timedelta(days=400)).isoformat(),
      "start_date": (local_today() - timedelta(days=500)).isoformat()}, "invalid_period"),
    ({"start_date": local_today().isoformat(), "end_date": (local_today() - timedelta(days=1)).isoformat()},
     "invalid_period"),
    ({"end_date": (local_today() + timedelta(days=5 * 365)).isoformat()}, "invalid_period"),
    ({"start_date": "someday"}, "invalid_parameter"),
])
def test_bad_applications_are_400_with_a_code(client: TestClient, people: dict, change: dict, code: str) -> None:
    response = client.post("/api/v1/applications", json=application_body(**change), headers=people["acme"])
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert client.get("/api/v1/applications", headers=people["acme"]).json() == []  # nothing half-written


def test_closed_datasets_can_be_licensed_for_compute_only(client: TestClient, people: dict) -> None:
    body = application_body(items=[{"dataset": "personal-si-base", "operations": ["compute"],
                                    "fields": ["id_number", "base"]}])
    assert client.post("/api/v1/applications", json=body, headers=people["acme"]).status_code == 201


def test_terms_must_be_accepted_before_submitting(client: TestClient, people: dict) -> None:
    created = client.post("/api/v1/applications", json=application_body(terms_accepted=False), headers=people["acme"])
    response = _post(client, created.json()["id"], "submit", people["acme"])
    assert response.status_code == 400 and response.json()["error"]["code"] == "terms_not_accepted"


@pytest.mark.parametrize(("approval", "code"), [
    ({"fields": {"si-headcount": ["credit_code"]}}, "field_not_requested"),
    ({"fields": {"si-arrears": ["amount"]}}, "unknown_dataset"),
    ({"fields": {"si-headcount": []}}, "no_fields"),
    ({"end_date": (local_today() + timedelta(days=365)).isoformat()}, "invalid_period"),
    ({"quotas": {"rows_per_day": -1}}, "invalid_quota"),
])
def test_approval_can_only_narrow(client: TestClient, people: dict, approval: dict, code: str) -> None:
    application_id = submitted_application(client, people["acme"])
    response = _post(client, application_id, "approve", people["admin"], **approval)
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    after = client.get(f"/api/v1/applications/{application_id}", headers=people["acme"]).json()
    assert after["state"] == "submitted" and after["licence_id"] is None


def test_admin_revokes_a_licence_and_the_applicant_sees_why(client: TestClient, people: dict) -> None:
    application_id = submitted_application(client, people["acme"])
    licence_id = _post(client, application_id, "approve", people["admin"]).json()["licence_id"]
    no_reason = client.post(f"/api/v1/licences/{licence_id}/revoke", json={}, headers=people["admin"])
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "missing_reason"
    revoked = client.post(f"/api/v1/licences/{licence_id}/revoke", json={"reason": "超范围使用"},
                          headers=people["admin"])
    assert revoked.json()["status"] == "revoked" and revoked.json()["end_reason"] == "超范围使用"
    application = client.get(f"/api/v1/applications/{application_id}", headers=people["acme"]).json()
    assert application["state"] == "revoked"
    assert application["events"][-1]["reason"] == "超范围使用"
    assert client.post(f"/api/v1/licences/{licence_id}/revoke", json={"reason": "again"},
                       headers=people["admin"]).status_code == 409


def test_lists_are_scoped_and_filterable(client: TestClient, people: dict) -> None:
    first = submitted_application(client, people["acme"])
    client.post("/api/v1/applications", json=application_body(), headers=people["acme"])
    states = {a["id"]: a["state"] for a in client.get("/api/v1/applications", headers=people["admin"]).json()}
    assert states[first] == "submitted" and sorted(states.values()) == ["draft", "submitted"]
    only = client.get("/api/v1/applications", params={"state": "submitted"}, headers=people["admin"]).json()
    assert [a["id"] for a in only] == [first]
    bad = client.get("/api/v1/applications", params={"state": "pending"}, headers=people["admin"])
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_state"


def test_developers_cannot_apply(client: TestClient, database_url: str) -> None:
    response = client.post("/api/v1/auth/register", json={
        "role": "developer", "username": "dev", "email": "dev@example.com", "password": "a long passphrase"})
    assert response.status_code == 202
    developer = sign_in_as(client, "dev", "a long passphrase")
    refused = client.post("/api/v1/applications", json=application_body(), headers=developer)
    assert_refused_and_audited(refused, 403, "forbidden_role", database_url, "application.create")


def sign_in_as(client: TestClient, username: str, password: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/login", json={"username": username, "password": password}).json()
    client.cookies.clear()
    return {"Authorization": f"Bearer {token['session_token']}"}
