"""A portal on the shipped demo catalogue's metadata (no rows: search reads none), per backend."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from litestar.testing import TestClient

from opendata import create_app
from opendata.catalogue.loader import load_catalogue
from opendata.catalogue.manifest import read_manifest
from opendata.db import Database
from opendata.settings import Settings, demo_catalogue_path
from tests.conftest import postgres_schema_url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'opendata.db'}"
        _load_demo(url)
        yield url
        return
    with postgres_schema_url() as url:
        _load_demo(url)
        yield url


def _load_demo(url: str) -> None:
    database = Database(url)
    database.migrate()
    with database.transaction() as session:
        load_catalogue(session, read_manifest(demo_catalogue_path()))
    database.dispose()


@pytest.fixture(scope="module")
def demo_client(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), database_url=demo_url, catalogues=(),
                        load_catalogues_on_startup=False, secure_cookies=False)
    with TestClient(create_app(settings)) as client:
        yield client


def ids(client: TestClient, **params: str) -> list[str]:
    response = client.get("/api/v1/datasets", params=params)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]
