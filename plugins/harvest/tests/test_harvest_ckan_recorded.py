"""Harvesting a real CKAN's answers: recorded CKAN 2.10 package_show dictionaries
(demo.ckan.org style, fixtures/ckan) served by a CKAN-shaped server started in the test,
which pages package_search two at a time as a site with a small rows_max does."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from opendata.catalogue.models import Dataset, Publisher, Resource
from opendata.db import Database
from opendata.settings import Settings

from opendata_harvest import service, sources
from opendata_harvest.models import HarvestObject, ensure_tables
from harvest_support import RecordedCkan

GOLD = "c322307a-b871-44fe-a602-32ee8437ff04"
AIR = "8d5e9a4c-5a30-4b7b-a2a8-2e0f2d2c6f9b"
BUDGET = "2b7f4c1e-9d3a-4e6f-8a5b-1c2d3e4f5a6b"


def _add(local_db: Database, server: RecordedCkan, **options) -> None:
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, "demo", "ckan", server.url, domain="economy", with_data=True, **options)


def _log(local_db: Database, run_id: int) -> list[dict]:
    with local_db.session() as session:
        return [e.as_dict() for e in service.run_log(session, run_id)]


def _dataset(local_db: Database, dataset_id: str) -> Dataset:
    with local_db.session() as session:
        return session.scalars(select(Dataset).where(Dataset.id == dataset_id).options(
            selectinload(Dataset.tags), selectinload(Dataset.resources).selectinload(Resource.fields))).one()


def test_recorded_ckan_packages_become_datasets_with_their_rows(local_db: Database, local_settings: Settings,
                                                                 ckan_server: RecordedCkan) -> None:
    _add(local_db, ckan_server, licence="CC0-1.0")
    run = service.run_source(local_db, local_settings, "demo")
    log = _log(local_db, run.id)
    assert (run.listed, run.created, run.updated, run.withdrawn) == (3, 3, 0, 0), log
    # Three search pages of two (rows_max 2), then one package_show per new package.
    searches = [r for r in ckan_server.requests if "package_search" in r]
    assert [("start=0" in r, "start=2" in r) for r in searches] == [(True, False), (False, True)]
    assert sum("package_show" in r for r in ckan_server.requests) == 3

    gold = _dataset(local_db, "gold-prices")
    assert (gold.catalogue_id, gold.title_zh, gold.licence, gold.domain) == ("harvest-demo", "Gold Prices",
                                                                             "CC-BY-4.0", "economy")
    assert gold.tag_names == ["commodities", "gold", "prices"]
    assert gold.update_frequency == "monthly" and gold.version == "1.2" and gold.contact == "jane.smith@example.org"
    assert gold.spatial_coverage is None  # a GeoJSON polygon is not a place name
    assert gold.source_system.endswith("/dataset/gold-prices")
    assert gold.extensions == {"harvest": {"source": "demo", "type": "ckan", "remote_id": GOLD,
                                           "remote_url": f"{ckan_server.url}/dataset/gold-prices"}}
    table, pdf = gold.resources
    assert (table.format, table.row_count, [f.name for f in table.fields]) == (
        "csv", 5, ["month", "price_usd", "source"])
    assert [f.type for f in table.fields] == ["date", "decimal", "string"]
    assert (pdf.format, pdf.table_name) == ("pdf", None)  # not a table: recorded, never downloaded
    assert pdf.description_zh == ("How the prices are collected.\n\n"
                                  "来源 / Source: https://www.lbma.org.uk/prices-and-data/methodology.pdf")
    assert not any("lbma.org.uk" in r for r in ckan_server.requests)

    air = _dataset(local_db, "air-quality-sensors")
    assert (air.licence, air.domain, air.tag_names) == ("ODbL-1.0", "environment", ["air quality", "空气质量"])
    sensors, readings = air.resources
    assert sensors.row_count == 3
    # The readings live on another host: not fetched (it could be inside our network),
    # recorded as a link, and the log says why.
    assert (readings.format, readings.table_name) == ("link", None)
    refused = [e for e in log if e["kind"] == "error"]
    assert len(refused) == 1 and refused[0]["remote_id"] == AIR and "not on an allowed host" in refused[0]["message"]
    assert run.status == "errors"

    budget = _dataset(local_db, "municipal-budget-2024")
    assert budget.description_zh == "Municipal budget 2024"  # CKAN allows empty notes; ours needs one
    assert (budget.licence, budget.temporal_start.isoformat(), budget.resources[0].format) == (
        "CC0-1.0", "2024-01-01", "json")  # the source's licence for a dataset that names none
    with local_db.session() as session:
        publishers = dict(session.execute(select(Publisher.id, Publisher.name_zh)
                                          .where(Publisher.catalogue_id == "harvest-demo")).all())
    assert publishers == {"demo-sample-organization": "Sample Organization",
                          "demo-city-environment-office": "City Environment Office", "demo-site": "CKAN Demo"}


def _workbook() -> bytes:
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["station_code", "名称 / Name", "opened"])
    sheet.append(["GZ-01", "广州站", 1974])
    sheet.append(["GZ-02", "广州南站", 2010])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_resource_and_resources_that_go_away(local_db: Database, local_settings: Settings,
                                                     ckan_server: RecordedCkan) -> None:
    air = next(p for p in ckan_server.packages if p["id"] == AIR)
    ckan_server.files["stations.xlsx"] = _workbook()
    air["resources"].append({"id": "stations", "name": "Stations", "format": "XLSX", "state": "active",
                             "url": f"{ckan_server.url}/dataset/{AIR}/resource/stations/download/stations.xlsx"})
    _add(local_db, ckan_server)
    service.run_source(local_db, local_settings, "demo")
    stations = next(r for r in _dataset(local_db, "air-quality-sensors").resources if r.id == "stations")
    assert (stations.format, stations.row_count) == ("xlsx", 2)
    assert [(f.name, f.title_zh, f.type) for f in stations.fields] == [
        ("station_code", "station_code", "string"), ("name", "名称", "string"), ("opened", "opened", "integer")]
    # The rows are in the row store; the run's downloads are gone with the run.
    assert list((local_settings.data_dir / "harvest" / "demo").iterdir()) == []

    air["resources"] = [r for r in air["resources"] if r["id"] != "stations"]
    air["metadata_modified"] = "2024-06-02T00:00:00.000001"
    service.run_source(local_db, local_settings, "demo")
    assert [r.id for r in _dataset(local_db, "air-quality-sensors").resources] == [
        "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9", "f0e1d2c3-b4a5-4968-8778-695a4b3c2d1e"]


def test_incremental_runs_read_only_what_changed_and_withdraw_what_went(local_db: Database, local_settings: Settings,
                                                                         ckan_server: RecordedCkan) -> None:
    _add(local_db, ckan_server)
    service.run_source(local_db, local_settings, "demo")
    ckan_server.requests.clear()

    again = service.run_source(local_db, local_settings, "demo")
    assert (again.created, again.updated, again.unchanged, again.status) == (0, 0, 3, "ok")
    assert not any("package_show" in r or "/download/" in r for r in ckan_server.requests)

    gold = next(p for p in ckan_server.packages if p["id"] == GOLD)
    gold["title"], gold["metadata_modified"] = "Gold prices (monthly)", "2024-06-01T10:00:00.000001"
    ckan_server.packages = [p for p in ckan_server.packages if p["id"] != BUDGET]
    ckan_server.requests.clear()
    third = service.run_source(local_db, local_settings, "demo")
    assert (third.listed, third.updated, third.unchanged, third.withdrawn) == (2, 1, 1, 1)
    assert [r for r in ckan_server.requests if "package_show" in r] == [f"/api/3/action/package_show?id={GOLD}"]
    assert _dataset(local_db, "gold-prices").title_zh == "Gold prices (monthly)"
    withdrawn = [e for e in _log(local_db, third.id) if e["kind"] == "withdrawn"]
    assert [(e["remote_id"], e["dataset"]) for e in withdrawn] == [(BUDGET, "municipal-budget-2024")]
    # Withdrawn upstream, kept here (with its licences, statistics, links), and marked.
    budget = _dataset(local_db, "municipal-budget-2024")
    assert budget.title_zh == "Municipal budget 2024" and budget.extensions["harvest"]["withdrawn"] is True
    with local_db.session() as session:
        states = dict(session.execute(select(HarvestObject.remote_id, HarvestObject.state)).all())
    assert states[BUDGET] == "withdrawn" and states[GOLD] == "active"


def test_a_remote_name_taken_by_another_catalogue_is_an_error_for_that_dataset(
        local_db: Database, local_settings: Settings, ckan_server: RecordedCkan) -> None:
    from tests.factories import write_catalogue
    from opendata.catalogue.commands import load_into, read_catalogue

    folder = write_catalogue(local_settings.data_dir / "mini")
    load_into(local_db, read_catalogue(folder), with_rows=False)
    ckan_server.packages[0]["name"] = "bus-stops"  # the local mini catalogue's dataset
    _add(local_db, ckan_server)
    run = service.run_source(local_db, local_settings, "demo")
    errors = [e for e in _log(local_db, run.id) if e["kind"] == "error" and e["remote_id"] == GOLD]
    assert "already belongs to catalogue 'mini'" in errors[0]["message"] and run.created == 2
    assert _dataset(local_db, "bus-stops").catalogue_id == "mini"


def test_a_run_that_stops_midway_leaves_no_half_written_state(local_db: Database, local_settings: Settings,
                                                              ckan_server: RecordedCkan, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    from opendata.catalogue.manifest import CatalogueError, Problem

    real_load, calls = service.load_into, []

    def failing(database, spec, **options):  # noqa: ANN001, ANN202
        calls.append([d.id for d in spec.datasets])
        if len(calls) == 1:  # the batch is refused: loaded one at a time
            raise CatalogueError([Problem("harvest:demo", "refused")])
        if len(calls) == 3:  # the second of those: the database goes away
            raise OperationalError("INSERT INTO datasets …", {}, Exception("disk I/O error"))
        return real_load(database, spec, **options)

    monkeypatch.setattr(service, "load_into", failing)
    _add(local_db, ckan_server)
    run = service.run_source(local_db, local_settings, "demo")
    assert calls[1:] == [["air-quality-sensors"], ["gold-prices"]]
    assert (run.status, run.created) == ("failed", 1) and run.message.startswith("OperationalError"), run.message
    with local_db.session() as session:
        loaded = set(session.scalars(select(Dataset.id).where(Dataset.catalogue_id == "harvest-demo")))
        remembered = set(session.scalars(select(HarvestObject.dataset_id)))
        stored = session.get(sources.HarvestSource, "demo")
    # What was loaded is remembered; nothing else was loaded; the source is free; no files stay.
    assert loaded == remembered == {"air-quality-sensors"}
    assert stored.running_since is None and stored.last_run_at is not None
    assert list((local_settings.data_dir / "harvest" / "demo").iterdir()) == []
    assert [e["kind"] for e in _log(local_db, run.id)] == ["error", "created"]  # the refused host, air

    monkeypatch.setattr(service, "load_into", real_load)
    ckan_server.requests.clear()
    again = service.run_source(local_db, local_settings, "demo")
    assert (again.status, again.created, again.unchanged) == ("ok", 2, 1), again.summary()
    assert sorted(r for r in ckan_server.requests if "package_show" in r) == [
        f"/api/3/action/package_show?id={BUDGET}", f"/api/3/action/package_show?id={GOLD}"]


def test_a_run_left_running_by_a_dead_process_is_marked_failed(local_db: Database, local_settings: Settings,
                                                               ckan_server: RecordedCkan) -> None:
    from datetime import timedelta

    from opendata.db import utcnow
    from opendata_harvest.models import HarvestRun

    _add(local_db, ckan_server)
    dead = utcnow() - timedelta(hours=7)
    with local_db.transaction() as session:
        assert sources.claim(session, "demo")
        session.get(sources.HarvestSource, "demo").running_since = dead
        session.add(HarvestRun(source_name="demo", started_at=dead))
    left = local_settings.data_dir / "harvest" / "demo" / "run-1" / "gold-prices"
    left.mkdir(parents=True)
    (left / "half.csv").write_bytes(b"month,pri")
    run = service.run_source(local_db, local_settings, "demo")
    assert run.status == "errors" and run.id == 2  # (the readings on another host)
    with local_db.session() as session:
        first = session.get(HarvestRun, 1)
    assert (first.status, first.message) == ("failed", "interrupted: the process running it stopped before it "
                                                       "finished")
    assert first.finished_at is not None
    assert list((local_settings.data_dir / "harvest" / "demo").iterdir()) == []


def test_a_table_whose_download_fails_keeps_its_rows(local_db: Database, local_settings: Settings,
                                                     ckan_server: RecordedCkan) -> None:
    _add(local_db, ckan_server)
    service.run_source(local_db, local_settings, "demo")
    gold = next(p for p in ckan_server.packages if p["id"] == GOLD)
    gold["metadata_modified"] = "2024-06-01T10:00:00.000001"
    gold["notes"] = "Monthly gold prices, revised."
    ckan_server.prefix_routes["/dataset/"] = lambda path, q: (503, {}, b"down for maintenance")
    run = service.run_source(local_db, local_settings, "demo")
    assert run.updated == 1
    error, = [e for e in _log(local_db, run.id) if e["kind"] == "error"]
    assert error["remote_id"] == GOLD and error["message"].endswith("answered HTTP 503; the rows of the last "
                                                                    "harvest are kept")
    table = _dataset(local_db, "gold-prices").resources[0]
    assert (table.format, table.row_count, len(table.fields)) == ("csv", 5, 3)
    assert _dataset(local_db, "gold-prices").description_zh == "Monthly gold prices, revised."
