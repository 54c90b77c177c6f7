"""Fixtures of the harvester's tests: a second portal of this repository (the remote), a
fresh local database on each backend, and small HTTP servers started in the test that
serve recorded CKAN answers and hostile ones."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # the core's own test helpers (tests/) start the portals
    sys.path.insert(0, str(REPO))

from opendata.db import Database  # noqa: E402
from opendata.settings import Settings  # noqa: E402
from tests.conftest import (  # noqa: E402,F401
    _opendata_environment_restored, migrated_sqlite_file, postgres_schema_url,
)

from harvest_support import FixtureServer, recorded_ckan  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _plugin_enabled() -> None:
    """The plugin enabled in this process, as OPENDATA_PLUGINS=harvest enables it: its
    metadata extension (the datasets' provenance) is read with manifests process-wide."""
    from opendata.extensions import load_plugins

    load_plugins(["harvest"])


@pytest.fixture
def local_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite, or a fresh PostgreSQL schema for a test parametrized with
    ``@pytest.mark.parametrize("local_database_url", BACKENDS, indirect=True)`` (few are:
    migrating a PostgreSQL schema takes seconds on a loaded machine)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        template = request.getfixturevalue("migrated_sqlite_file")
        shutil.copyfile(template, tmp_path / "local.db")
        yield f"sqlite:///{tmp_path / 'local.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def local_settings(local_database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "local", database_url=local_database_url, catalogues=(),
                    load_catalogues_on_startup=False, secure_cookies=False)


@pytest.fixture
def local_db(local_settings: Settings) -> Iterator[Database]:
    database = Database(local_settings.resolved_database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def ckan_server() -> Iterator[FixtureServer]:
    """A CKAN site answering from the recorded packages in fixtures/ckan (fresh per test:
    tests change what it lists)."""
    with recorded_ckan() as server:
        yield server
