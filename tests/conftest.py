"""Shared fixtures: real databases (SQLite file, and PostgreSQL when one answers)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest
from sqlalchemy import MetaData, Table, create_engine, text
from sqlalchemy.pool import NullPool

from argon2 import PasswordHasher

from opendata.access import passwords
from opendata.db import Database
from opendata.settings import Settings
from tests.factories import write_catalogue

if TYPE_CHECKING:
    from litestar.testing import TestClient

# Every test portal proves against the committed ring-Pedersen parameters instead of
# generating its own (two safe primes: ~10 s per database).
os.environ.setdefault("OPENDATA_COMPUTE_PARAMETERS_FILE",
                      str(Path(__file__).parent / "compute" / "proofs" / "fixtures" / "ring_pedersen_2048.json"))

# Tests create and sign in thousands of accounts: argon2id at its production cost (64 MiB,
# 3 passes: 0.1-0.4 s a hash or a check on this machine) was a large share of the suite's
# time. Here, in the test processes only, it is cheap; tests/access/test_accounts.py checks
# the production parameters of passwords.make_hasher(), and servers the tests start in
# other processes keep them (they verify these hashes by the parameters each hash names).
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)

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
    one migrated once per process), or the process's PostgreSQL schema, emptied
    (ReusedSchema). For a database with no schema at all: ``empty_database_url``."""
    if request.param == "sqlite":
        target = tmp_path / "opendata.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), target)
        yield f"sqlite:///{target}"
        return
    reused: ReusedSchema = request.getfixturevalue("reused_postgres_schema")
    yield reused.reset()


