"""Engine, sessions, the declarative Base and schema migrations.

SQLite is the embedded default; PostgreSQL is the scale-out path. The same code runs on
both: only the URL differs.
"""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


# The key of a session's ``info`` that names its deployment's time zone (opendata.localtime).
TIMEZONE_INFO_KEY = "opendata.timezone"
# The key of a session's ``info`` that holds its application's plugin registry.
EXTENSIONS_INFO_KEY = "opendata.extensions"
# The same for code that holds an engine rather than a session (the use counters).
ENGINE_TIMEZONES: "weakref.WeakKeyDictionary[Engine, str]" = weakref.WeakKeyDictionary()


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # First: switching a fresh file to WAL needs its lock, which a process starting at the
    # same moment may hold; with the timeout set first, the switch waits instead of failing.
    cursor.execute("PRAGMA busy_timeout=30000")
    # WAL lets readers keep reading the old rows while an ingest replaces a table.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


DEFAULT_POOL_SIZE = 20
DEFAULT_POOL_TIMEOUT = 5.0


def make_engine(url: str, *, echo: bool = False, pool_size: int = DEFAULT_POOL_SIZE,
                pool_timeout: float = DEFAULT_POOL_TIMEOUT) -> Engine:
    """An engine whose pool holds ``pool_size`` connections (a few more for start-up and
    background work) and makes a caller wait at most ``pool_timeout`` seconds for one."""
    pool = {"pool_size": pool_size, "max_overflow": 4, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        in_memory = not path or path == ":memory:"
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False},
                               **({} if in_memory else pool))
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **pool)


# Threads of one process take turns at start-up work (a lock object of the module, not of
# the Database: Litestar deep-copies application state, and locks cannot be copied).
_STARTUP_THREADS = threading.RLock()


class Database:
    """One engine and its session factory; created lazily by whoever needs a connection."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = DEFAULT_POOL_SIZE,
                 pool_timeout: float = DEFAULT_POOL_TIMEOUT, timezone: str | None = None,
                 extensions: Any = None, usage_flush_seconds: float = 0.0) -> None:
        self.url = url
        # > 0: API row query counts are written in batches (opendata.stats.batch).
        self.usage_flush_seconds = usage_flush_seconds
        # The application's plugin registry (opendata.extensions), carried by every session.
        self.extensions = extensions
        # The deployment's time zone travels with every session (opendata.localtime.zone_of).
        self.timezone = timezone
        self._echo = echo
        self._pool = {"pool_size": pool_size, "pool_timeout": pool_timeout}
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._startup_depth = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> "Database":
        # Litestar deep-copies route registrations and, with them, the plugins that provide
        # dependencies: without this each copy built its own engine, so one process had
        # several connection pools and the pool size meant nothing. One engine per app.
        return self

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url, echo=self._echo, **self._pool)
            if self.timezone:
                ENGINE_TIMEZONES[self._engine] = self.timezone
            if self.usage_flush_seconds > 0:
                from opendata.stats.batch import batch_usage  # stats imports db's models

                batch_usage(self._engine, self.usage_flush_seconds)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            info: dict[str, Any] = {TIMEZONE_INFO_KEY: self.timezone} if self.timezone else {}
            if self.extensions is not None:
                info[EXTENSIONS_INFO_KEY] = self.extensions
            self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        return self._sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    async def request_session(self) -> AsyncIterator[Session]:
        """A session for one request, closed on the event loop: its cleanup never waits for
        a worker thread, so threads busy in handlers cannot keep connections checked out
        (issue 10: with more requests than connections, sync cleanups queued behind handler
        threads waiting for connections stalled a process for the whole pool timeout)."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest revision (creates it on an empty database).

        Under the start-up lock: of several processes starting at once on an empty
        database, one migrates and the others wait, then find the schema at head."""
        with self.startup_lock():
            upgrade(self.engine)

    @contextmanager
    def startup_lock(self) -> Iterator[None]:
        """Hold the database-wide start-up lock: a PostgreSQL advisory lock, or on SQLite an
        exclusive ``flock`` on ``<database file>.lock`` (not a database lock: the work done
        under it writes to the database on other connections). Re-entrant in a process."""
        with _STARTUP_THREADS:
            if self._startup_depth:
                self._startup_depth += 1
                try:
                    yield
                finally:
                    self._startup_depth -= 1
                return
            with _process_lock(self):
                self._startup_depth = 1
                try:
                    yield
                finally:
                    self._startup_depth = 0

    def dispose(self) -> None:
        if self._engine is not None:
            from opendata.stats.batch import close_usage

            close_usage(self._engine)  # the counts not yet written, before the pool goes
            self._engine.dispose()
            self._engine = None
            self._sessions = None


def pg_lock_key(name: str) -> str:
    """An advisory-lock key (SQL) for ``name`` in the connection's current schema.

    PostgreSQL's advisory locks belong to the whole database: a fixed key made every
    deployment sharing a database in other schemas (and every test schema) wait for the
    others' start-ups, loads and audit appends. The schema is part of the key."""
    assert name.replace(".", "").replace("_", "").isalnum()  # a constant of ours, never input
    return f"hashtext('{name}:' || current_schema())"


STARTUP_LOCK = "opendata.startup"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another backend or an in-memory database."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


@contextmanager
def _process_lock(database: Database) -> Iterator[None]:
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            key = pg_lock_key(STARTUP_LOCK)
            connection.execute(text(f"SELECT pg_advisory_lock({key})"))
            try:
                yield
            finally:
                connection.execute(text(f"SELECT pg_advisory_unlock({key})"))
        return
    path = sqlite_path(database.url)
    if path is None:
        yield  # in memory: no other process can see this database
        return
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


ROW_TABLE_PREFIX = "rows_"
# Backend-specific indexes that migrations create but the models cannot express.
UNMODELLED_INDEXES = {"ix_search_documents_document"}
# SQLite's FTS5 index of the catalogue search and its shadow tables (search/index.py).
UNMODELLED_TABLE_PREFIXES = ("search_fts",)


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    """What migrations manage: not the resource row tables, which the row store creates
    from data dictionaries at run time."""
    if type_ == "table" and name and name.startswith((ROW_TABLE_PREFIX, *UNMODELLED_TABLE_PREFIXES)):
        return False
    if type_ == "index" and name in UNMODELLED_INDEXES:
        return False
    return True


def alembic_config(engine: Engine):  # noqa: ANN201 - alembic is imported lazily
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    import opendata.models  # noqa: F401  (registers every table on Base.metadata)

    command.upgrade(alembic_config(engine), revision)


def version_table_schema(connection: Connection) -> str | None:
    """Where Alembic's version table is: on PostgreSQL the schema the tables go to (the
    first existing schema of the search path). Unqualified, Alembic would also find an
    alembic_version further down the path (e.g. in public) and take a fresh schema for one
    already migrated to another database's revision."""
    if connection.dialect.name != "postgresql":
        return None
    return connection.exec_driver_sql("SELECT current_schema()").scalar()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(
            connection, opts={"version_table_schema": version_table_schema(connection)}).get_current_revision()
