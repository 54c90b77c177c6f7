"""Harvesting a second portal of our own: its CKAN Action API (/api/3/action/) and its
DCAT-AP documents (Turtle, JSON-LD, RDF/XML, paged with Hydra), into a local database (on both
backends for the CKAN one)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from opendata import create_app
from opendata.catalogue.models import Dataset, Resource
from opendata.db import Database
from opendata.settings import Settings
from tests.factories import write_catalogue

from opendata_harvest import service, sources
from opendata_harvest.models import ensure_tables
from harvest_support import BACKENDS


def _remote_settings(tmp: Path, migrated: Path) -> Settings:
    shutil.copyfile(migrated, tmp / "remote.db")
    return Settings(data_dir=tmp / "remote", database_url=f"sqlite:///{tmp / 'remote.db'}",
                    catalogues=(write_catalogue(tmp / "mini"),), load_catalogues_on_startup=True,
                    secure_cookies=False)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_file: Path) -> Iterator[TestClient]:
    """The second portal, with the mini catalogue (open, conditional and closed datasets)."""
    with TestClient(create_app(_remote_settings(tmp_path_factory.mktemp("remote"), migrated_sqlite_file))) as client:
        yield client


def _add(local_db: Database, name: str, url: str, **options) -> None:
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, name, "ckan" if "/api/3/" in url else "dcat", url, domain="urban", **options)


def _datasets(local_db: Database, catalogue: str) -> dict[str, Dataset]:
    with local_db.session() as session:
        return {d.id: d for d in session.scalars(select(Dataset).where(Dataset.catalogue_id == catalogue)
                                                 .options(selectinload(Dataset.tags)))}


def _resources(local_db: Database) -> dict[str, Resource]:
    with local_db.session() as session:
        return {f"{r.dataset_id}/{r.id}": r for r in session.scalars(select(Resource))}


@pytest.mark.parametrize("local_database_url", BACKENDS, indirect=True)
def test_its_ckan_api_with_rows_of_open_data_only(remote: TestClient, local_db: Database,
                                                  local_settings: Settings) -> None:
    _add(local_db, "second", f"{remote.base_url}/api/3/action/", with_data=True)
    run = service.run_source(local_db, local_settings, "second", client=remote)
    assert (run.status, run.listed, run.created) == ("ok", 3, 3), run.summary()
    datasets = _datasets(local_db, "harvest-second")
    bus = datasets["bus-stops"]
    assert (bus.title_zh, bus.title_en, bus.domain, bus.licence) == ("广州市公交站点", "Guangzhou bus stops",
                                                                     "transport", "gz-open-data-1.0")
    # The remote's conditional and closed datasets stay so here, and their rows are not copied.
    assert (datasets["si-headcount"].open_level, datasets["personal-si-base"].open_level) == ("conditional", "closed")
    resources = _resources(local_db)
    # One local resource per remote table, not one per download format the remote lists.
    assert sorted(r for r in resources if r.startswith("bus-stops/")) == ["bus-stops/stops"]
    assert resources["bus-stops/stops"].row_count == 3
    assert resources["si-headcount/monthly"].table_name is None and resources["si-headcount/monthly"].format == "link"
    assert bus.publisher_id == "second-gz-transport"


@pytest.mark.parametrize("extension", ["ttl", "jsonld", "rdf"])
def test_its_dcat_documents_in_each_serialisation_page_by_page(remote: TestClient, local_db: Database,
                                                               local_settings: Settings, extension: str) -> None:
    _add(local_db, "dcat", f"{remote.base_url}/catalog.{extension}?page_size=2", id_prefix="d",
         publisher="city-b", publisher_name="B 市政务服务数据管理局")
    run = service.run_source(local_db, local_settings, "dcat", client=remote)
    assert (run.status, run.listed, run.created) == ("ok", 3, 3), run.summary()
    datasets = _datasets(local_db, "harvest-dcat")
    bus = datasets["d-bus-stops"]
    assert (bus.title_zh, bus.title_en, bus.domain, bus.open_level, bus.update_frequency, bus.licence) == (
        "广州市公交站点", "Guangzhou bus stops", "transport", "unconditional", "monthly", "gz-open-data-1.0")
    assert sorted(bus.tag_names) == ["bus", "公交"]
    assert datasets["d-personal-si-base"].open_level == "closed"
    assert sorted(r for r in _resources(local_db) if r.startswith("d-bus-stops/")) == ["d-bus-stops/stops"]
    assert {d.publisher_id for d in datasets.values()} == {"city-b"}  # one local publisher for the source
    again = service.run_source(local_db, local_settings, "dcat", client=remote)
    assert (again.unchanged, again.updated, again.withdrawn) == (3, 0, 0)