class ReusedSchema:
    """One PostgreSQL schema per test process, migrated once and emptied before each test:
    its row tables and staging tables dropped, every table emptied, and what the migrations
    wrote (the version row, the default synonyms) and the sequences put back. A test that
    changed the schema itself (dropped a trigger, say) gets a new, freshly migrated one."""

    FINGERPRINT = text("""
        SELECT md5(concat_ws('|',
          (SELECT string_agg(c.relname::text || '.' || t.tgname::text || t.tgenabled::text, ','
                             ORDER BY c.relname, t.tgname)
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = to_regnamespace(:s) AND NOT t.tgisinternal),
          (SELECT string_agg(c.relname::text || c.relkind::text || '.' || coalesce(a.attname::text, '')
                             || coalesce(a.atttypid::text, '') || coalesce(a.attnotnull::text, ''), ','
                             ORDER BY c.relname, a.attnum)
             FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = to_regnamespace(:s)),
          (SELECT string_agg(conname::text || contype::text, ',' ORDER BY conname)
             FROM pg_constraint WHERE connamespace = to_regnamespace(:s)),
          (SELECT string_agg(proname::text || md5(prosrc), ',' ORDER BY proname)
             FROM pg_proc WHERE pronamespace = to_regnamespace(:s))))""")

    def __init__(self) -> None:
        self.generation = 0
        self._build()

    def _build(self) -> None:
        self._schema_url = postgres_schema_url()
        self.url = self._schema_url.__enter__()
        self.schema = self.url.rsplit("%3D", 1)[1].split(",")[0]
        template = Database(self.url)
        template.migrate()
        template.dispose()
        self.admin = create_engine(self.url, poolclass=NullPool)
        with self.admin.connect() as connection:
            self.tables = set(self._tables(connection))
            self.seeds = {Table(name, MetaData(), autoload_with=connection): [dict(row) for row in rows]
                          for name in sorted(self.tables)
                          if (rows := connection.execute(text(f'SELECT * FROM "{name}"')).mappings().all())}
            self.sequences = connection.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = :s"), {"s": self.schema}).all()
            self.fingerprint = connection.scalar(self.FINGERPRINT, {"s": self.schema})

    def _tables(self, connection) -> list[str]:  # noqa: ANN001
        return list(connection.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": self.schema}))

    # The process's search caches (doc values, facet counts, synonyms, suggestions, DCAT
    # pages) are keyed by (database URL, index generation) and trust that a document id
    # never names other content: as in production, the emptied schema never rewinds the
    # generation or the documents' id sequence (before, a test that reached the previous
    # test's generation was served its listing totals and facet counts).
    SEARCH_SEQUENCE = "search_documents_doc_id_seq"

    def reset(self) -> str:
        with self.admin.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            self.generation = max(self.generation, connection.scalar(text(
                "SELECT generation FROM search_state WHERE id = 1")) or 0)
            for name in set(self._tables(connection)) - self.tables:
                connection.execute(text(f'DROP TABLE "{name}" CASCADE'))
            changed = connection.scalar(self.FINGERPRINT, {"s": self.schema}) != self.fingerprint
        if changed:
            self.close()
            self._build()
            return self.url
        with self.admin.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            # The audit table's triggers refuse DELETE (append-only); the replica role skips
            # them and the foreign-key checks. DELETE, not TRUNCATE: a test leaves a few
            # rows, and TRUNCATE of ~50 tables makes new files for each (seconds).
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for name in sorted(self.tables):
                connection.execute(text(f'DELETE FROM "{name}"'))
            for table, rows in self.seeds.items():
                connection.execute(table.insert(), rows)
            for sequence, value in self.sequences:  # as the migrations left them
                if sequence != self.SEARCH_SEQUENCE:
                    connection.execute(text("SELECT setval(:q, :v, :called)"),
                                       {"q": f'"{sequence}"', "v": value or 1, "called": value is not None})
            connection.execute(text("INSERT INTO search_state (id, generation) VALUES (1, :g)"),
                               {"g": self.generation + 1})
        return self.url

    def close(self) -> None:
        self.admin.dispose()
        self._schema_url.__exit__(None, None, None)


@pytest.fixture(scope="session")
def reused_postgres_schema() -> Iterator[ReusedSchema]:
    reused = ReusedSchema()
    yield reused
    reused.close()


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
    "tests/test_serve_shutdown.py", "tests/portal/test_accessibility.py", "tests/test_no_server_errors.py",
    "tests/test_under_load.py", "tests/compute/test_jobs.py", "tests/search/test_scale_paths.py",
    "tests/interop/test_openapi.py", "tests/test_startup.py", "tests/compute/test_intersection.py",
    "tests/portal/test_ingest_while_serving.py", "tests/portal/test_screenshots.py",
    "tests/catalogue/test_streaming.py", "tests/compute/test_shutdown.py", "tests/portal/test_upload_spool.py",
    "tests/access/test_deployment.py", "tests/demo/test_generator.py", "tests/showcase/test_api.py",
)
# The compute package's world (tests/compute/conftest.py) runs on both backends; its
# modules whose SQL differs by backend (quotas, budgets, job state, grants, key
# registration) keep the PostgreSQL half, the others (the cryptography and the protocols,
# the same code on either database) run on SQLite only, to keep CI within its time.
# Access control is the same SQL on both backends except where rows are counted or keys
# and tokens race: those modules keep the PostgreSQL half.
ACCESS_MODULES_ON_POSTGRES = {
    "test_concurrency.py", "test_concurrent_counting.py", "test_deployment.py", "test_token_state.py",
    "test_keys_at_rest.py", "test_download_accounting.py", "test_sign_in_throttle.py",
}
COMPUTE_MODULES_ON_POSTGRES = {
    "test_api_access.py", "test_api_keys.py", "test_intersection.py", "test_jobs.py", "test_hidden_query_jobs.py",
    "test_job_pages.py", "test_hidden_records.py", "test_side_doors.py", "test_shutdown.py", "test_job_cap.py",
}


# Pages, showcase, feedback, assets, interop shapes and the demo run the same queries as
# the API modules that keep their PostgreSQL half; they run on SQLite only (CI's time).
SQLITE_ONLY_PACKAGES = ("tests/portal/", "tests/showcase/", "tests/feedback/", "tests/assets/", "tests/interop/",
                        "tests/demo/")


def _compute_on_sqlite_only(item: pytest.Item) -> bool:
    path = item.nodeid.split("::")[0]
    if re.search(r"[\[-]postgresql[\]-]", item.nodeid) is None:
        return False
    if path.startswith(SQLITE_ONLY_PACKAGES):
        return True
    module = path.rsplit("/", 1)[-1]
    if path.startswith("tests/access/"):
        return module not in ACCESS_MODULES_ON_POSTGRES
    return path.startswith("tests/compute/") and module not in COMPUTE_MODULES_ON_POSTGRES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    dropped = [item for item in items if _compute_on_sqlite_only(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not _compute_on_sqlite_only(item)]
    rank = {path: index for index, path in enumerate(SLOW_MODULES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
