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
