"""The security suite: every attack is refused with the right status and code, and the
refusal is in the audit trail (committed although the request was rolled back)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from litestar.testing import TestClient

from opendata.access import keys
from opendata.db import Database
from tests.access.helpers import (
    ARREARS_ROWS, CREDIT_B, ROWS, Licensed, assert_refused_and_audited, bearer, licensed_enterprise,
    make_staff, register_enterprise, sign_in,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def _signing_key(database_url: str):  # noqa: ANN202
    database = Database(database_url)
    with database.session() as session:
        key = keys.active_key(session)
        assert key is not None
        private = keys.load_private_key(key, None)
    database.dispose()
    return key.kid, private


def _resign(database_url: str, token: str, *, claims: dict[str, Any] | None = None,
            header: dict[str, Any] | None = None) -> str:
    """The real token with some claims or header members changed, signed with the real key."""
    kid, private = _signing_key(database_url)
    old_header, payload = _parts(token)
    payload.update(claims or {})
    headers = {"typ": old_header["typ"], "kid": kid, **(header or {})}
    return jwt.encode(payload, private, algorithm="ES256", headers=headers)


def _unsigned(token: str, alg: str, key: bytes | None = None) -> str:
    header, payload = _parts(token)
    header["alg"] = alg
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_alg_none_is_refused(client: TestClient, licensed: Licensed, database_url: str) -> None:
    forged = _unsigned(licensed.token(client), "none")
    response = client.get(ROWS, headers=bearer(forged))
    assert_refused_and_audited(response, 401, "invalid_token", database_url, "data.query")
    assert response.headers["www-authenticate"].startswith("Bearer error=\"invalid_token\"")


def test_hs256_signed_with_the_public_key_is_refused(client: TestClient, licensed: Licensed,
                                                     database_url: str) -> None:
    token = licensed.token(client)
    jwk = client.get("/.well-known/jwks.json").json()["keys"][0]
    public_pem = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = _unsigned(token, "HS256", public_pem)
    assert_refused_and_audited(client.get(ROWS, headers=bearer(forged)), 401, "invalid_token", database_url)


def test_expired_token_is_refused(client: TestClient, licensed: Licensed, database_url: str) -> None:
    now = int(time.time())
    expired = _resign(database_url, licensed.token(client), claims={"iat": now - 1000, "nbf": now - 1000,
                                                                   "exp": now - keys.LEEWAY_SECONDS - 5})
    assert_refused_and_audited(client.get(ROWS, headers=bearer(expired)), 401, "token_expired", database_url)


def test_expiry_within_the_leeway_still_passes(client: TestClient, licensed: Licensed, database_url: str) -> None:
    just_expired = _resign(database_url, licensed.token(client), claims={"exp": int(time.time()) - 5})
    assert client.get(ROWS, headers=bearer(just_expired)).status_code == 200


def test_wrong_audience_is_refused(client: TestClient, licensed: Licensed, database_url: str) -> None:
    forged = _resign(database_url, licensed.token(client), claims={"aud": "another-api"})
    assert_refused_and_audited(client.get(ROWS, headers=bearer(forged)), 401, "invalid_token", database_url)


def test_wrong_issuer_is_refused(client: TestClient, licensed: Licensed, database_url: str) -> None:
    forged = _resign(database_url, licensed.token(client), claims={"iss": "https://evil.example"})
    assert_refused_and_audited(client.get(ROWS, headers=bearer(forged)), 401, "invalid_token", database_url)


def test_missing_or_wrong_typ_is_refused(client: TestClient, licensed: Licensed, database_url: str) -> None:
    token = licensed.token(client)
    for typ in (None, "JWT"):
        forged = _resign(database_url, token, header={"typ": typ})
        assert ("typ" in jwt.get_unverified_header(forged)) == (typ is not None)
        assert_refused_and_audited(client.get(ROWS, headers=bearer(forged)), 401, "invalid_token", database_url)


def test_missing_claim_is_refused(client: TestClient, licensed: Licensed, database_url: str) -> None:
    header, payload = _parts(licensed.token(client))
    del payload["jti"]
    kid, private = _signing_key(database_url)
    forged = jwt.encode(payload, private, algorithm="ES256", headers={"typ": "at+jwt", "kid": kid})
    assert_refused_and_audited(client.get(ROWS, headers=bearer(forged)), 401, "invalid_token", database_url)


def test_tampered_payload_is_refused(client: TestClient, licensed: Licensed, database_url: str) -> None:
    header_part, payload_part, signature = licensed.token(client).split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_part + "=="))
    payload["datasets"]["si-headcount"]["fields"].append("credit_code")
    forged = f"{header_part}.{_b64(json.dumps(payload).encode())}.{signature}"
    response = client.get(ROWS, params={"fields": "credit_code"}, headers=bearer(forged))
    assert_refused_and_audited(response, 401, "invalid_token", database_url)


def test_token_of_a_revoked_licence_stops_on_the_next_request(client: TestClient, licensed: Licensed,
                                                              database_url: str) -> None:
    token = licensed.token(client)
    assert client.get(ROWS, headers=bearer(token)).status_code == 200
    revoked = client.post(f"/api/v1/licences/{licensed.licence_id}/revoke",
                          json={"reason": "违反用途约定"}, headers=licensed.admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    record = assert_refused_and_audited(client.get(ROWS, headers=bearer(token)), 403, "licence_inactive",
                                        database_url)
    assert record.actor == f"client:{licensed.client_id}" and record.token_jti == _parts(token)[1]["jti"]


def test_token_for_one_dataset_used_on_another(client: TestClient, licensed: Licensed, database_url: str) -> None:
    response = client.get(ARREARS_ROWS, headers=bearer(licensed.token(client)))
    assert_refused_and_audited(response, 403, "dataset_not_licensed", database_url)


def test_field_outside_the_licence(client: TestClient, licensed: Licensed, database_url: str) -> None:
    response = client.get(ROWS, params={"fields": "month,credit_code"}, headers=bearer(licensed.token(client)))
    record = assert_refused_and_audited(response, 403, "field_not_licensed", database_url)
    assert '"fields":["credit_code"]' in record.details


def test_quota_overrun_is_429_with_retry_after(client: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(client, database_url, approval={"quotas": {"rows_per_day": 3}})
    token = licensed.token(client)
    assert len(client.get(ROWS, headers=bearer(token)).json()["items"]) == 3
    response = client.get(ROWS, headers=bearer(token))
    assert_refused_and_audited(response, 429, "quota_exceeded", database_url)
    wait = int(response.headers["retry-after"])
    # Quota days are Beijing days (the default timezone, UTC+8): the wait runs to local midnight.
    seconds_left_today = 86400 - (int(time.time()) + 8 * 3600) % 86400
    difference = abs(wait - seconds_left_today) % 86400  # (a test run across midnight)
    assert min(difference, 86400 - difference) <= 2


def test_publisher_cannot_edit_another_departments_dataset(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "transport-clerk", "publisher", publisher_id="gz-transport")
    clerk = sign_in(client, "transport-clerk")
    response = client.patch("/api/v1/datasets/si-headcount", json={"title_zh": "改名"}, headers=clerk)
    assert_refused_and_audited(response, 403, "not_your_dataset", database_url, "dataset.edit")
    assert client.get("/api/v1/datasets/si-headcount").json()["title_zh"] == "企业社保参保人数"


def test_enterprise_cannot_read_another_enterprises_application(client: TestClient, licensed: Licensed,
                                                               database_url: str) -> None:
    register_enterprise(client, "rival", CREDIT_B)
    rival = sign_in(client, "rival")
    response = client.get(f"/api/v1/applications/{licensed.application_id}", headers=rival)
    record = assert_refused_and_audited(response, 404, "not_found", database_url, "application.read")
    assert record.actor == "user:rival"
    # the same answer as for an application that does not exist: ids cannot be probed
    missing = client.get("/api/v1/applications/999", headers=rival)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/applications", headers=rival).json() == []


def test_closed_dataset_rows_are_never_served_even_with_a_token(client: TestClient, licensed: Licensed,
                                                                database_url: str) -> None:
    response = client.get("/api/v1/datasets/personal-si-base/resources/bases/rows",
                          headers=bearer(licensed.token(client)))
    assert_refused_and_audited(response, 403, "closed_dataset", database_url)


def test_conditional_data_without_a_token(client: TestClient, database_url: str) -> None:
    assert_refused_and_audited(client.get(ROWS), 403, "licence_required", database_url)


def test_a_session_token_is_not_an_access_token(client: TestClient, licensed: Licensed, database_url: str) -> None:
    assert_refused_and_audited(client.get(ROWS, headers=licensed.enterprise), 401, "invalid_token", database_url)


def test_open_data_needs_no_token_and_ignores_a_bad_one(client: TestClient) -> None:
    open_rows = "/api/v1/datasets/bus-stops/resources/stops/rows"
    assert client.get(open_rows).status_code == 200
    assert client.get(open_rows, headers=bearer("not-a-token")).status_code == 200
