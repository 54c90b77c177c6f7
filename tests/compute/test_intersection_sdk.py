"""The SDK's and the CLI's private intersection against a real portal over HTTP: right
statistics (noise off), no request carries an id or its hash, the budget shown and spent."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from opendata.cli import main
from opendata.client import OpenDataClient
from opendata.compute import privacy
from opendata.compute.psi_group import encode_points, hash_to_group
from tests.compute.test_intersection import BOUNDS, RATINGS, grant, scores
from tests.compute.test_sdk_compute import RecordingTransport, secrets_of
from tests.compute.world import World


@pytest.fixture
def exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privacy.Release, "noisy_count", lambda self, count: int(count))
    monkeypatch.setattr(privacy.Release, "sum_noise", lambda self: 0)


# Both backends for the budget's conditional UPDATE and the refusals; the rest is the same
# arithmetic on either, so it runs on SQLite only (the suite's time is at its limit).
POSTGRES_TOO = ()


@pytest.fixture(autouse=True)
def _sqlite_unless_needed(request: pytest.FixtureRequest, world: World) -> None:
    if world.database_url.startswith("postgresql") and request.node.originalname not in POSTGRES_TOO:
        pytest.skip("runs on SQLite only")


def test_the_sdk_computes_the_statistics_without_sending_an_id(world: World, portal: str, exact) -> None:
    licence = world.licence()
    grant(world, licence.id)
    recorder = RecordingTransport()
    client = OpenDataClient(portal, client_id=world.bank.client_id, client_secret=world.bank.client_secret,
                            scope=f"licence:{licence.id}", key=world.bank.key, transport=recorder)
    table = scores(world)
    members = sorted(table)[3:9]
    ids = members + ["91440000NOTINDATA1", members[0]]  # a repeat is sent once
    stats = client.intersection_stats(RATINGS, "score", ids, where={"year": 2021})
    assert (stats.count, stats.sum, stats.ids) == (6, sum(table[m] for m in members), 7)
    assert stats.mean == (stats.sum / 6).quantize(Decimal("0.001"))
    assert client.intersection_grants()[0]["epsilon_left"] == 2.0
    sent = b"".join(body or b"" for _, _, _, body in recorder.sent).decode()
    hashed = encode_points([hash_to_group(i) for i in ids])
    assert not any(i in sent for i in ids) and not any(h in sent for h in hashed)
    assert not any(secret in sent for secret in secrets_of(world.bank.key))
    client.close()


def test_the_cli_prints_the_statistics_and_the_budget(world: World, portal: str, tmp_path, exact) -> None:
    licence = world.licence()
    grant(world, licence.id, fields=BOUNDS, epsilon_total=2.0)
    key_file = OpenDataClient.save_key(world.bank.key, tmp_path / "key.json")
    env = {"OPENDATA_PORTAL_URL": portal, "OPENDATA_CLIENT_ID": world.bank.client_id,
           "OPENDATA_CLIENT_SECRET": world.bank.client_secret, "OPENDATA_SCOPE": f"licence:{licence.id}",
           "OPENDATA_COMPUTE_KEY": str(key_file)}
    members = sorted(scores(world))[:4]
    (tmp_path / "ids.txt").write_text("\n".join(members + ["91440000NOTINDATA1"]) + "\n", encoding="utf-8")
    args = ["compute", "intersection", "--dataset", RATINGS, "--field", "score", "--where", "year=2021",
            "--ids", str(tmp_path / "ids.txt")]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    lines = dict(line.split("\t", 1) for line in result.output.splitlines())
    assert lines["count"].startswith("4\t") and Decimal(lines["sum"].split("\t")[0]) == sum(scores(world)[m]
                                                                                          for m in members)
    assert lines["epsilon"] == "spent 1, left 1"
    budget = CliRunner().invoke(main, ["compute", "intersection-budget", "--json"], env=env)
    assert budget.exit_code == 0 and json.loads(budget.output)[0]["queries_left"] == 1
    CliRunner().invoke(main, args, env=env)
    spent = CliRunner().invoke(main, args, env=env)
    assert spent.exit_code == 1 and "privacy_budget_exhausted" in spent.output
