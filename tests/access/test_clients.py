"""API clients over HTTP: an enterprise creates, rotates and revokes its own."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.access.helpers import (
    CREDIT_B, ROWS, Licensed, assert_refused_and_audited, basic, bearer, register_enterprise, sign_in,
)

TOKEN_FORM = {"grant_type": "client_credentials"}


def test_secret_is_shown_once_and_only_its_digest_is_kept(client: TestClient, licensed: Licensed,
                                                          database_url: str) -> None:
    listed = client.get("/api/v1/clients", headers=licensed.enterprise).json()
    assert [c["client_id"] for c in listed] == [licensed.client_id]
    assert "secret" not in str(listed)
    from opendata.access.models import ApiClient
    from opendata.db import Database

    database = Database(database_url)
    with database.session() as session:
        stored = session.get(ApiClient, licensed.client_id)
        assert stored is not None and licensed.client_secret not in stored.secret_digest
    database.dispose()


def test_rotation_replaces_the_secret(client: TestClient, licensed: Licensed, database_url: str) -> None:
    rotated = client.post(f"/api/v1/clients/{licensed.client_id}/rotate", headers=licensed.enterprise)
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != licensed.client_secret
    old = client.post("/api/v1/token", data=TOKEN_FORM, headers=basic(licensed.client_id, licensed.client_secret))
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    new = client.post("/api/v1/token", data=TOKEN_FORM, headers=basic(licensed.client_id, new_secret))
    assert new.status_code == 200


def test_revoking_a_client_stops_its_live_tokens(client: TestClient, licensed: Licensed, database_url: str) -> None:
    token = licensed.token(client)
    revoked = client.post(f"/api/v1/clients/{licensed.client_id}/revoke", headers=licensed.enterprise)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert_refused_and_audited(client.get(ROWS, headers=bearer(token)), 401, "client_revoked", database_url)
    again = client.post("/api/v1/token", data=TOKEN_FORM, headers=basic(licensed.client_id, licensed.client_secret))
    assert again.status_code == 401
    rotate = client.post(f"/api/v1/clients/{licensed.client_id}/rotate", headers=licensed.enterprise)
    assert rotate.status_code == 409 and rotate.json()["error"]["code"] == "client_revoked"


def test_another_enterprises_client_is_not_found(client: TestClient, licensed: Licensed, database_url: str) -> None:
    register_enterprise(client, "rival", CREDIT_B)
    rival = sign_in(client, "rival")
    assert client.get("/api/v1/clients", headers=rival).json() == []
    for command in ("rotate", "revoke"):
        response = client.post(f"/api/v1/clients/{licensed.client_id}/{command}", headers=rival)
        assert_refused_and_audited(response, 404, "not_found", database_url, f"client.{command}")
    assert client.post("/api/v1/token", data=TOKEN_FORM,
                       headers=basic(licensed.client_id, licensed.client_secret)).status_code == 200


def test_client_names_are_checked(client: TestClient, licensed: Licensed) -> None:
    response = client.post("/api/v1/clients", json={"name": "  "}, headers=licensed.enterprise)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_name"


def test_only_enterprises_have_clients(client: TestClient, licensed: Licensed, database_url: str) -> None:
    response = client.post("/api/v1/clients", json={"name": "x"}, headers=licensed.admin)
    assert_refused_and_audited(response, 403, "forbidden_role", database_url, "client.create")
