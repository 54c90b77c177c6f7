"""Plugins through the entry-point group opendata.plugins: discovery, the clear start-up
failures, and every extension point of the example plugin reached through its door
(HTTP API, portal page, CKAN, DCAT, OpenAPI, CLI, events)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from litestar.testing import TestClient

from opendata import create_app
from opendata.access import passwords
from opendata.cli import main
from opendata.extensions import (
    DATASET_UPDATED, DOWNLOAD_SERVED, LICENCE_APPROVED, PluginError, Registry, load_plugins,
)
from opendata.extensions.events import EventHook
from opendata.extensions.formats import Exporter, ImportedTable, Importer
from opendata.extensions.harvest import Harvester
from opendata.extensions.loader import Plugin
from opendata.extensions.metadata import MetadataExtension
from opendata.formats.limits import ReadLimits
from opendata.settings import Settings
from tests.access.helpers import bearer, licensed_enterprise
from tests.extensions.fake_dist import installed_plugins
from tests.portal.helpers import sign_in
from tests.factories import DATA, manifest, write_catalogue

ENTRY_POINTS = {
    "example": "opendata_example:register",
    "broken-import": "opendata_example.broken_import:register",
    "broken-register": "opendata_example.broken_register",
    "broken-routes": "opendata_example.broken_routes",
}
STOPS = "/api/v1/datasets/bus-stops/resources/stops/download"
HEADCOUNT = "/api/v1/datasets/si-headcount/resources/monthly/download"


@pytest.fixture(scope="module")
def plugin_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("site")
    with installed_plugins(folder, ENTRY_POINTS):
        yield folder


def themed(priority: object = 2) -> dict:
    """The mini catalogue, bus-stops with the example plugin's metadata extension."""
    raw = manifest()
    raw["datasets"][0]["extensions"] = {"example": {"theme": " 交通出行 ", "priority": priority}}
    return raw


