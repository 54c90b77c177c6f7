"""Existing access tokens stop on their next use when the client's secret is rotated, or
when the client's organisation or the account that made it is disabled; the refusals
are audited, introspection agrees, and the token endpoint issues no new ones."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.access.helpers import (
    CREDIT_B, ROWS, Licensed, assert_refused_and_audited, basic, bearer, latest_audit, register_enterprise, sign_in,
)

TOKEN_FORM = {"grant_type": "client_credentials"}


def _introspect(client: TestClient, licensed: Licensed, token: str) -> dict:
    return client.post("/api/v1/token/introspect", data={"token": token}, headers=licensed.admin).json()


def test_rotating_the_secret_stops_tokens_issued_before(client: TestClient, licensed: Licensed,
                                                        database_url: str) -> None:
    old_token = licensed.token(client)
    assert client.get(ROWS, headers=bearer(old_token)).status_code == 200
    rotated = client.post(f"/api/v1/clients/{licensed.client_id}/rotate", headers=licensed.enterprise)
    assert rotated.status_code == 200
    record = assert_refused_and_audited(client.get(ROWS, headers=bearer(old_token)), 401, "secret_rotated",
                                        database_url, "data.query")
    assert record.actor == f"client:{licensed.client_id}"
    assert _introspect(client, licensed, old_token) == {"active": False}
    new = client.post("/api/v1/token", data=TOKEN_FORM, headers=basic(licensed.client_id, rotated.json()["client_secret"]))
    new_token = new.json()["access_token"]
    assert client.get(ROWS, headers=bearer(new_token)).status_code == 200
    assert _introspect(client, licensed, new_token)["active"] is True


def test_disabling_the_only_user_stops_the_clients_tokens(client: TestClient, licensed: Licensed,
                                                          database_url: str) -> None:
    token = licensed.token(client)
    disabled = client.post("/api/v1/admin/users/acme/disable", headers=licensed.admin)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert latest_audit(database_url).action == "account.disable"
    assert_refused_and_audited(client.get(ROWS, headers=bearer(token)), 403, "client_owner_disabled", database_url)
    assert _introspect(client, licensed, token) == {"active": False}
    again = client.post("/api/v1/token", data=TOKEN_FORM, headers=basic(licensed.client_id, licensed.client_secret))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert client.get("/api/v1/me", headers=licensed.enterprise).status_code == 401


def test_disabling_an_organisation_stops_its_tokens_and_people(client: TestClient, licensed: Licensed,
                                                               database_url: str) -> None:
    from tests.access.helpers import CREDIT_A, PASSWORD

    token = licensed.token(client)
    disabled = client.post(f"/api/v1/admin/organisations/{CREDIT_A}/disable", headers=licensed.admin)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    record = latest_audit(database_url)
    assert (record.action, record.target) == ("organisation.disable", f"organisation:{CREDIT_A}")
    assert_refused_and_audited(client.get(ROWS, headers=bearer(token)), 403, "organisation_disabled", database_url)
    again = client.post("/api/v1/token", data=TOKEN_FORM, headers=basic(licensed.client_id, licensed.client_secret))
    assert again.status_code == 401
    login = client.post("/api/v1/auth/login", json={"username": "acme", "password": PASSWORD})
    assert login.status_code == 403 and login.json()["error"]["code"] == "account_disabled"


def test_only_administrators_disable(client: TestClient, licensed: Licensed, database_url: str) -> None:
    register_enterprise(client, "rival", CREDIT_B)
    rival = sign_in(client, "rival")
    for path in ("/api/v1/admin/users/acme/disable", f"/api/v1/admin/organisations/{CREDIT_B}/disable"):
        assert_refused_and_audited(client.post(path, headers=rival), 403, "forbidden_role", database_url)
    own = client.post("/api/v1/admin/users/admin/disable", headers=licensed.admin)
    assert own.status_code == 409 and own.json()["error"]["code"] == "own_account"
    missing = client.post("/api/v1/admin/organisations/91440000XXXXXXXXXX/disable", headers=licensed.admin)
    assert missing.status_code == 404
    assert client.get(ROWS, headers=bearer(licensed.token(client))).status_code == 200


def test_introspection_by_a_non_administrator_is_refused_and_audited(client: TestClient, licensed: Licensed,
                                                                     database_url: str) -> None:
    token = licensed.token(client)
    refused = client.post("/api/v1/token/introspect", data={"token": token}, headers=licensed.enterprise)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    record = latest_audit(database_url)
    assert (record.action, record.outcome, record.code, record.actor) == (
        "token.introspect", "refused", "invalid_client", "user:acme")
