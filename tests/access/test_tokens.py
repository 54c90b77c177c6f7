"""The token endpoints (RFC 6749 client credentials, RFC 7662, RFC 7009) and the JWKS."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import jwt
import pytest
from litestar.testing import TestClient

from opendata import create_app, localtime
from opendata.access import keys
from opendata.access.models import Licence, SigningKey
from opendata.db import Database, utcnow
from opendata.settings import Settings
from tests.access.helpers import (
    ARREARS_ROWS, CREDIT_B, ROWS, Licensed, assert_refused_and_audited, basic, bearer, latest_audit,
    licensed_enterprise, local_today,
)

FORM = {"grant_type": "client_credentials"}


def _verify_with_jwks(client: TestClient, token: str) -> dict:
    header = jwt.get_unverified_header(token)
    jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == header["kid"])
    key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
    return jwt.decode(token, key, algorithms=["ES256"], audience="opendata-api")


def test_token_by_basic_auth_is_an_rfc9068_jwt(client: TestClient, licensed: Licensed, database_url: str) -> None:
    response = client.post("/api/v1/token", data=FORM, headers=basic(licensed.client_id, licensed.client_secret))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["scope"] == f"licence:{licensed.licence_id} si-headcount:query si-headcount:download"
    assert body["licence_id"] == licensed.licence_id
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    claims = _verify_with_jwks(client, body["access_token"])
    assert claims["iss"] == "http://127.0.0.1:8000" and claims["aud"] == "opendata-api"
    assert claims["sub"] == claims["client_id"] == licensed.client_id
    assert claims["exp"] - claims["iat"] == 900 and claims["jti"]
    assert claims["licence_id"] == licensed.licence_id and claims["scope"] == body["scope"]
    assert claims["datasets"] == {"si-headcount": {"operations": ["query", "download"],
                                                   "fields": ["month", "headcount"]}}
    record = latest_audit(database_url)
    assert (record.action, record.outcome, record.token_jti) == ("token.issue", "success", claims["jti"])


def test_token_by_client_credentials_in_the_body(client: TestClient, licensed: Licensed) -> None:
    response = client.post("/api/v1/token", data={**FORM, "client_id": licensed.client_id,
                                                  "client_secret": licensed.client_secret})
    assert response.status_code == 200


def test_scope_narrows_the_token(client: TestClient, licensed: Licensed, database_url: str) -> None:
    token = licensed.token(client, scope=f"licence:{licensed.licence_id} si-headcount:query")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["datasets"]["si-headcount"]["operations"] == ["query"]
    assert client.get(ROWS, headers=bearer(token)).status_code == 200
    download = client.get(ROWS.replace("/rows", "/download"), headers=bearer(token))
    assert_refused_and_audited(download, 403, "operation_not_licensed", database_url, "data.download")


@pytest.mark.parametrize(("form", "headers", "status", "error"), [
    ({"grant_type": "password"}, "basic", 400, "unsupported_grant_type"),
    ({}, "basic", 400, "invalid_request"),
    (FORM, None, 401, "invalid_client"),
    ({**FORM, "client_id": "odc_x", "client_secret": "y"}, "basic", 400, "invalid_request"),
    ({**FORM, "client_id": "odc_nobody", "client_secret": "nothing"}, None, 401, "invalid_client"),
    ({**FORM, "scope": "licence:999"}, "basic", 400, "invalid_scope"),
    ({**FORM, "scope": "licence:one"}, "basic", 400, "invalid_scope"),
    ({**FORM, "scope": "si-arrears:query"}, "basic", 400, "invalid_scope"),
    ({**FORM, "scope": "si-headcount:compute"}, "basic", 400, "invalid_scope"),
    ({**FORM, "scope": "nonsense"}, "basic", 400, "invalid_scope"),
])
def test_token_errors_use_the_oauth_shape(client: TestClient, licensed: Licensed, form: dict, headers: str | None,
                                          status: int, error: str) -> None:
    sent = basic(licensed.client_id, licensed.client_secret) if headers == "basic" else {}
    response = client.post("/api/v1/token", data=form, headers=sent)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["error_description"]
    if status == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="opendata"'


def test_token_request_format_errors(client: TestClient, licensed: Licensed) -> None:
    auth = basic(licensed.client_id, licensed.client_secret)
    as_json = client.post("/api/v1/token", json=FORM, headers=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    repeated = client.post("/api/v1/token", content="grant_type=client_credentials&grant_type=client_credentials",
                           headers={**auth, "Content-Type": "application/x-www-form-urlencoded"})
    assert repeated.status_code == 400 and "more than once" in repeated.json()["error_description"]
    garbage = client.post("/api/v1/token", data=FORM, headers={"Authorization": "Basic !!!"})
    assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_client"


def test_failed_client_authentication_is_audited(client: TestClient, licensed: Licensed, database_url: str) -> None:
    client.post("/api/v1/token", data=FORM, headers=basic(licensed.client_id, "wrong"))
    record = latest_audit(database_url)
    assert (record.action, record.outcome, record.code) == ("token.issue", "refused", "invalid_client")
    assert record.actor == f"client:{licensed.client_id}"


def test_an_organisation_without_a_licence_gets_no_token(client: TestClient, licensed: Licensed) -> None:
    from tests.access.helpers import register_enterprise, sign_in

    register_enterprise(client, "rival", CREDIT_B)
    rival = sign_in(client, "rival")
    created = client.post("/api/v1/clients", json={"name": "x"}, headers=rival).json()
    response = client.post("/api/v1/token", data=FORM, headers=basic(created["client_id"], created["client_secret"]))
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    assert "no active licence" in response.json()["error_description"]


def test_several_licences_need_a_scope(client: TestClient, licensed: Licensed, database_url: str) -> None:
    from tests.access.helpers import submitted_application

    second = submitted_application(client, licensed.enterprise, items=[
        {"dataset": "si-arrears", "operations": ["query"], "fields": ["month", "amount"]}])
    approved = client.post(f"/api/v1/applications/{second}/approve", json={}, headers=licensed.admin).json()
    auth = basic(licensed.client_id, licensed.client_secret)
    ambiguous = client.post("/api/v1/token", data=FORM, headers=auth)
    assert ambiguous.status_code == 400 and "several active licences" in ambiguous.json()["error_description"]
    token = licensed.token(client, scope=f"licence:{approved['licence_id']}")
    assert client.get(ARREARS_ROWS, headers=bearer(token)).status_code == 200
    assert client.get(ROWS, headers=bearer(token)).status_code == 403


def test_token_never_outlives_its_licence(portal_settings: Settings, database_url: str) -> None:
    settings = portal_settings.replace(token_lifetime_seconds=3 * 86400)
    with TestClient(create_app(settings)) as client:
        licensed = licensed_enterprise(client, database_url, end_date=local_today().isoformat())
        claims = jwt.decode(licensed.token(client), options={"verify_signature": False})
        # The licence ends at local midnight after its last day (Beijing: 16:00 UTC).
        licence_end = int(localtime.start_of_day(local_today() + timedelta(days=1), localtime.zone()).timestamp())
        assert claims["exp"] == licence_end < claims["iat"] + 3 * 86400


def test_an_expired_licence_stops_its_tokens(client: TestClient, licensed: Licensed, database_url: str) -> None:
    token = licensed.token(client)
    database = Database(database_url)
    with database.session() as session:  # time passes: the licence's end date is behind us
        licence = session.get(Licence, licensed.licence_id)
        licence.valid_until = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
        session.commit()
    database.dispose()
    assert_refused_and_audited(client.get(ROWS, headers=bearer(token)), 403, "licence_inactive", database_url)
    licence = client.get(f"/api/v1/licences/{licensed.licence_id}", headers=licensed.enterprise).json()
    assert licence["status"] == "expired"
    again = client.post("/api/v1/token", data=FORM, headers=basic(licensed.client_id, licensed.client_secret))
    assert again.status_code == 400 and again.json()["error"] == "invalid_scope"


def test_introspection(client: TestClient, licensed: Licensed) -> None:
    token = licensed.token(client)
    auth = basic(licensed.client_id, licensed.client_secret)
    answer = client.post("/api/v1/token/introspect", data={"token": token}, headers=auth).json()
    assert answer["active"] is True and answer["client_id"] == licensed.client_id
    assert answer["licence_id"] == licensed.licence_id and answer["exp"] > time.time()
    assert client.post("/api/v1/token/introspect", data={"token": "garbage"}, headers=auth).json() == {"active": False}
    by_admin = client.post("/api/v1/token/introspect", data={"token": token}, headers=licensed.admin).json()
    assert by_admin["active"] is True
    by_enterprise = client.post("/api/v1/token/introspect", data={"token": token}, headers=licensed.enterprise)
    assert by_enterprise.status_code == 401 and by_enterprise.json()["error"] == "invalid_client"
    unauthenticated = client.post("/api/v1/token/introspect", data={"token": token})
    assert unauthenticated.status_code == 401
    missing = client.post("/api/v1/token/introspect", data={}, headers=auth)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_introspection_hides_other_clients_tokens(client: TestClient, licensed: Licensed) -> None:
    other = client.post("/api/v1/clients", json={"name": "second"}, headers=licensed.enterprise).json()
    answer = client.post("/api/v1/token/introspect", data={"token": licensed.token(client)},
                         headers=basic(other["client_id"], other["client_secret"])).json()
    assert answer == {"active": False}


def test_revocation(client: TestClient, licensed: Licensed, database_url: str) -> None:
    token = licensed.token(client)
    auth = basic(licensed.client_id, licensed.client_secret)
    other = client.post("/api/v1/clients", json={"name": "second"}, headers=licensed.enterprise).json()
    not_yours = client.post("/api/v1/token/revoke", data={"token": token},
                            headers=basic(other["client_id"], other["client_secret"]))
    assert not_yours.status_code == 400 and not_yours.json()["error"] == "unauthorized_client"
    assert client.get(ROWS, headers=bearer(token)).status_code == 200
    revoked = client.post("/api/v1/token/revoke", data={"token": token}, headers=auth)
    assert revoked.status_code == 200 and revoked.content == b""
    record = latest_audit(database_url)
    assert record.action == "token.revoke" and record.token_jti == jwt.decode(
        token, options={"verify_signature": False})["jti"]
    assert_refused_and_audited(client.get(ROWS, headers=bearer(token)), 401, "token_revoked", database_url)
    assert client.post("/api/v1/token/introspect", data={"token": token}, headers=auth).json() == {"active": False}
    assert client.post("/api/v1/token/revoke", data={"token": token}, headers=auth).status_code == 200  # twice
    assert client.post("/api/v1/token/revoke", data={"token": "garbage"}, headers=auth).status_code == 200
    assert client.get(ROWS, headers=bearer(licensed.token(client))).status_code == 200  # a new one works


def test_key_rotation_keeps_old_tokens_valid(client: TestClient, licensed: Licensed, database_url: str) -> None:
    old_token = licensed.token(client)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    database = Database(database_url)
    with database.session() as session:
        new_key, retired = keys.rotate(session, None)
        session.commit()
    assert [k.kid for k in retired] == [old_kid]
    keys.forget_cached_keys()  # this process's cache; other processes refresh within a minute
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]]
    assert kids == [new_key.kid, old_kid]
    new_token = licensed.token(client)
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
    assert client.get(ROWS, headers=bearer(old_token)).status_code == 200
    assert client.get(ROWS, headers=bearer(new_token)).status_code == 200
    with database.session() as session:  # long after: the old key leaves the JWKS and stops verifying
        session.get(SigningKey, old_kid).retired_at = utcnow() - keys.publish_window(900) - timedelta(seconds=1)
        session.commit()
    database.dispose()
    keys.forget_cached_keys()
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]] == [new_key.kid]
    assert_refused_and_audited(client.get(ROWS, headers=bearer(old_token)), 401, "invalid_token", database_url)


def test_signing_keys_can_be_encrypted_at_rest(portal_settings: Settings, database_url: str) -> None:
    settings = portal_settings.replace(signing_key_passphrase="correct horse battery staple")
    with TestClient(create_app(settings)) as client:
        licensed = licensed_enterprise(client, database_url)
        assert client.get(ROWS, headers=bearer(licensed.token(client))).status_code == 200
    database = Database(database_url)
    with database.session() as session:
        key = keys.active_key(session)
        assert key is not None and key.encrypted and key.private_key_pem.startswith(keys.SEALED_PREFIX)
        # Inside the KEK's seal, the passphrase's PKCS#8 encryption.
        kek = bytes.fromhex((settings.data_dir / "keys" / "kek.key").read_text())
        assert "ENCRYPTED PRIVATE KEY" in keys.unseal(key.private_key_pem, key.kid, kek)
        with pytest.raises(RuntimeError, match="OPENDATA_SIGNING_KEY_PASSPHRASE"):
            keys.load_private_key(key, None)
        with pytest.raises(ValueError):
            keys.load_private_key(key, "wrong passphrase")
    database.dispose()
