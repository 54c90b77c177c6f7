"""公共数据资产登记 through the API and the CLI: register, amend, revoke, certificates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from opendata.assets import cli as assets_cli
from opendata.assets.models import DataAsset
from opendata.assets.service import asset_code, check_character
from opendata.audit.models import AuditRecord
from opendata.cli import main
from tests.access.helpers import make_staff, sign_in
from tests.portal.helpers import count_rows

REGISTRATION = {"dataset": "bus-stops", "permitted_uses": ["出行服务", "城市规划研究"],
                "value_assessment": "高价值：日均调用量大", "compliance_status": "passed",
                "compliance_reviewer": "市政务数据局 合规审查组", "compliance_date": "2026-11-30"}


def admin(client: TestClient, database_url: str) -> dict[str, str]:
    make_staff(database_url, "admin", "admin")
    return sign_in(client, "admin")


def test_code_format_and_check_character() -> None:
    assert check_character("17") in "0123456789X"
    code = asset_code(1, 2026)
    assert code.startswith("PDA-2026-000001-") and len(code) == 17
    assert asset_code(2, 2026) != code


def test_register_amend_revoke_through_the_api(client: TestClient, database_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    headers = admin(client, database_url)
    created = client.post("/api/v1/assets", json=REGISTRATION, headers=headers)
    assert created.status_code == 201, created.text
    asset = created.json()
    code = asset["code"]
    assert asset["holder_department"] == "广州市交通运输局" and asset["rows"] > 0 and asset["revision"] == 1
    assert asset["compliance_status"] == "passed" and asset["permitted_uses"] == ["出行服务", "城市规划研究"]
    again = client.post("/api/v1/assets", json=REGISTRATION, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_registered"
    assert [a["code"] for a in client.get("/api/v1/assets").json()] == [code]  # public register
    first = client.get(f"/api/v1/assets/{code}/certificate").json()
    assert first["payload"]["asset"]["code"] == code

    # Offline verification with a saved JWKS; a tampered copy fails with a clear line.
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(client.get("/api/v1/assets/jwks.json").text, encoding="utf-8")
    cert_file = tmp_path / "cert.json"
    cert_file.write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    ok = CliRunner().invoke(main, ["assets", "verify", str(cert_file), "--jwks", str(jwks_file)])
    assert ok.exit_code == 0 and "signature valid" in ok.output and code in ok.output
    tampered = json.loads(json.dumps(first))
    tampered["payload"]["asset"]["volume"]["rows"] += 1
    bad_file = tmp_path / "tampered.json"
    bad_file.write_text(json.dumps(tampered), encoding="utf-8")
    bad = CliRunner().invoke(main, ["assets", "verify", str(bad_file), "--jwks", str(jwks_file)])
    assert bad.exit_code == 1 and "INVALID" in bad.output and "altered" in bad.output

    amended = client.patch(f"/api/v1/assets/{code}", json={"value_assessment": "复评：高价值"}, headers=headers)
    assert amended.status_code == 200 and amended.json()["revision"] == 2
    # Online: the first certificate still verifies, but the portal says it was superseded.
    monkeypatch.setattr(assets_cli, "_load_json", lambda url: client.get(url.split("://", 1)[1].split("/", 1)[1]
                                                                         .join(["/", ""])).json())
    portal = ["--portal", first["payload"]["issuer"]]
    online = CliRunner().invoke(main, ["assets", "verify", str(cert_file), *portal])
    assert online.exit_code == 3 and "SUPERSEDED" in online.output, online.output
    second = tmp_path / "second.json"
    second.write_text(json.dumps(client.get(f"/api/v1/assets/{code}/certificate").json()), encoding="utf-8")
    current = CliRunner().invoke(main, ["assets", "verify", str(second), *portal])
    assert current.exit_code == 0 and "status: current" in current.output

    revoked = client.post(f"/api/v1/assets/{code}/revoke", json={"reason": "数据集停止更新"}, headers=headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    gone = CliRunner().invoke(main, ["assets", "verify", str(second), *portal])
    assert gone.exit_code == 3 and "REVOKED" in gone.output
    assert client.get("/api/v1/assets").json() == []
    actions = [r.action for r in _records(database_url) if r.action.startswith("asset.")]
    assert actions == ["asset.register", "asset.amend", "asset.revoke"]


def test_non_admins_are_denied_and_bad_input_writes_nothing(client: TestClient, database_url: str) -> None:
    assert client.post("/api/v1/assets", json=REGISTRATION).status_code == 401
    make_staff(database_url, "pub", "publisher", "gz-transport")
    publisher = sign_in(client, "pub")
    denied = client.post("/api/v1/assets", json=REGISTRATION, headers=publisher)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden_role"
    headers = admin(client, database_url)
    for body, status in [({**REGISTRATION, "compliance_status": "maybe"}, 400),
                         ({**REGISTRATION, "dataset": "nothing"}, 404),
                         ({**REGISTRATION, "holder_department": "x" * 300}, 400)]:
        assert client.post("/api/v1/assets", json=body, headers=headers).status_code == status
    assert count_rows(database_url, DataAsset) == 0
    refused = [r for r in _records(database_url) if r.action == "asset.register"]
    assert refused and all(r.outcome == "refused" for r in refused)


def test_cli_register_list_and_certificate(client: TestClient, database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--database-url", database_url, "assets"]
    done = runner.invoke(main, [*base, "register", "bus-stops", "--use", "科研", "--compliance", "pending"])
    assert done.exit_code == 0, done.output
    listing = runner.invoke(main, [*base, "list"])
    assert "bus-stops" in listing.output and "PDA-" in listing.output
    code = listing.output.split("\t")[0]
    out = tmp_path / "c.json"
    assert runner.invoke(main, [*base, "certificate", code, "-o", str(out)]).exit_code == 0
    keys = tmp_path / "k.json"
    assert runner.invoke(main, [*base, "jwks", "-o", str(keys)]).exit_code == 0
    verified = runner.invoke(main, ["assets", "verify", str(out), "--jwks", str(keys)])
    assert verified.exit_code == 0 and "offline" in verified.output
    missing = runner.invoke(main, [*base, "register", "nothing"])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def _records(database_url: str) -> list[Any]:
    from sqlalchemy import select

    from opendata.db import Database

    database = Database(database_url)
    with database.session() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
    database.dispose()
    return rows


def test_a_forged_certificate_naming_its_own_issuer_and_keys_is_refused(client: TestClient, database_url: str,
                                                                         tmp_path: Path) -> None:
    """An attacker signs a certificate with its own key, names its own site as issuer and
    publishes its key there: the verifier trusts only the portal (or JWKS) it names."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    from opendata.access.keys import Signer
    from opendata.assets.certificate import sign
    from opendata.crypto_default import ES256
    from opendata.extensions.crypto import default_suites

    headers = admin(client, database_url)
    code = client.post("/api/v1/assets", json=REGISTRATION, headers=headers).json()["code"]
    genuine = client.get(f"/api/v1/assets/{code}/certificate").json()
    payload = json.loads(json.dumps(genuine["payload"]))
    payload["issuer"], payload["asset"]["compliance"]["status"] = "https://attacker.example", "passed"
    key = ec.generate_private_key(ec.SECP256R1())
    attacker = Signer("attacker-key", "ES256", ES256(), key, 0.0)
    forged = sign(payload, attacker, default_suites())
    forged_file = tmp_path / "forged.json"
    forged_file.write_text(json.dumps(forged), encoding="utf-8")
    attacker_jwks = tmp_path / "attacker.json"
    attacker_jwks.write_text(json.dumps({"keys": [{**json.loads(ECAlgorithm.to_jwk(key.public_key())),
                                                   "kid": "attacker-key"}]}), encoding="utf-8")
    portal_jwks = tmp_path / "portal.json"
    portal_jwks.write_text(client.get("/api/v1/assets/jwks.json").text, encoding="utf-8")

    against_portal = CliRunner().invoke(main, ["assets", "verify", str(forged_file), "--jwks", str(portal_jwks)])
    assert against_portal.exit_code == 1 and "INVALID" in against_portal.output
    named_portal = CliRunner().invoke(main, ["assets", "verify", str(forged_file), "--portal",
                                             genuine["payload"]["issuer"]])
    assert named_portal.exit_code == 1 and "not by the portal you named" in named_portal.output
    # A re-signed genuine payload (same issuer) under the attacker's key fails too.
    resigned = tmp_path / "resigned.json"
    resigned.write_text(json.dumps(sign(genuine["payload"], attacker, default_suites())),
                        encoding="utf-8")
    assert CliRunner().invoke(main, ["assets", "verify", str(resigned), "--jwks", str(portal_jwks)]).exit_code == 1
    # The verifier never takes the trust anchor from the document itself.
    no_anchor = CliRunner().invoke(main, ["assets", "verify", str(forged_file)])
    assert no_anchor.exit_code == 2 and "--portal" in no_anchor.output
    # Its own JWKS verifies its own signature: that is why the anchor must be the user's choice.
    assert CliRunner().invoke(main, ["assets", "verify", str(forged_file), "--jwks", str(attacker_jwks)]).exit_code == 0