@pytest.fixture(scope="module")
def portal(plugin_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The mini catalogue on a portal with the example plugin enabled."""
    root = tmp_path_factory.mktemp("portal")
    url = f"sqlite:///{root / 'opendata.db'}"
    settings = Settings(data_dir=root / "data", database_url=url, catalogues=(write_catalogue(root / "mini", themed()),),
                        secure_cookies=False, plugins=("example",))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with TestClient(create_app(settings)) as client:
            yield client, url


def test_each_interface_has_its_test_double(plugin_folder: Path) -> None:
    import opendata_example as example

    assert isinstance(example.TSV, Exporter)
    assert isinstance(example.PsvImporter(), Importer)
    assert isinstance(example.JsonListHarvester(), Harvester)
    assert isinstance(example.ExampleMetadata(), MetadataExtension)
    assert isinstance(example.EVENTS.append, EventHook)
    assert isinstance(example, Plugin)  # a module with register()


def test_unknown_broken_and_conflicting_plugins_are_one_line_naming_them(plugin_folder: Path) -> None:
    with pytest.raises(PluginError) as unknown:
        load_plugins(["harvset"])
    assert str(unknown.value).startswith("plugin 'harvset': is not installed (installed opendata.plugins plugins: ")
    assert "example" in str(unknown.value)
    with pytest.raises(PluginError) as broken:
        load_plugins(["example", "broken-import"])
    message = str(broken.value)
    assert message.startswith("plugin 'broken-import': cannot be imported (opendata_example.broken_import:register)")
    assert "opendata_no_such_module" in message and "\n" not in message
    with pytest.raises(PluginError, match=r"^plugin 'broken-register': failed to register: RegistrationError: "
                                          r"format 'csv' is already registered by core$"):
        load_plugins(["broken-register"])
    # Refused when it registers, with its name, not by Litestar when the application is built.
    with pytest.raises(PluginError, match=r"^plugin 'broken-routes': failed to register: RegistrationError: "
                                          r"rows_by_district is not a Litestar route handler \(decorated with @get"):
        load_plugins(["broken-routes"])
    with pytest.raises(PluginError, match="named twice"):
        load_plugins(["example", "example"])
    # Settings: a comma-separated environment variable.
    assert Settings.from_env({"OPENDATA_PLUGINS": "example, harvest,"}).plugins == ("example", "harvest")


def test_a_broken_plugin_stops_start_up_and_serve(plugin_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="^plugin 'broken-import'"):
        create_app(Settings(data_dir=tmp_path, plugins=("broken-import",)))
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve", "--port", "1"],
                                env={"OPENDATA_PLUGINS": "nope"})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("✗ plugin 'nope': is not installed (installed opendata.plugins plugins: ")
    assert all(name in lines[0] for name in ENTRY_POINTS)


def test_a_plugin_adds_a_cli_group(plugin_folder: Path) -> None:
    result = CliRunner().invoke(main, ["example", "hello", "城市"], env={"OPENDATA_PLUGINS": "example"})
    assert result.exit_code == 0, result.output
    assert result.output == "hello 城市 from the example plugin\n"
    # Installed but not enabled: no such command.
    assert CliRunner().invoke(main, ["example", "hello", "x"], env={"OPENDATA_PLUGINS": ""}).exit_code == 2


def test_a_plugin_format_is_a_download_with_the_core_pipeline(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    from opendata_example import EVENTS

    EVENTS.clear()
    response = client.get(STOPS, params={"format": "tsv", "district": "天河区", "header": "titles"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    assert ".tsv" in response.headers["content-disposition"]
    assert response.headers["etag"].startswith('"')  # reproducible: a strong ETag
    assert response.text == "站点编号 / Stop ID\t站点名称 / Name\t所属区 / District\t线路数 / Lines\nS001\t天河客运站\t天河区\t12\n"
    served = [e for e in EVENTS if e.name == DOWNLOAD_SERVED]
    assert [(e.data["dataset"], e.data["format"], e.data["rows"], e.data["licence"]) for e in served] == [
        ("bus-stops", "tsv", 1, None)]
    bad = client.get(STOPS, params={"format": "tsv", "header": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"


def test_a_licensed_resource_in_a_plugin_format_needs_its_token(portal: tuple[TestClient, str]) -> None:
    client, url = portal
    from opendata_example import EVENTS

    refused = client.get(HEADCOUNT, params={"format": "tsv"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "licence_required"
    assert "91440101" not in refused.text
    EVENTS.clear()
    licensed = licensed_enterprise(client, url, username="tsv-co")
    approved = [e for e in EVENTS if e.name == LICENCE_APPROVED]
    assert [(e.data["licence"], e.data["datasets"]) for e in approved] == [(licensed.licence_id, ["si-headcount"])]
    sign_in(client, "tsv-co")  # the portal's page "Use your licence" links every format
    use = client.get(f"/workspace/licences/{licensed.licence_id}")
    assert use.status_code == 200 and "download?format=tsv&amp;fields=month,headcount" in use.text
    token = licensed.token(client)
    client.cookies.clear()
    response = client.get(HEADCOUNT, params={"format": "tsv"}, headers=bearer(token))
    assert response.status_code == 200, response.text
    # The licence's fields only (month, headcount): the credit code is not licensed.
    assert response.text.splitlines()[0] == "month\theadcount"
    assert response.headers["cache-control"] == "no-store"
    narrowed = client.get(HEADCOUNT, params={"format": "tsv", "fields": "credit_code"}, headers=bearer(token))
    assert narrowed.status_code == 403 and narrowed.json()["error"]["code"] == "field_not_licensed"


def test_a_plugin_format_is_listed_everywhere(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    page = client.get("/datasets/bus-stops")
    assert 'data-format="download.tsv"' in page.text and "TSV（制表符分隔）" in page.text
    assert "TSV (tab-separated)" in client.get("/datasets/bus-stops?lang=en").text
    dataset = client.get("/api/v1/datasets/bus-stops").json()
    assert [d["format"] for d in dataset["resources"][0]["downloads"]] == ["csv", "xlsx", "json", "ndjson", "tsv"]
    package = client.get("/api/3/action/package_show", params={"id": "bus-stops"}).json()["result"]
    tsv = [r for r in package["resources"] if r["format"] == "TSV"]
    assert len(tsv) == 1 and tsv[0]["url"].endswith("/download?format=tsv")
    shown = client.get("/api/3/action/resource_show", params={"id": tsv[0]["id"]}).json()["result"]
    assert shown["mimetype"] == "text/tab-separated-values"
    turtle = client.get("/catalog.ttl").text
    assert "download?format=tsv" in turtle and "file-type/TSV" in turtle
    schema = client.get("/schema/openapi.json").json()
    download = schema["paths"]["/api/v1/datasets/{dataset_id}/resources/{resource_id}/download"]["get"]
    enum = next(p for p in download["parameters"] if p["name"] == "format")["schema"]["enum"]
    assert "tsv" in enum and "text/tab-separated-values" in download["responses"]["200"]["content"]
    assert "/api/v1/example/formats" in schema["paths"]


def test_plugin_routes_pages_and_dataset_events(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    answer = client.get("/api/v1/example/formats")
    assert answer.json() == {"formats": ["csv", "json", "ndjson", "tsv", "xlsx"], "plugins": ["example"]}
    page = client.get("/example")
    assert page.status_code == 200 and "<li>tsv</li>" in page.text and "<nav" in page.text
    from opendata_example import EVENTS

    EVENTS.clear()
    admin_check = client.get("/api/v1/datasets/nope")
    assert admin_check.status_code == 404  # a request that changes nothing fires nothing
    assert [e for e in EVENTS if e.name == DATASET_UPDATED] == []


def test_the_start_up_load_fired_dataset_updated(plugin_folder: Path, tmp_path: Path) -> None:
    from opendata_example import EVENTS

    EVENTS.clear()
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                        catalogues=(write_catalogue(tmp_path / "mini"),), plugins=("example",))
    with TestClient(create_app(settings)):
        pass
    updated = sorted(e.data["dataset"] for e in EVENTS if e.name == DATASET_UPDATED)
    assert updated == ["bus-stops", "personal-si-base", "si-headcount"]


def test_without_the_plugin_the_format_does_not_exist(tmp_path: Path) -> None:
    registry = load_plugins(())
    assert isinstance(registry, Registry) and "tsv" not in registry.exporters
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                        catalogues=(write_catalogue(tmp_path / "mini"),))
    with TestClient(create_app(settings)) as client:
        response = client.get(STOPS, params={"format": "tsv"})
        assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_format"
        assert "download.tsv" not in client.get("/datasets/bus-stops").text


def test_metadata_extensions_are_validated_stored_and_shown(portal: tuple[TestClient, str], tmp_path: Path) -> None:
    client, _ = portal
    assert client.get("/api/v1/datasets/bus-stops").json()["extensions"] == {
        "example": {"theme": "交通出行", "priority": 2}}
    assert client.get("/api/v1/datasets/si-headcount").json()["extensions"] is None
    package = client.get("/api/3/action/package_show", params={"id": "bus-stops"}).json()["result"]
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["example.theme"] == "交通出行" and extras["example.priority"] == "2"
    assert "example_theme" in client.get("/catalog.ttl").text
    bad = write_catalogue(tmp_path / "bad", themed(priority=9))
    result = CliRunner().invoke(main, ["catalogue", "validate", str(bad)], env={"OPENDATA_PLUGINS": "example"})
    assert result.exit_code == 1
    assert "example: priority must be an integer from 1 to 5" in result.output


def test_a_cli_load_fires_the_hooks(plugin_folder: Path, tmp_path: Path) -> None:
    from opendata_example import EVENTS

    EVENTS.clear()
    folder = write_catalogue(tmp_path / "mini")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "catalogue", "load", str(folder)],
                                env={"OPENDATA_PLUGINS": "example"})
    assert result.exit_code == 0, result.output
    assert sorted(e.data["dataset"] for e in EVENTS if e.name == DATASET_UPDATED) == [
        "bus-stops", "personal-si-base", "si-headcount"]


def test_a_plugin_data_file_format_is_loaded_and_served(plugin_folder: Path, tmp_path: Path) -> None:
    """The example's PSV importer: a catalogue resource of format psv goes through the
    core's type checks into the row store; a bad file is the catalogue's problem."""
    raw = manifest()
    raw["datasets"][0]["resources"][0].update(format="psv", path="data/stops.psv")
    data = {**DATA, "data/stops.psv": "站点编号|站点名称|所属区|线路数\nP1|江南西|海珠区|7\n"}
    folder = write_catalogue(tmp_path / "psv", raw, data)
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                        catalogues=(folder,), plugins=("example",))
    with TestClient(create_app(settings)) as client:
        rows = client.get("/api/v1/datasets/bus-stops/resources/stops/rows").json()["items"]
        assert rows == [{"stop_id": "P1", "name": "江南西", "district": "海珠区", "lines": 7}]
        from opendata_example import PsvTable

        assert isinstance(PsvTable(folder / "data/stops.psv", None, ReadLimits()), ImportedTable)
    (folder / "data/stops.psv").write_text("站点编号|站点名称|所属区|线路数\nP2|x|y|many\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["catalogue", "validate", str(folder)], env={"OPENDATA_PLUGINS": "example"})
    assert result.exit_code == 1 and "many" in result.output, result.output
