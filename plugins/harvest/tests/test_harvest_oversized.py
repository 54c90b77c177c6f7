"""Oversized remotes: each file is bounded (test_harvest_hostile.py), and so is what one run
downloads in all (a run fetches every changed dataset's tables before it loads them) and
how many resources one remote dataset brings."""

from __future__ import annotations

from sqlalchemy import func, select

from opendata.catalogue.models import Dataset, Resource
from opendata.db import Database
from opendata.settings import Settings

from opendata_harvest import service, sources
from opendata_harvest.data_files import MAX_RESOURCES
from opendata_harvest.models import ensure_tables
from harvest_support import RecordedCkan

GOLD = "c322307a-b871-44fe-a602-32ee8437ff04"


def _add(local_db: Database, server: RecordedCkan) -> None:
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, "big", "ckan", server.url, domain="economy", with_data=True)


def _log(local_db: Database, run_id: int) -> list[dict]:
    with local_db.session() as session:
        return [e.as_dict() for e in service.run_log(session, run_id)]


def test_a_run_downloads_no_more_than_its_budget_and_the_next_run_goes_on(
        local_db: Database, local_settings: Settings, ckan_server: RecordedCkan) -> None:
    _add(local_db, ckan_server)
    # Datasets are read in the listing's order: air-quality-sensors (sensors.csv, 183
    # bytes), gold-prices (137 bytes), municipal-budget-2024 (no table). 200 bytes hold the first.
    run = service.run_source(local_db, local_settings, "big", max_run_data_bytes=200)
    log = _log(local_db, run.id)
    assert (run.created, run.status) == (2, "errors"), run.summary()
    waiting = [e for e in log if e["kind"] == "error" and "not harvested in this run" in e["message"]]
    assert [e["remote_id"] for e in waiting] == [GOLD] and "200 bytes" in waiting[0]["message"]
    with local_db.session() as session:
        assert session.get(Dataset, "gold-prices") is None
    downloads = [r for r in ckan_server.requests if "/download/" in r]
    assert sum("gold-prices-monthly.csv" in r for r in downloads) <= 1  # asked once, refused by its length
    # The next run (the default budget) takes the waiting dataset up; the others are unchanged.
    again = service.run_source(local_db, local_settings, "big")
    assert (again.created, again.unchanged) == (1, 2), again.summary()
    with local_db.session() as session:
        rows = session.scalar(select(Resource.row_count).where(Resource.dataset_id == "gold-prices",
                                                               Resource.format == "csv"))
    assert rows == 5


def test_a_remote_dataset_with_too_many_resources_brings_the_first_ones(
        local_db: Database, local_settings: Settings, ckan_server: RecordedCkan) -> None:
    gold = next(p for p in ckan_server.packages if p["id"] == GOLD)
    gold["resources"] += [{"id": f"doc-{n}", "name": f"Document {n}", "format": "PDF",
                           "url": f"https://docs.example/{n}.pdf"} for n in range(3 * MAX_RESOURCES)]
    _add(local_db, ckan_server)
    run = service.run_source(local_db, local_settings, "big")
    log = _log(local_db, run.id)
    capped = [e for e in log if e["kind"] == "error" and e["remote_id"] == GOLD]
    assert capped and f"lists {3 * MAX_RESOURCES + 2:,} resources" in capped[0]["message"], log
    with local_db.session() as session:
        count = session.scalar(select(func.count()).select_from(Resource).where(Resource.dataset_id == "gold-prices"))
    assert count == MAX_RESOURCES
    assert run.created == 3


def test_the_run_command_takes_the_budget_in_mb(tmp_path, migrated_sqlite_file, ckan_server: RecordedCkan) -> None:  # noqa: ANN001
    import json
    import shutil

    from click.testing import CliRunner

    from opendata.cli import main

    shutil.copyfile(migrated_sqlite_file, tmp_path / "local.db")
    env = {"OPENDATA_PLUGINS": "harvest", "OPENDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'local.db'}",
           "OPENDATA_DATA_DIR": str(tmp_path / "data")}

    def cli(*args: str):  # noqa: ANN202
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    big = b"a,b\n" + b"1,2\n" * 175_000  # 700 kB: two of them pass 1 MB
    for package, name in ((p, f"big-{p['name']}.csv") for p in ckan_server.packages):
        ckan_server.files[name] = big
        package["resources"].append({"id": f"big-{package['name']}", "name": "Big", "format": "CSV",
                                     "url": f"{ckan_server.url}/dataset/{package['id']}/resource/big/download/{name}"})
    assert cli("harvest", "source", "add", "big", ckan_server.url, "--type", "ckan", "--domain", "economy",
               "--with-data").exit_code == 0
    assert cli("harvest", "run", "big", "--max-run-data-mb", "0").exit_code == 2
    ran = cli("harvest", "run", "big", "--max-run-data-mb", "1", "--json")
    assert ran.exit_code == 1, ran.output
    first, = json.loads(ran.stdout)["runs"]
    status = json.loads(cli("harvest", "status", "big", "--kind", "error", "--json").stdout)
    waiting = [e for e in status["log"]["entries"] if "not harvested in this run" in e["message"]]
    assert len(waiting) == first["listed"] - first["created"] >= 1
    assert all("1,048,576 bytes" in e["message"] for e in waiting)
