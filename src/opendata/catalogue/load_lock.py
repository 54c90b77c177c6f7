"""The per-load lock of a staging table (catalogue/staging.py), across processes.

Held by the process that loads a staging table from before the table exists until it is
swapped in or dropped; the kernel (an ``flock``) or the server (a PostgreSQL advisory lock
of the load's connection) releases it when that process dies, which is how a start-up
sweep tells a dead load's table from one that another process is still filling.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from opendata.db import sqlite_path

# The first key of the two-key PostgreSQL advisory lock of a load; the second names the
# table in its schema (advisory locks belong to the whole database, see db.pg_lock_key).
PG_LOCK_NAMESPACE = zlib.crc32(b"opendata.staging") & 0x7FFFFFFF
_TABLE_KEY = "hashtext(:table || '@' || current_schema())"


class LoadLock:
    """Exclusive ownership of one staging table, across processes."""

    def __init__(self, engine: Engine, table: str) -> None:
        self.engine = engine
        self.table = table
        self._handle: Any = None
        self._connection: Connection | None = None

    def _lock_file(self) -> Path:
        database = sqlite_path(str(self.engine.url))
        assert database is not None
        return database.with_name(database.name + ".loads") / f"{self.table}.lock"

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = connection.scalar(text(f"SELECT pg_try_advisory_lock(:ns, {_TABLE_KEY})"),
                                    {"ns": PG_LOCK_NAMESPACE, "table": self.table})
            if not got:
                connection.close()
                return False
            self._connection = connection
            return True
        import fcntl

        path = self._lock_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text(f"SELECT pg_advisory_unlock(:ns, {_TABLE_KEY})"),
                                         {"ns": PG_LOCK_NAMESPACE, "table": self.table})
            finally:
                self._connection.close()
                self._connection = None
        if self._handle is not None:
            # Unlinked while still locked, and only once the table is gone (swapped in, or
            # dropped): a sweeper that opens the path afterwards gets a fresh file and finds
            # no table; one that opened it before fails to lock it and skips the table.
            self._lock_file().unlink(missing_ok=True)
            self._handle.close()
            self._handle = None

