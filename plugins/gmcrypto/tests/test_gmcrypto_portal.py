"""A deployment that moves from the default suite to gmcrypto, through the doors users use:
the token endpoint, the JWKS, a licensed resource read, the asset register and
``opendata assets verify``, ``opendata audit verify``; and the attacks on it.

One deployment for the module (a SQLite file): first a portal on the default suite
(ES256 token, ES256 certificate, hmac-sha256 records), then the same database and data dir
restarted with ``OPENDATA_PLUGINS=gmcrypto`` and ``OPENDATA_CRYPTO_SUITE=gmcrypto``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.testing import TestClient
from sqlalchemy import select, text

from opendata import create_app
from opendata.access import passwords
from opendata.access.models import SigningKey
from opendata.audit import keyfiles
from opendata.audit.keyfiles import KeyMaterial
from opendata.audit.models import AuditRecord
from opendata.audit.service import check_head
from opendata.cli import main
from opendata.db import Database
from opendata.settings import Settings
from opendata_gmcrypto.sm2 import SM2SM3
from tests.access.helpers import ROWS, Licensed, bearer, licensed_enterprise
from tests.factories import write_catalogue

GM = {"plugins": ("gmcrypto",), "crypto_suite": "gmcrypto"}
GM_ENV = {"OPENDATA_PLUGINS": "gmcrypto", "OPENDATA_CRYPTO_SUITE": "gmcrypto"}


@dataclass
class Deployment:
    client: TestClient  # the portal after the switch to gmcrypto
    settings: Settings
    licensed: Licensed
    old_token: str  # ES256, issued before the switch, still alive
    new_token: str  # SM2SM3
    old_certificate: dict
    new_certificate: dict
    tmp: Path

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url


def _header(token: str) -> dict:
    return jwt.get_unverified_header(token)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _stored(url: str, query):  # noqa: ANN001, ANN202
    database = Database(url)
    try:
        with database.session() as session:
            return list(session.execute(query))
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    patch = pytest.MonkeyPatch()  # cheap password hashing: the accounts are not what is tested
    patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    tmp = tmp_path_factory.mktemp("gmcrypto")
    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'opendata.db'}",
                        catalogues=(write_catalogue(tmp / "mini"),), load_catalogues_on_startup=True,
                        secure_cookies=False)
    url = settings.resolved_database_url
    with TestClient(create_app(settings)) as before:
        licensed = licensed_enterprise(before, url)
        old_token = licensed.token(before)
        registered = before.post("/api/v1/assets", json={"dataset": "bus-stops", "permitted_uses": ["科研"]},
                                 headers=licensed.admin)
        assert registered.status_code == 201, registered.text
        code = registered.json()["code"]
        old_certificate = before.get(f"/api/v1/assets/{code}/certificate").json()
    switched = settings.replace(**GM)
    with TestClient(create_app(switched)) as after:
        new_token = licensed.token(after)
        amended = after.patch(f"/api/v1/assets/{code}", json={"permitted_uses": ["科研", "城市规划"]},
                              headers=licensed.admin)
        assert amended.status_code == 200, amended.text
        new_certificate = after.get(f"/api/v1/assets/{code}/certificate").json()
        yield Deployment(after, switched, licensed, old_token, new_token, old_certificate, new_certificate, tmp)
    patch.undo()


def test_tokens_are_sm2_signed_listed_in_the_jwks_and_read_licensed_rows(deployment: Deployment) -> None:
    client = deployment.client
    assert _header(deployment.old_token)["alg"] == "ES256"
    header = _header(deployment.new_token)
    assert header["alg"] == "SM2SM3" and header["typ"] == "at+jwt"
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    by_kid = {k["kid"]: k for k in keys}
    assert by_kid[header["kid"]]["crv"] == "SM2" and by_kid[header["kid"]]["alg"] == "SM2SM3"
    # The retired ES256 key stays published while its tokens live; both kinds read rows.
    assert by_kid[_header(deployment.old_token)["kid"]]["alg"] == "ES256"
    for token in (deployment.new_token, deployment.old_token):
        response = client.get(ROWS, headers=bearer(token))
        assert response.status_code == 200, response.text
    assert client.get(ROWS).status_code in (401, 403)  # no token, no rows
    # Only the SM2 key is active; the ES256 one was retired by the switch.
    active = _stored(deployment.url, select(SigningKey.algorithm).where(SigningKey.retired_at.is_(None)))
    assert [row[0] for row in active] == ["SM2SM3"]


def test_a_tampered_sm2_token_is_refused(deployment: Deployment) -> None:
    head, payload, signature = deployment.new_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["datasets"]["si-arrears"] = {"operations": ["query"], "fields": []}
    forged_payload = _b64(json.dumps(claims).encode())
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for token in (f"{head}.{forged_payload}.{signature}", f"{head}.{payload}.{flipped}"):
        response = deployment.client.get(ROWS, headers=bearer(token))
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_alg_confusion_is_refused_both_ways(deployment: Deployment) -> None:
    client = deployment.client
    claims = jwt.decode(deployment.new_token, options={"verify_signature": False})
    sm2_kid, es_kid = _header(deployment.new_token)["kid"], _header(deployment.old_token)["kid"]
    sm2_jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == sm2_kid)
    attacker_p256 = ec.generate_private_key(ec.SECP256R1())
    forged = [
        # ES256 under the SM2 key's kid (an attacker's P-256 key): the kid's key is SM2.
        jwt.encode(claims, attacker_p256, algorithm="ES256", headers={"typ": "at+jwt", "kid": sm2_kid}),
        # HS256 keyed with the published SM2 public key (the classic confusion).
        _hs256_token(claims, json.dumps(sm2_jwk).encode(), sm2_kid),
        # alg none.
        jwt.encode(claims, None, algorithm="none", headers={"typ": "at+jwt", "kid": sm2_kid}),
        # SM2SM3 under the ES256 key's kid, and vice versa with the ES256 token's header.
        _sm2_token(claims, SM2SM3().generate(), es_kid),
    ]
    head, payload, signature = deployment.old_token.split(".")
    relabelled = _b64(json.dumps({**_header(deployment.old_token), "alg": "SM2SM3"}).encode())
    forged.append(f"{relabelled}.{payload}.{signature}")
    for token in forged:
        response = client.get(ROWS, headers=bearer(token))
        assert response.status_code == 401, (token, response.text)
        assert response.json()["error"]["code"] == "invalid_token"


def _hs256_token(claims: dict, secret: bytes, kid: str) -> str:
    """By hand: PyJWT itself refuses a JWK as an HMAC secret, an attacker's code does not."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(hmac.new(secret, f'{head}.{body}'.encode(), hashlib.sha256).digest())}"


