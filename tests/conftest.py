"""Shared fixtures: real databases (SQLite file, and PostgreSQL when one answers)."""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest
from sqlalchemy import create_engine, text

from opendata.db import Database
from opendata.settings import Settings
from tests.factories import write_catalogue

if TYPE_CHECKING:
    from litestar.testing import TestClient

# Every test portal proves against the committed ring-Pedersen parameters instead of
# generating its own (two safe primes: ~10 s per database).
os.environ.setdefault("OPENDATA_COMPUTE_PARAMETERS_FILE",
                      str(Path(__file__).parent / "compute" / "proofs" / "fixtures" / "ring_pedersen_2048.json"))

POSTGRES_URL = os.environ.get(
    "OPENDATA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_postgres_ok: bool | None = None


def postgres_available() -> bool:
    global _postgres_ok
    if _postgres_ok is None:
        try:
            engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
            with engine.connect() as connection:
                connection.execute(text("select 1"))
            engine.dispose()
            _postgres_ok = True
        except Exception:
            _postgres_ok = False
    return _postgres_ok


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL whose search path is a fresh PostgreSQL schema, dropped afterwards."""
    if not postgres_available():
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema},public"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per test process, for tests to copy: a
    copy takes a millisecond, running the migrations about a second."""
    path = tmp_path_factory.mktemp("migrated") / "opendata.db"
    template = Database(f"sqlite:///{path}")
    template.migrate()
    template.dispose()  # the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest schema on each backend: a SQLite file (a copy of
    one migrated once per process), or a new PostgreSQL schema (empty; the first
    ``migrate`` creates it). For a database with no schema at all: ``empty_database_url``."""
    if request.param == "sqlite":
        target = tmp_path / "opendata.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), target)
        yield f"sqlite:///{target}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it on each backend (start-up and migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'opendata.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        catalogues=(),
        load_catalogues_on_startup=False,
        secure_cookies=False,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.resolved_database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    return write_catalogue(tmp_path / "mini")


@pytest.fixture
def portal_settings(settings: Settings, catalogue_dir: Path) -> Settings:
    """Settings of a portal that loads the mini catalogue on startup."""
    return settings.replace(catalogues=(catalogue_dir,), load_catalogues_on_startup=True)


@pytest.fixture
def client(portal_settings: Settings) -> Iterator["TestClient"]:
    from litestar.testing import TestClient

    from opendata import create_app

    with TestClient(create_app(portal_settings)) as test_client:
        yield test_client


from tests.data_fixtures import data_catalogue, data_client, data_settings  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _opendata_environment_restored() -> Iterator[None]:
    """The CLI puts --data-dir and --database-url into OPENDATA_* variables of its own
    process (so that what it starts sees them); in a test process they would outlive the
    test and point later tests at another test's (dropped) database."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("OPENDATA_")}
    yield
    for name in [k for k in os.environ if k.startswith("OPENDATA_") and k not in saved]:
        del os.environ[name]
    os.environ.update(saved)


# The longest modules (servers, load, schemathesis) start first: xdist hands out whole
# files in collection order, and these sort last by name, leaving a tail of one busy
# worker and idle others at the end of the run.
SLOW_MODULES_FIRST = (
    "tests/test_serve_shutdown.py", "tests/test_no_server_errors.py", "tests/test_under_load.py",
    "tests/interop/test_openapi.py", "tests/test_startup.py", "tests/portal/test_ingest_while_serving.py",
    "tests/portal/test_screenshots.py", "tests/catalogue/test_streaming.py", "tests/compute/test_shutdown.py",
    "tests/portal/test_upload_spool.py", "tests/access/test_deployment.py", "tests/demo/test_generator.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(SLOW_MODULES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
