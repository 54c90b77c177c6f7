"""CKAN package_search keeps each dataset's CKAN resources per process
(interop/ckan_package.py), but never past a change: new rows, a resource's new title and
a new open level show in the very next search, as in package_show."""

from __future__ import annotations

from pathlib import Path

import tomli_w
from litestar.testing import TestClient

from opendata.catalogue.commands import load_into, read_catalogue
from opendata.db import Database
from opendata.settings import Settings
from tests.factories import manifest


def searched_stops(client: TestClient) -> dict:
    found = client.get("/api/3/action/package_search", params={"q": "bus", "rows": 5}).json()["result"]
    (bus,) = [p for p in found["results"] if p["name"] == "bus-stops"]
    return next(r for r in bus["resources"] if r["id"] == "bus-stops.stops")


def shown_stops(client: TestClient) -> dict:
    bus = client.get("/api/3/action/package_show", params={"id": "bus-stops"}).json()["result"]
    return next(r for r in bus["resources"] if r["id"] == "bus-stops.stops")


def reload(portal_settings: Settings, catalogue_dir: Path) -> None:
    database = Database(portal_settings.resolved_database_url)  # another engine: as another process
    load_into(database, read_catalogue(catalogue_dir))
    database.dispose()


def test_new_rows_show_in_the_next_search(client: TestClient, portal_settings: Settings, catalogue_dir: Path) -> None:
    before = searched_stops(client)
    assert searched_stops(client) == before == shown_stops(client)
    stops = catalogue_dir / "data" / "stops.csv"
    stops.write_text(stops.read_text(encoding="utf-8") + "S004,体育中心,天河区,9\n", encoding="utf-8")
    reload(portal_settings, catalogue_dir)
    after = searched_stops(client)
    assert after["row_count"] == before["row_count"] + 1
    assert after["size"] > before["size"] and after["hash"] != before["hash"]
    assert after == shown_stops(client)


def test_a_changed_resource_and_open_level_show_in_the_next_search(
        client: TestClient, portal_settings: Settings, catalogue_dir: Path) -> None:
    assert searched_stops(client)["name"] == "公交站点表" and searched_stops(client)["size"]
    raw = manifest()
    bus = next(d for d in raw["datasets"] if d["id"] == "bus-stops")
    bus["resources"][0]["title_zh"] = "公交车站点表"
    bus["open_level"] = "conditional"
    (catalogue_dir / "catalogue.toml").write_text(tomli_w.dumps(raw), encoding="utf-8")
    reload(portal_settings, catalogue_dir)
    after = searched_stops(client)
    # A licensed download holds the licence's fields only: no single size or checksum.
    assert after["name"] == "公交车站点表" and after["size"] is None and after["hash"] == ""
    assert after == shown_stops(client)
