"""Loading a new table generation without holding the database's write lock for the load.

Before, an ingest wrote the whole new generation inside the caller's transaction: on SQLite
that transaction holds the one write lock of the database for the whole load (12 minutes
for 3 million rows), so every sign-in, audit record and usage count of the portal waited
out its 30 s busy timeout and failed (issue 10).

Now a load has two steps:

1. **Staging.** The rows go into a hidden table ``rows_stage_<random>`` that no resource
   points at, in short committed transactions of ``STAGING_BATCH_ROWS`` rows each, on a
   connection of its own. Between batches (while the next batch is read and converted) the
   write lock is free, so other writers get in; readers never wait (WAL on SQLite, MVCC on
   PostgreSQL). A file that fails validation drops its staging table: nothing was visible.
2. **The swap**, in one short transaction of the caller's session: the staging table is
   renamed to the resource's next generation name and the resource points at it. Readers
   see the old rows or the new rows, never a mix. The old generation is dropped after a
   grace period (``drop_replaced_later``), or by the next sweep.

A staging table is owned by a per-load lock (``LoadLock``: an ``flock`` on a file beside
the SQLite database, or a PostgreSQL advisory lock), held from before the table exists
until it is swapped in or dropped. A process killed mid-load leaves its staging table
behind with the lock released (the kernel or the server releases it); ``sweep_staging``,
run at start-up and before catalogue loads, drops exactly those staging tables whose lock
is free, never the table of a load still running in another process.
"""

from __future__ import annotations

import logging
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import Engine, Index, MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from opendata.catalogue.load_lock import LoadLock
from opendata.catalogue.models import Resource
from opendata.catalogue.rowstore import (
    STAGING_PREFIX,
    IngestReport,
    TypedRows,
    _next_table_name,
    drop_orphan_row_tables,
    file_digest,
    row_table,
)
from opendata.db import sqlite_path, utcnow
from opendata.formats.limits import DEFAULT_LIMITS, ReadLimits
from opendata.quality.meter import QualityMeter
from opendata.versions.diff import Diff, diff_tables
from opendata.versions.record import (
    VersionSource, names_a_version, record_generation, retire_generations, sha256_of,
)

# Rows per committed transaction: small enough that another writer waits milliseconds for
# the lock, large enough that commits (an fsync each on SQLite's WAL) do not dominate.
STAGING_BATCH_ROWS = 5000
logger = logging.getLogger(__name__)
# How long a replaced generation outlives its swap (drop_replaced_later).
REPLACED_GRACE_SECONDS = 30.0


def staging_supported(engine: Engine) -> bool:
    """An in-memory SQLite database lives in one connection: staging on another is not
    possible, and no other process can be blocked by it anyway."""
    return engine.dialect.name != "sqlite" or sqlite_path(str(engine.url)) is not None


