"""The opendata command, driven as a user would type it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from opendata.cli import main
from tests.factories import DATA, manifest, write_catalogue


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_validate_reports_a_good_catalogue(catalogue_dir: Path) -> None:
    result = run("catalogue", "validate", str(catalogue_dir))
    assert result.exit_code == 0
    assert "mini: 3 datasets, 3 resources, 2 publishers — valid" in result.output


def test_validate_names_file_dataset_field_and_line(tmp_path: Path) -> None:
    raw = manifest()
    raw["datasets"][0]["open_level"] = "open"
    folder = write_catalogue(tmp_path / "bad", raw)
    result = run("catalogue", "validate", str(folder))
    assert result.exit_code == 1
    assert "catalogue.toml, dataset 'bus-stops', key 'open_level': unknown open level 'open'" in result.output
    data = dict(DATA)
    data["data/headcount.csv"] = "credit_code,month,headcount\nX,2024-13-01,3\n"
    folder = write_catalogue(tmp_path / "bad-data", data=data)
    result = run("catalogue", "validate", str(folder))
    assert result.exit_code == 1
    # the data file's problem names the file, the line, the dataset and the column
    assert "headcount.csv:2, dataset 'si-headcount', resource 'monthly', field 'month'" in result.output


def test_load_then_reload_in_place(tmp_path: Path, catalogue_dir: Path, database_url: str) -> None:
    result = run("--database-url", database_url, "catalogue", "load", str(catalogue_dir))
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output and "3 tables ingested" in result.output
    again = run("--database-url", database_url, "catalogue", "load", str(catalogue_dir))
    assert "0 created, 0 updated, 3 unchanged" in again.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from datasets")).scalar() == 3
    engine.dispose()


def test_a_failing_load_writes_nothing(tmp_path: Path, database_url: str) -> None:
    data = dict(DATA)
    data["data/stops.csv"] = "stop_id,name,district,lines\nS1,a,b,1\nS2,a,b\n"  # ragged
    folder = write_catalogue(tmp_path / "bad", data=data)
    result = run("--database-url", database_url, "catalogue", "load", str(folder))
    assert result.exit_code == 1 and "stops.csv:3" in result.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from datasets")).scalar() == 0
    engine.dispose()


def test_export_import_round_trip_through_excel(tmp_path: Path, catalogue_dir: Path) -> None:
    workbook = tmp_path / "catalogue.xlsx"
    assert run("catalogue", "export", str(catalogue_dir), "--xlsx", str(workbook)).exit_code == 0
    out = tmp_path / "imported"
    result = run("catalogue", "import", str(workbook), "--out", str(out))
    assert result.exit_code == 0, result.output
    from opendata.catalogue.manifest import parse_manifest, read_manifest

    original = read_manifest(catalogue_dir)
    imported = parse_manifest((out / "catalogue.toml").read_text(encoding="utf-8"))
    assert imported.datasets == original.datasets and imported.publishers == original.publishers
    refused = run("catalogue", "import", str(workbook), "--out", str(out))
    assert refused.exit_code != 0 and "--force" in refused.output


def test_db_upgrade(database_url: str) -> None:
    result = run("--database-url", database_url, "db", "upgrade")
    assert result.exit_code == 0 and "schema at revision" in result.output


# --- every command: --json, and an unreachable database as one line ------------------------

import json  # noqa: E402

import click  # noqa: E402
import pytest  # noqa: E402

NOWHERE = "postgresql+psycopg://postgres:sekret@127.0.0.1:1/nowhere"  # nothing listens on port 1
DATABASE_COMMANDS = [
    ["db", "upgrade"], ["db", "vacuum"], ["users", "list"], ["users", "disable", "x"], ["users", "unlock", "account:x"],
    ["users", "disable-organisation", "X"], ["clients", "create", "--credit-code", "X", "--name", "n"],
    ["clients", "rotate", "odc_x"], ["clients", "revoke", "odc_x"], ["keys", "rotate"], ["keys", "list"],
    ["audit", "verify"], ["audit", "checkpoint"], ["audit", "prove", "1"], ["search", "reindex"],
    ["search", "synonyms"], ["catalogue", "quality", "x"], ["catalogue", "history", "x"], ["catalogue", "export", "--datapackage", "out"],
    ["assets", "list"], ["assets", "register", "x"], ["assets", "certificate", "x"], ["assets", "jwks", "-o", "k.json"],
    ["compute", "parameters"], ["compute", "subject-digest", "s"], ["demo"], ["serve", "--port", "1"],
    ["serve", "--workers", "2", "--port", "1"],
]


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _commands(sub, path + (name,))
    return found


def test_every_command_has_json() -> None:
    commands = _commands(main)
    assert len(commands) > 40
    missing = [" ".join(path) for path, command in commands
               if not any("--json" in getattr(p, "opts", ()) for p in command.params)]
    assert missing == []


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=" ".join)
def test_an_unreachable_database_is_one_line_and_exit_3(args: list[str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--database-url", NOWHERE, *args], catch_exceptions=False, input="pw\npw\n")
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert result.stderr.startswith("✗ cannot use the database at postgresql+psycopg://postgres:***@127.0.0.1:1/nowhere: ")
    assert "Connection refused" in result.stderr and "sekret" not in result.output
    as_json = CliRunner().invoke(main, ["--database-url", NOWHERE, "--json", *args], catch_exceptions=False,
                                 input="pw\npw\n")
    assert as_json.exit_code == 3 and json.loads(as_json.stdout)["error"]["code"] == "database_unreachable"


def test_a_sqlite_file_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    result = run("--database-url", f"sqlite:///{tmp_path / 'a-file' / 'opendata.db'}", "users", "list")
    assert result.exit_code == 3
    assert result.stderr.strip() == (f"✗ cannot use the database at sqlite:///{tmp_path / 'a-file' / 'opendata.db'}: "
                                     f"File exists: {tmp_path / 'a-file'}")


def test_a_database_url_that_is_no_url_is_a_usage_error() -> None:
    result = run("--database-url", "nonsense://", "keys", "list")
    assert result.exit_code == 2 and result.stderr.startswith("✗ the database URL nonsense:// is not usable")


def test_json_answers(tmp_path: Path, catalogue_dir: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'opendata.db'}"
    validated = json.loads(run("catalogue", "validate", str(catalogue_dir), "--json").stdout)
    assert validated == {"catalogue": "mini", "datasets": 3, "resources": 3, "publishers": 2, "valid": True}
    upgraded = run("--database-url", database_url, "--json", "db", "upgrade")
    assert upgraded.exit_code == 0 and set(json.loads(upgraded.stdout)) == {"revision"}
    loaded = json.loads(run("--database-url", database_url, "catalogue", "load", str(catalogue_dir), "--json").stdout)
    assert sorted(loaded["created"]) == ["bus-stops", "personal-si-base", "si-headcount"]
    created = CliRunner().invoke(main, ["--database-url", database_url, "users", "create", "--json", "--username",
                                        "ops", "--email", "ops@gz.gov.cn", "--role", "admin", "--password-stdin"],
                                 input="a long enough passphrase\n", catch_exceptions=False)
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["username"] == "ops"
    # a command with a --json of its own takes the flag before its name too
    assert ["公交", "巴士", "公共汽车", "bus"] in json.loads(run("--database-url", database_url, "--json", "search",
                                                         "synonyms").stdout)["groups"]
    listed = json.loads(run("--database-url", database_url, "users", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["state"]) for u in listed] == [("ops", "admin", "active")]
    refused = run("--database-url", database_url, "users", "disable", "nobody", "--json")
    assert refused.exit_code == 1 and json.loads(refused.stdout)["error"]["code"] == "not_found"
    assert len(refused.stderr.strip().splitlines()) == 1
    bad = write_catalogue(tmp_path / "bad", {**manifest(), "datasets": [{**manifest()["datasets"][0], "open_level": "open"}]})
    invalid = run("catalogue", "validate", str(bad), "--json")
    assert invalid.exit_code == 1
    assert any("unknown open level 'open'" in p for p in json.loads(invalid.stdout)["error"]["problems"])


def test_an_unreachable_portal_is_one_line_and_exit_3(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    assert run("compute", "keygen", "--out", str(key)).exit_code == 0
    for extra in ([], ["--json"]):
        result = run("compute", "register-key", *extra, "--portal", "http://127.0.0.1:1", "--client-id", "odc_x",
                     "--client-secret", "s", "--key", str(key))
        assert result.exit_code == 3, result.output
        assert result.stderr.strip().splitlines() == [
            "✗ cannot reach the portal at http://127.0.0.1:1 ([Errno 111] Connection refused)"]
        if extra:
            assert json.loads(result.stdout)["error"]["code"] == "portal_unreachable"