def _sm2_token(claims: dict, private, kid: str) -> str:  # noqa: ANN001
    signing = SM2SM3()
    head = _b64(json.dumps({"alg": "SM2SM3", "typ": "at+jwt", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signing.sign(private, f'{head}.{body}'.encode()))}"


def test_a_token_signed_with_an_sm2_key_not_in_the_jwks_is_refused(deployment: Deployment) -> None:
    claims = jwt.decode(deployment.new_token, options={"verify_signature": False})
    signing, stranger = SM2SM3(), SM2SM3().generate()
    own_kid = signing.public_jwk(stranger)["kid"]
    real_kid = _header(deployment.new_token)["kid"]
    for kid in (own_kid, real_kid):  # its own kid (unknown), and the portal's kid (wrong key)
        response = deployment.client.get(ROWS, headers=bearer(_sm2_token(claims, stranger, kid)))
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_stored_keys_were_rewrapped_with_sm4(deployment: Deployment) -> None:
    stored = _stored(deployment.url, select(SigningKey.algorithm, SigningKey.private_key_pem))
    assert {algorithm for algorithm, _ in stored} == {"ES256", "SM2SM3"}
    assert all(text_.startswith("kek-sm4gcm:v1:") and "PRIVATE" not in text_ and "sm2:v1" not in text_
               for _, text_ in stored)


def _cli(*args: str, env: dict[str, str] | None = None, url: str | None = None):  # noqa: ANN202
    """The CLI as a shell runs it: its settings from the environment, not the portal's (the
    portal's key material, which a process of its own would not have, is put aside meanwhile)."""
    portal = keyfiles._registry.pop(keyfiles._url_key(url), None) if url is not None else None
    try:
        return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)
    finally:
        if portal is not None:
            keyfiles.configure(url, portal)


