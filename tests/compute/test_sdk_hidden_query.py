"""The SDK's hidden query against a real portal over HTTP: right values, and no request
names the subject or its position (the directory is read whole; the selection is
ciphertexts)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from opendata.client import OpenDataClient
from tests.compute.test_sdk_compute import RecordingTransport, secrets_of
from tests.compute.world import World


def test_the_sdk_reads_one_subject_without_naming_it(world: World, portal: str) -> None:
    licence = world.licence()
    response = world.client.put(f"/api/v1/compute/policies/{licence.id}/hidden-query", headers=world.admin, json={
        "grants": [{"dataset": "tax-credit-ratings", "fields": ["score", "rating"], "per_day": 5}]})
    assert response.status_code == 200, response.text
    recorder = RecordingTransport()
    client = OpenDataClient(portal, client_id=world.bank.client_id, client_secret=world.bank.client_secret,
                            scope=f"licence:{licence.id}", key=world.bank.key, transport=recorder)
    rows = [r for r in world.rows("tax-credit-ratings") if r["year"] == "2021"]
    target = rows[len(rows) // 2]
    layout = client.hidden_query_layout("tax-credit-ratings", ["score", "rating"], where={"year": 2021})
    position = layout["subjects"].index(target["credit_code"])
    got = client.hidden_query("tax-credit-ratings", target["credit_code"], ["score", "rating"], layout=layout)
    assert got == {"score": Decimal(target["score"]), "rating": target["rating"]}
    with pytest.raises(ValueError, match="no subject"):
        client.hidden_query("tax-credit-ratings", "91000000000000000X", ["score"], layout=layout)
    queries = [body for method, url, _, body in recorder.sent if url.endswith("/api/v1/compute/hidden-query")]
    assert len(queries) == 1
    sent = json.loads(queries[0])
    assert set(sent) == {"dataset", "resource", "fields", "key_id", "layout", "selection", "where"}
    text = queries[0].decode()
    assert target["credit_code"] not in text and f'"{position}"' not in text
    assert not any(secret in text for secret in secrets_of(world.bank.key))
    client.close()


def test_the_cli_reads_one_subject(world: World, portal: str, tmp_path) -> None:
    from click.testing import CliRunner

    from opendata.cli import main

    licence = world.licence()
    world.client.put(f"/api/v1/compute/policies/{licence.id}/hidden-query", headers=world.admin, json={
        "grants": [{"dataset": "administrative-penalties", "fields": ["amount"], "per_day": 2}]})
    key_file = OpenDataClient.save_key(world.bank.key, tmp_path / "key.json")
    env = {"OPENDATA_PORTAL_URL": portal, "OPENDATA_CLIENT_ID": world.bank.client_id,
           "OPENDATA_CLIENT_SECRET": world.bank.client_secret, "OPENDATA_SCOPE": f"licence:{licence.id}",
           "OPENDATA_COMPUTE_KEY": str(key_file)}
    row = world.rows("administrative-penalties")[2]
    args = ["compute", "hidden-query", "--dataset", "administrative-penalties", "--field", "amount"]
    result = CliRunner().invoke(main, [*args, "--subject", row["credit_code"]], env=env)
    assert result.exit_code == 0, result.output
    name, value = result.output.rstrip("\n").split("\t")
    assert (name, Decimal(value)) == ("amount", Decimal(row["amount"]))
    result = CliRunner().invoke(main, [*args, "--subject", "91000000000000000X"], env=env)
    assert result.exit_code == 1 and "no subject" in result.output
    result = CliRunner().invoke(main, [*args, "--field", "decision_date", "--subject", row["credit_code"]], env=env)
    assert result.exit_code == 1 and "403 field_not_licensed" in result.output