def _drop_table(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        Table(name, MetaData()).drop(connection, checkfirst=True)


def drop_replaced(engine: Engine, name: str) -> bool:
    """Drop a replaced generation once no resource points at it (after the swap committed).

    Not in the swap itself: on PostgreSQL a DROP waits for the readers still streaming the
    old rows (a long download), and every new reader of the table would queue behind it;
    here it waits at most a few seconds and otherwise leaves the table to the next sweep."""
    try:
        with engine.begin() as connection:
            if connection.scalar(select(Resource.pk).where(Resource.table_name == name).limit(1)) is not None:
                return False  # the swap was rolled back: still the served generation
            if names_a_version(connection, name):
                return False  # a kept generation (docs/versions.md), or a rolled-back retirement
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            Table(name, MetaData()).drop(connection, checkfirst=True)
        return True
    except OperationalError:
        logger.warning("replaced table %s is still in use; the next start-up or load drops it", name)
        return False


def drop_replaced_later(engine: Engine, name: str, delay: float | None = None) -> None:
    """Drop a replaced generation after a grace period, on a timer of this process.

    A reader looks the resource's table name up, then queries that table in a second
    statement: dropped at once, a request that looked it up just before the swap failed
    with "no such table" (1 in ~700 reads at the swap in benchmarks/ingest_concurrency.py).
    A process that exits first (the CLI) leaves the table to the next sweep."""
    delay = REPLACED_GRACE_SECONDS if delay is None else delay
    if delay <= 0:
        drop_replaced(engine, name)
        return

    def drop() -> None:
        try:
            drop_replaced(engine, name)
        except Exception:  # noqa: BLE001 - a timer thread has no caller to tell; the sweep retries
            logger.warning("could not drop the replaced table %s; the next sweep will", name, exc_info=True)

    timer = threading.Timer(delay, drop)
    timer.daemon = True
    timer.start()


def sweep_staging(engine: Engine) -> list[str]:
    """Drop the staging tables of loads that died (their lock is free) and generations no
    resource points at any more (a swap whose clean-up did not run); return their names."""
    if not staging_supported(engine):
        return []
    dropped = []
    try:
        with Session(engine) as session:
            dropped += drop_orphan_row_tables(session)
            session.commit()
    except SQLAlchemyError:  # e.g. a swap's own clean-up dropped one first: the next sweep
        logger.warning("could not drop the replaced row tables now; the next sweep will", exc_info=True)
    for name in inspect(engine).get_table_names():
        if not name.startswith(STAGING_PREFIX):
            continue
        lock = LoadLock(engine, name)
        if not lock.try_acquire():
            continue  # a load in progress, in this process or another
        try:
            _drop_table(engine, name)
            dropped.append(name)
        finally:
            lock.release()
    return dropped


@dataclass
class StagedTable:
    """A fully loaded, valid, not yet visible table generation."""

    name: str
    rows: int
    digest: str
    encoding: str | None
    # SHA-256 of the file's bytes (the version's file digest).
    sha256: str | None = None
    # Set by swap_in: the generation it replaces, dropped once the swap has committed
    # unless a version keeps it, and the kept generations it pushed out (docs/versions.md).
    replaced: str | None = None
    retired: list[str] = field(default_factory=list)
    # The diff against the generation named ``diff_base``, when computed before the swap's
    # transaction (a catalogue load diffs every staged table before its one transaction).
    diff: Diff | None = None
    diff_base: str | None = None
    # The quality meter fed its rows (opendata.quality), recorded by swap_in once measured.
    quality: QualityMeter | None = None


def _insert_batch(connection: Connection, table: Table, batch: list[dict[str, Any]]) -> None:
    with connection.begin():
        connection.execute(table.insert(), batch)


def _fill(engine: Engine, name: str, reader: TypedRows, index_keys: list[str],
          progress: Callable[[int], None] | None, batch_rows: int, meter: QualityMeter | None) -> Table:
    table = row_table(name, list(reader.fields))
    names = [f.name for f in reader.fields]
    with engine.connect() as connection:
        with connection.begin():
            table.create(connection)
            # Indexes first: built as the batches go in, so that no single transaction at
            # the end holds the write lock for an index build over every row. Named by the
            # column's position, since a name from a long column name could pass 63 chars.
            for key in index_keys:
                Index(f"ix_{name}_{names.index(key)}", table.c[key]).create(connection)
        batch: list[dict[str, Any]] = []
        for typed in reader:
            if meter is not None:
                meter.add(typed)
            batch.append(dict(zip(names, typed)))
            if len(batch) >= batch_rows:
                _insert_batch(connection, table, batch)
                batch.clear()
                if progress:
                    progress(reader.rows)
        reader.raise_if_failed()
        if batch:
            _insert_batch(connection, table, batch)
    if progress:
        progress(reader.rows)
    return table


@contextmanager
def staged_rows(engine: Engine, resource: Any, path: Path, *, fmt: str, fields: list[Any] | None = None,
                missing_values: list[str] | None = None, limits: ReadLimits = DEFAULT_LIMITS,
                progress: Callable[[int], None] | None = None,
                batch_rows: int = STAGING_BATCH_ROWS, meter: QualityMeter | None = None) -> Iterator[StagedTable]:
    """Load ``path`` into a new staging table and yield it; on leaving, drop it if it was
    not swapped in (a failure, or a rolled-back swap) and release its lock.

    ``resource`` is a Resource or a catalogue ResourceSpec (primary and subject key);
    ``fields`` and ``missing_values`` default to the resource's own. Raises IngestError
    (with nothing left behind) when a row or cell is bad. Commit a swap before leaving:
    the clean-up writes on another connection. ``meter`` is fed every row; measure it
    on the staged table before the swap (which records it)."""
    fields = list(resource.fields if fields is None else fields)
    if missing_values is None:
        missing_values = resource.missing_values
    name, lock = new_staging_name(engine)
    staged = None
    try:
        digest = file_digest(path, fields, _DigestKeys(resource.primary_key, missing_values, resource.quality_rules))
        reader = TypedRows(path, fmt, fields, limits, missing_values=missing_values,
                           primary_key=resource.primary_key)
        keys = [k for k in dict.fromkeys([resource.primary_key, resource.subject_key]) if k]
        _fill(engine, name, reader, keys, progress, batch_rows, meter)
        staged = StagedTable(name, reader.rows, digest, reader.encoding, quality=meter, sha256=sha256_of(path))
        yield staged
    finally:
        finish_staging(engine, name, staged, lock)


def new_staging_name(engine: Engine) -> tuple[str, LoadLock]:
    """A fresh staging table name and its lock, held (call ``finish_staging`` after)."""
    name = f"{STAGING_PREFIX}{secrets.token_hex(8)}"
    lock = LoadLock(engine, name)
    if not lock.try_acquire():  # a fresh random name: only a broken lock service says no
        raise RuntimeError(f"could not lock the new staging table {name}")
    return name, lock


def finish_staging(engine: Engine, name: str, staged: "StagedTable | None", lock: LoadLock) -> None:
    """After a staged load: drop its table unless it was swapped in, then the generations
    the swap replaced (unless kept), and release the load's lock."""
    try:
        _drop_table(engine, name)  # gone already if it was swapped in
        if staged is not None:
            for replaced in filter(None, [staged.replaced, *staged.retired]):
                drop_replaced_later(engine, replaced)
    finally:
        lock.release()


@dataclass
class _DigestKeys:
    """What file_digest reads of a resource, the same from a Resource or a spec."""

    primary_key: str | None
    missing_values: list[str] | None
    quality_rules: dict[str, Any] | None = None


def staged_digest(resource: Any, path: Path, fields: list[Any] | None = None,
                  missing_values: list[str] | None = None) -> str:
    """The data digest a staged load of ``path`` would record (to skip unchanged files)."""
    fields = list(resource.fields if fields is None else fields)
    keys = _DigestKeys(resource.primary_key, resource.missing_values if missing_values is None else missing_values,
                       resource.quality_rules)
    return file_digest(path, fields, keys)


def diff_staged(engine: Engine, staged: StagedTable, in_force: str | None, primary_key: str | None) -> None:
    """Diff ``staged`` against the generation ``in_force`` on a connection of its own: it
    only reads (both tables are committed), so the swap's write transaction stays short."""
    with engine.connect() as connection:
        staged.diff = diff_tables(connection, in_force, staged.name, primary_key)
        staged.diff_base = in_force


def swap_in(session: Session, resource: Resource, staged: StagedTable,
            source: VersionSource | None = None) -> IngestReport:
    """Make ``staged`` the resource's rows inside ``session``'s transaction (the caller
    commits): rename it to the next generation, point the resource at it and record the
    version (from ``source``, default a catalogue load); the old table is dropped after the
    commit unless kept. Rows equal to the current ones: no swap, no version (``skipped``)."""
    source = source or VersionSource()
    source.file_digest = source.file_digest or staged.sha256
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    if staged.diff is None:
        with engine.connect() as connection:
            in_force = connection.scalar(select(Resource.table_name).where(Resource.pk == resource.pk))
        diff_staged(engine, staged, in_force, resource.primary_key)
    # A first write opens the transaction: on SQLite the DDL below then belongs to it (a
    # rollback undoes the rename); on PostgreSQL the row lock orders two swaps of one table.
    ingested_at = resource.ingested_at
    resource.ingested_at = utcnow()
    session.flush()
    connection = session.connection()
    # The generation in force now, not the one this session read before the load began.
    resource.table_name = session.scalar(select(Resource.table_name).where(Resource.pk == resource.pk))
    old = resource.table_name
    name = _next_table_name(session, resource)
    version = record_generation(session, resource, old, staged.name, staged.rows, source, stored_as=name,
                                diff=staged.diff if staged.diff_base == old else None)  # else another swap came first
    if version is None:  # the same rows: the staging table is dropped on leaving staged_rows
        resource.ingested_at = ingested_at
        resource.data_digest = staged.digest
        if staged.quality is not None:  # measured all the same, as on the one-transaction path
            staged.quality.record(session, resource)
        session.flush()
        return IngestReport(resource.id, staged.rows, old or staged.name, encoding=staged.encoding, skipped=True)
    quote = connection.dialect.identifier_preparer.quote
    connection.execute(text(f"ALTER TABLE {quote(staged.name)} RENAME TO {quote(name)}"))
    resource.table_name = name
    resource.row_count = staged.rows
    resource.data_digest = staged.digest
    if staged.quality is not None:
        staged.quality.record(session, resource)
    session.flush()
    staged.replaced = old if old and old != name else None
    staged.retired = retire_generations(session, resource, source.versions_kept)
    return IngestReport(resource.id, staged.rows, name, encoding=staged.encoding, version=version.number)


def replace_rows(session: Session, resource: Resource, path: Path, *, fmt: str | None = None,
                 limits: ReadLimits = DEFAULT_LIMITS, progress: Callable[[int], None] | None = None,
                 before_commit: Callable[[IngestReport], None] | None = None,
                 quality: str | None = "upload", source: VersionSource | None = None) -> IngestReport:
    """Replace ``resource``'s rows with the rows of ``path`` without blocking other
    writers: stage, then swap and commit ``session`` (``before_commit`` adds to that
    transaction, e.g. an audit record). IngestError: nothing changed, nothing left.
    ``quality``: who updated the rows, for the quality measurement (None: not measured)."""
    fmt = (fmt or path.suffix.lstrip(".") or resource.format).lower()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    meter = QualityMeter(resource, quality, (resource.dataset_id, resource.id)) if quality else None
    with staged_rows(engine, resource, path, fmt=fmt, limits=limits, progress=progress, meter=meter) as staged:
        if meter is not None:
            meter.measure(engine, staged.name)  # read-only, before the swap's write transaction
        try:
            report = swap_in(session, resource, staged, source)
            if before_commit:
                before_commit(report)
            session.commit()
        except BaseException:
            session.rollback()  # before the clean-up, which needs the write lock
            raise
    return report
