"""``opendata harvest`` as a user reaches it: the plugin enabled by OPENDATA_PLUGINS,
its commands under ``opendata``, text for people and ``--json`` for scripts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from click.testing import CliRunner

from opendata.cli import main

from harvest_support import RecordedCkan

AIR = "8d5e9a4c-5a30-4b7b-a2a8-2e0f2d2c6f9b"


@pytest.fixture
def cli(tmp_path: Path, migrated_sqlite_file: Path):  # noqa: ANN201
    """``opendata …`` on a database of its own (a copy of the migrated one), plugin enabled."""
    shutil.copyfile(migrated_sqlite_file, tmp_path / "local.db")
    env = {"OPENDATA_PLUGINS": "harvest", "OPENDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'local.db'}",
           "OPENDATA_DATA_DIR": str(tmp_path / "data")}
    return lambda *args: CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _json(result) -> dict:  # noqa: ANN001
    return json.loads(result.stdout)


def test_add_run_schedule_and_status(cli, ckan_server: RecordedCkan) -> None:
    added = cli("harvest", "source", "add", "demo", ckan_server.url, "--type", "ckan", "--domain", "经济发展",
                 "--with-data", "--every", "6h", "--json")
    assert added.exit_code == 0, added.output
    assert _json(added)["catalogue"] == "harvest-demo" and _json(added)["every_minutes"] == 360

    listed = cli("harvest", "source", "list")
    assert "demo" in listed.stdout and "every 360 min" in listed.stdout and "+data" in listed.stdout

    ran = cli("harvest", "run", "--due", "--json")  # never run: due at once
    assert ran.exit_code == 1  # the readings on another host were refused: the run logged an error
    first, = _json(ran)["runs"]
    assert (first["created"], first["errors"], first["status"]) == (3, 1, "errors")
    assert cli("harvest", "run", "--due").stdout.strip() == "nothing is due"

    status = cli("harvest", "status", "demo", "--json")
    body = _json(status)
    assert body["runs"][0]["id"] == first["id"]
    kinds = sorted(e["kind"] for e in body["log"]["entries"])
    assert kinds == ["created", "created", "created", "error"]
    error, = [e for e in body["log"]["entries"] if e["kind"] == "error"]
    assert error["remote_id"] == AIR and error["details"]["resource"] == "f0e1d2c3-b4a5-4968-8778-695a4b3c2d1e"
    text = cli("harvest", "status", "demo", "--kind", "error").stdout
    assert f"error       {AIR} → air-quality-sensors" in text and "created" not in text.split("log of run")[1]

    schedule = cli("harvest", "schedule", "--json")
    assert _json(schedule)[0]["next_due"] > _json(schedule)[0]["last_run_at"]
    assert cli("harvest", "schedule", "demo", "--off").exit_code == 0

    again = cli("harvest", "run", "demo")
    assert again.exit_code == 0 and "0 created, 0 updated, 3 unchanged" in again.stdout

    changed = cli("harvest", "source", "set", "demo", "--without-data", "--open-level", "conditional",
                   "--json")
    assert (_json(changed)["with_data"], _json(changed)["open_level"]) == (False, "conditional")
    full = cli("harvest", "run", "demo", "--full", "--json")
    assert _json(full)["runs"][0]["updated"] == 3  # every dataset read again, now conditionally open
    bad = cli("harvest", "source", "set", "demo", "--domain", "space")
    assert bad.exit_code == 1 and "unknown domain 'space'" in bad.stderr


def test_mistakes_are_one_clear_line(cli, tmp_path: Path, ckan_server: RecordedCkan) -> None:
    unknown = cli("harvest", "run", "nowhere", "--json")
    assert unknown.exit_code == 1 and _json(unknown)["error"]["code"] == "unknown_source"
    assert "no harvest source 'nowhere'" in unknown.stderr
    bad_domain = cli("harvest", "source", "add", "x", ckan_server.url, "--type", "ckan", "--domain", "space")
    assert bad_domain.exit_code == 1 and "unknown domain 'space'" in bad_domain.stderr
    bad_url = cli("harvest", "source", "add", "x", "ftp://example.org", "--type", "dcat", "--domain", "urban")
    assert "is not an http(s) URL" in bad_url.stderr
    taken = cli("harvest", "source", "add", "x", ckan_server.url, "--type", "ckan", "--domain", "urban",
                 "--publisher", "Bad Id")
    assert "is not a publisher id" in taken.stderr
    usage = cli("harvest", "run")
    assert usage.exit_code == 2 and "name one or more sources" in usage.stderr
    failed = cli("harvest", "source", "add", "gone", "http://127.0.0.1:9/", "--type", "ckan",
                  "--domain", "urban")
    assert failed.exit_code == 0
    run = cli("harvest", "run", "gone")
    assert run.exit_code == 1 and "✗ gone run" in run.stdout and "failed" in run.stdout and "unreachable" in run.stdout

    from opendata.db import Database
    from opendata_harvest import sources

    database = Database(f"sqlite:///{tmp_path / 'local.db'}")
    with database.transaction() as session:
        assert sources.claim(session, "gone")  # as a run in another process holds it
    database.dispose()
    busy = cli("harvest", "run", "gone", "--json")
    assert busy.exit_code == 1 and _json(busy)["error"]["code"] == "busy"
    assert "is being harvested by another run" in busy.stderr


def test_the_plugin_registers_its_command_and_harvesters(ckan_server: RecordedCkan) -> None:
    from datetime import UTC, datetime

    from opendata.extensions import load_plugins

    registry = load_plugins(["harvest"])
    assert registry.plugins == ["harvest"] and "harvest" in registry.cli_groups
    assert registry.owners["harvester:ckan"] == registry.owners["harvester:dcat"] == "harvest"
    found = list(registry.harvesters["ckan"].datasets(ckan_server.url, since=datetime(2024, 3, 1, tzinfo=UTC),
                                                      options={"domain": "economy"}))
    # Modified after the 1st of March 2024: gold (13 March) and air quality (21 May), not the budget.
    assert [(d.metadata["id"], d.modified.date().isoformat()) for d in found] == [
        ("air-quality-sensors", "2024-05-21"), ("gold-prices", "2024-03-13")]
    assert found[1].metadata["licence"] == "CC-BY-4.0" and found[1].resources[0]["url"].endswith(".csv")


def test_the_scheduler_loop_runs_what_is_due_then_waits(local_db, local_settings, ckan_server: RecordedCkan) -> None:
    from opendata_harvest import sources
    from opendata_harvest.cli import scheduler_loop
    from opendata_harvest.models import ensure_tables

    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, "demo", "ckan", ckan_server.url, domain="economy")
        sources.add_source(session, "idle", "ckan", ckan_server.url, domain="economy")  # not scheduled
        sources.set_schedule(session, "demo", 30)
    said: list[str] = []
    waits: list[float] = []
    scheduler_loop(local_db, local_settings, echo=said.append, sleep=waits.append, cycles=2)
    assert len(said) == 1 and said[0].startswith("demo run 1: ok; 3 listed, 3 created")
    assert len(waits) == 1 and 1.0 <= waits[0] <= 60.0  # looks again within a minute
