"""``opendata compute ...`` against a real portal: keygen, register-key, verify,
register-model, score, and the operators' subject-digest."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendata.cli import main
from tests.compute.calls import approval, audit_records, details
from tests.compute.sme_model import BIAS, FEATURES, SCORE_SCALE, WEIGHTS, expected_scores, firms
from tests.compute.world import World


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-key") / "key.json"
    result = CliRunner().invoke(main, ["compute", "keygen", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def run(world: World, portal: str, key_file: Path, *args: str) -> tuple[int, str]:
    env = {"OPENDATA_PORTAL_URL": portal, "OPENDATA_CLIENT_ID": world.bank.client_id,
           "OPENDATA_CLIENT_SECRET": world.bank.client_secret, "OPENDATA_SCOPE": f"licence:{world.main.id}",
           "OPENDATA_COMPUTE_KEY": str(key_file)}
    result = CliRunner().invoke(main, ["compute", *args], env=env)
    return result.exit_code, result.output


def test_keygen_writes_a_private_file_and_refuses_to_overwrite_it(key_file: Path) -> None:
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert {"kty", "n", "kid", "p", "q"} <= set(json.loads(key_file.read_text()))
    again = CliRunner().invoke(main, ["compute", "keygen", "--out", str(key_file)])
    assert again.exit_code == 2 and "--force" in again.output


def test_register_verify_and_score_from_the_shell(world: World, portal: str, key_file: Path,
                                                  tmp_path: Path) -> None:
    code, output = run(world, portal, key_file, "register-key")
    assert code == 0 and "registered" in output, output
    person = world.rows("personal-social-insurance")[0]
    claim = ["verify", "--dataset", "personal-social-insurance", "--subject", person["id_number"],
             "--where", f"month={person['month']}", "--claim", f"contribution_base={person['contribution_base']}"]
    assert run(world, portal, key_file, *claim) == (0, "✓ contribution_base: matches\n")
    code, output = run(world, portal, key_file, *claim[:-1], "contribution_base=1", "--json")
    assert (code, json.loads(output)) == (1, {"contribution_base": False})

    spec = tmp_path / "model.json"
    spec.write_text(json.dumps({"name": "小微企业授信评分", "features": FEATURES, "weights": WEIGHTS, "bias": BIAS,
                                "score_scale": SCORE_SCALE}, ensure_ascii=False), encoding="utf-8")
    code, output = run(world, portal, key_file, "register-model", str(spec))
    assert code == 0, output
    model_id = int(output.split()[2])
    world.client.post(f"/api/v1/compute/models/{model_id}/approve", json=approval(), headers=world.admin)
    subjects = firms(world)[:5]
    code, output = run(world, portal, key_file, "score", "--model", str(model_id), "--json", *subjects)
    assert code == 0, output
    assert {s: Decimal(v) for s, v in json.loads(output).items()} == expected_scores(world, subjects)


def test_portal_errors_are_one_line_and_exit_1(world: World, portal: str, key_file: Path) -> None:
    code, output = run(world, portal, key_file, "score", "--model", "999999", "91440101MA5CAAAA4Q")
    assert code == 1 and "404 not_found" in output


def test_subject_digest_finds_the_subject_in_the_audit_trail(world: World, portal: str, key_file: Path) -> None:
    person = world.rows("personal-social-insurance")[1]
    run(world, portal, key_file, "register-key")
    run(world, portal, key_file, "verify", "--dataset", "personal-social-insurance", "--subject", person["id_number"],
        "--where", f"month={person['month']}", "--claim", "contribution_base=1")
    # The URL through env (which CliRunner restores), not --database-url (which main exports for good).
    result = CliRunner().invoke(main, ["compute", "subject-digest", person["id_number"]],
                                env={"OPENDATA_DATABASE_URL": world.database_url})
    assert result.exit_code == 0, result.output
    digest = result.output.split()[1]
    assert details(audit_records(world.database_url, "compute.verify", 1)[0])["subjects"] == [digest]


def test_operators_see_and_export_the_proof_parameters(world: World, tmp_path) -> None:
    from opendata.compute.proofs import RingPedersenParams
    from tests.compute.proving import published_params

    out = tmp_path / "parameters.json"
    result = CliRunner().invoke(main, ["compute", "parameters", "--public", str(out)],
                                env={"OPENDATA_DATABASE_URL": world.database_url})
    assert result.exit_code == 0, result.output
    assert "2048 bits" in result.output and "fingerprint" in result.output
    published = json.loads(out.read_text())
    assert "p" not in published and RingPedersenParams.from_json(published) == published_params()
