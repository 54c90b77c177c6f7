"""Accounts over HTTP: registration, sign-in by bearer session token or cookie (+CSRF)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from opendata.access import passwords
from opendata.db import Database
from tests.access.helpers import (
    CREDIT_A, PASSWORD, assert_refused_and_audited, bearer, latest_audit, make_staff, register_enterprise, sign_in,
)


def test_production_password_hashes_are_argon2id_with_rfc9106_parameters() -> None:
    hashed = passwords.make_hasher().hash("whatever it is")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(hashed, "whatever it is")
    assert not passwords.verify_password(hashed, "whatever it was")
    assert not passwords.verify_password("not a hash", "whatever it is")


def test_enterprise_registration_validates_the_credit_code(client: TestClient) -> None:
    register_enterprise(client, "Acme", CREDIT_A)
    user = client.get("/api/v1/me", headers=sign_in(client, "acme")).json()["user"]
    assert user["username"] == "acme" and user["role"] == "enterprise"
    assert user["organisation"]["credit_code"] == CREDIT_A
    assert "password" not in str(user) and "hash" not in str(user)
    wrong = CREDIT_A[:-1] + ("0" if CREDIT_A[-1] != "0" else "1")
    response = client.post("/api/v1/auth/register", json={
        "role": "enterprise", "username": "fake", "email": "fake@example.com", "password": PASSWORD,
        "organisation": {"name": "假公司", "credit_code": wrong, "contact_name": "王", "contact_phone": "13800000000"},
    })
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_credit_code"


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"role": "admin"}, 400, "role_not_self_service"),
    ({"role": "publisher"}, 400, "role_not_self_service"),
    ({"role": "king"}, 400, "role_not_self_service"),
    ({"username": "x"}, 400, "invalid_username"),
    ({"email": "not-an-address"}, 400, "invalid_email"),
    ({"password": "short"}, 400, "weak_password"),
    ({"password": "devdevdevdev"}, 400, "weak_password"),
    ({"password": "aaaaaaaaaaaa"}, 400, "weak_password"),
    ({"organisation": {"name": "x", "credit_code": CREDIT_A, "contact_name": "x", "contact_phone": "1"}},
     400, "unexpected_organisation"),
    ({"username": None}, 400, "invalid_parameter"),
])
def test_bad_registrations(client: TestClient, change: dict, status: int, code: str) -> None:
    body = {"role": "developer", "username": "dev", "email": "dev@example.com", "password": PASSWORD, **change}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_registration_does_not_reveal_which_identifiers_exist(client: TestClient, database_url: str) -> None:
    """A taken user name, e-mail or credit code gets exactly the answer a new one gets;
    nothing is created, and the attempt is audited against the existing owner."""
    new = client.post("/api/v1/auth/register", json={
        "role": "enterprise", "username": "acme", "email": "acme@example.com", "password": PASSWORD,
        "organisation": {"name": "甲公司", "credit_code": CREDIT_A, "contact_name": "陈", "contact_phone": "020-1234567"},
    })
    for body, code, target in [
        ({"role": "developer", "username": "ACME", "email": "other@example.com"}, "account_exists", "user:acme"),
        ({"role": "developer", "username": "other", "email": "Acme@Example.com"}, "account_exists", "user:acme"),
        ({"role": "enterprise", "username": "other", "email": "o@example.com",
          "organisation": {"name": "同码公司", "credit_code": CREDIT_A.lower(), "contact_name": "李",
                           "contact_phone": "020-1234567"}}, "organisation_exists", f"organisation:{CREDIT_A}"),
    ]:
        response = client.post("/api/v1/auth/register", json={"password": PASSWORD, **body})
        assert (response.status_code, response.json()) == (new.status_code, new.json()) == (202, new.json())
        record = latest_audit(database_url)
        assert (record.action, record.outcome, record.code, record.target) == (
            "account.register", "refused", code, target)
        refused = client.post("/api/v1/auth/login", json={"username": "other", "password": PASSWORD})
        assert refused.status_code == 401  # no account "other" was created
    # A taken name with bad input elsewhere is refused for the bad input, as a new one is.
    bad = {"role": "developer", "username": "acme", "email": "x@example.com", "password": "short"}
    assert client.post("/api/v1/auth/register", json=bad).json()["error"]["code"] == "weak_password"
    bad_org = {"role": "enterprise", "username": "acme", "email": "acme@example.com", "password": PASSWORD,
               "organisation": {"name": "甲", "credit_code": CREDIT_A, "contact_name": "陈", "contact_phone": "call"}}
    assert client.post("/api/v1/auth/register", json=bad_org).json()["error"]["code"] == "invalid_phone"


def test_enterprise_needs_an_organisation_with_a_contact(client: TestClient) -> None:
    body = {"role": "enterprise", "username": "acme", "email": "a@example.com", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).json()["error"]["code"] == "missing_organisation"
    body["organisation"] = {"name": "甲", "credit_code": CREDIT_A, "contact_name": " ", "contact_phone": "020-1234567"}
    assert client.post("/api/v1/auth/register", json=body).json()["error"]["code"] == "missing_field"


def test_bearer_session_and_me(client: TestClient) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    response = client.post("/api/v1/auth/login", json={"username": "ACME", "password": PASSWORD})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["session_token"].startswith("ods_") and body["csrf_token"]
    client.cookies.clear()
    me = client.get("/api/v1/me", headers=bearer(body["session_token"])).json()
    assert me["user"]["username"] == "acme" and me["authenticated_by"] == "bearer"
    by_email = client.post("/api/v1/auth/login", json={"username": "acme@example.com", "password": PASSWORD})
    assert by_email.status_code == 200


def test_cookie_session_with_csrf(client: TestClient, database_url: str) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    login = client.post("/api/v1/auth/login", json={"username": "acme", "password": PASSWORD})
    cookie = login.headers["set-cookie"]
    assert "opendata_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert client.get("/api/v1/me").json()["authenticated_by"] == "cookie"
    # a state-changing request by cookie alone is what a cross-site form would send
    forged = client.post("/api/v1/clients", json={"name": "evil"})
    assert_refused_and_audited(forged, 403, "csrf_failed", database_url, "client.create")
    ok = client.post("/api/v1/clients", json={"name": "mine"}, headers={"X-CSRF-Token": login.json()["csrf_token"]})
    assert ok.status_code == 201
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]})
    assert out.status_code == 200
    client.cookies.clear()
    client.cookies.set("opendata_session", login.json()["session_token"])
    assert_refused_and_audited(client.get("/api/v1/me"), 401, "invalid_session", database_url)


def test_wrong_password_and_unknown_user_look_alike_and_are_audited(client: TestClient, database_url: str) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    wrong = client.post("/api/v1/auth/login", json={"username": "acme", "password": "wrong password!"})
    record = assert_refused_and_audited(wrong, 401, "invalid_credentials", database_url, "auth.login")
    assert record.actor == "user:acme"
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong password!"})
    record = assert_refused_and_audited(unknown, 401, "invalid_credentials", database_url, "auth.login")
    assert record.actor == "anonymous" and record.target == "user:nobody"
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_logout_ends_the_session(client: TestClient, database_url: str) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    session = sign_in(client, "acme")
    assert client.post("/api/v1/auth/logout", headers=session).status_code == 200
    assert_refused_and_audited(client.get("/api/v1/me", headers=session), 401, "invalid_session", database_url)


def test_disabled_accounts_cannot_sign_in_and_lose_their_sessions(client: TestClient, database_url: str) -> None:
    from opendata.access.accounts import disable_user
    from opendata.audit.service import NO_REQUEST, Actor

    make_staff(database_url, "clerk", "publisher", publisher_id="gz-hrss")
    session = sign_in(client, "clerk")
    database = Database(database_url)
    with database.session() as db:
        disable_user(db, "clerk", Actor("cli:test", "operator"), NO_REQUEST)
        db.commit()
    database.dispose()
    assert client.get("/api/v1/me", headers=session).status_code == 401
    response = client.post("/api/v1/auth/login", json={"username": "clerk", "password": PASSWORD})
    assert_refused_and_audited(response, 403, "account_disabled", database_url)


def test_unauthenticated_and_wrong_kind_of_token(client: TestClient, database_url: str) -> None:
    assert_refused_and_audited(client.get("/api/v1/me"), 401, "authentication_required", database_url)
    response = client.get("/api/v1/me", headers=bearer("eyJhbGciOiJFUzI1NiJ9.e30.sig"))
    assert_refused_and_audited(response, 401, "session_required", database_url)
    assert response.headers["www-authenticate"].startswith("Bearer")