def test_asset_certificates_verify_with_sm2_and_old_ones_still_verify(deployment: Deployment) -> None:
    tmp, client = deployment.tmp, deployment.client
    assert _header(deployment.new_certificate["signature"])["alg"] == "SM2SM3"
    assert _header(deployment.old_certificate["signature"])["alg"] == "ES256"
    jwks = tmp / "assets-jwks.json"
    jwks.write_text(client.get("/api/v1/assets/jwks.json").text, encoding="utf-8")
    for name, document in (("new", deployment.new_certificate), ("old", deployment.old_certificate)):
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        result = _cli("assets", "verify", str(path), "--jwks", str(jwks), env=GM_ENV)
        assert result.exit_code == 0 and "signature valid" in result.output, result.output
    # Without the plugin, a verifier says what it lacks; a tampered SM2 certificate fails.
    plain = _cli("assets", "verify", str(tmp / "new.json"), "--jwks", str(jwks), env={"OPENDATA_PLUGINS": ""})
    assert plain.exit_code == 1 and "SM2SM3" in plain.output and "OPENDATA_PLUGINS" in plain.output
    # The certificate page names the algorithm, and its verify command enables the plugin.
    html = client.get(f"/assets/{deployment.new_certificate['payload']['asset']['code']}").text
    assert 'data-testid="certificate-alg">SM2SM3<' in html
    command = html.split('data-testid="verify-command">')[1].split("</code>")[0]
    assert command.startswith("OPENDATA_PLUGINS=gmcrypto opendata assets verify ")
    tampered = json.loads(json.dumps(deployment.new_certificate))
    tampered["payload"]["asset"]["permitted_uses"] = ["任意用途"]
    (tmp / "tampered.json").write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    bad = _cli("assets", "verify", str(tmp / "tampered.json"), "--jwks", str(jwks), env=GM_ENV)
    assert bad.exit_code == 1 and "INVALID" in bad.output


def test_keys_rotate_from_the_shell_makes_an_sm2_key(deployment: Deployment) -> None:
    env = {**GM_ENV, "OPENDATA_DATA_DIR": str(deployment.settings.data_dir)}
    rotated = _cli("--database-url", deployment.url, "keys", "rotate", env=env, url=deployment.url)
    assert rotated.exit_code == 0 and "(SM2SM3)" in rotated.output, rotated.output
    listed = _cli("--database-url", deployment.url, "keys", "list", env=env, url=deployment.url)
    assert listed.output.count("SM2SM3") == 2 and "ES256" in listed.output
    # Tokens of the key it retired still read rows; the next token is signed by the new key.
    from opendata.access.keys import forget_cached_keys

    forget_cached_keys()
    client = deployment.client
    assert client.get(ROWS, headers=bearer(deployment.new_token)).status_code == 200
    fresh = deployment.licensed.token(client)
    assert _header(fresh)["alg"] == "SM2SM3" and _header(fresh)["kid"] != _header(deployment.new_token)["kid"]


def test_audit_verify_across_the_switch_from_sha256_to_sm3(deployment: Deployment) -> None:
    url = deployment.url
    schemes = [row[0] for row in _stored(url, select(AuditRecord.scheme).order_by(AuditRecord.id))]
    switch = schemes.index("hmac-sm3")
    assert switch > 0 and set(schemes[:switch]) == {"hmac-sha256"} and set(schemes[switch:]) == {"hmac-sm3"}
    env = {**GM_ENV, "OPENDATA_DATA_DIR": str(deployment.settings.data_dir)}
    result = _cli("--database-url", url, "audit", "verify", env=env, url=url)
    assert result.exit_code == 0 and f"intact: {len(schemes)} records" in result.output, result.output
    # A deployment that disabled the plugin is told why it cannot verify the new records.
    blind = _cli("--database-url", url, "audit", "verify", env={**env, "OPENDATA_PLUGINS": "",
                                                                  "OPENDATA_CRYPTO_SUITE": "default"}, url=url)
    assert blind.exit_code == 1 and "hmac-sm3" in blind.output
    # A portal without the plugin stops at start (its start-up check), naming the scheme.
    keyfiles.configure(url, KeyMaterial.from_settings(deployment.settings.replace(plugins=(), crypto_suite="default")))
    try:
        database = Database(url)
        with database.session() as session, pytest.raises(RuntimeError, match="hashed with hmac-sm3, which no "
                                                                               "enabled crypto suite knows"):
            check_head(session)
        database.dispose()
    finally:
        keyfiles.configure(url, KeyMaterial.from_settings(deployment.settings))  # the switched portal's again
    # A rewritten hmac-sm3 record is named (the append-only triggers dropped, as an intruder would).
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER IF EXISTS audit_records_no_update"))
        connection.execute(text(f"UPDATE audit_records SET actor = 'user:mallory' WHERE id = {switch + 2}"))
    database.dispose()
    broken = _cli("--database-url", url, "audit", "verify", env=env, url=url)
    assert broken.exit_code == 1 and f"#{switch + 2}" in broken.output and "hmac-sm3" in broken.output
