"""Database upkeep behind ``opendata db vacuum|backup|restore`` (docs/operations.md).

SQLite never gives freed pages back by itself: after reloads a 244 MB file held 159 MB
of free pages. ``vacuum`` rewrites it (VACUUM) and truncates the write-ahead log; on
PostgreSQL it runs VACUUM ANALYZE (autovacuum normally does this already).

Backups are online: SQLite's backup API copies a consistent snapshot while the portal
keeps serving (what the sqlite3 shell's ``.backup`` does); PostgreSQL's is ``pg_dump``
in its custom format, restored with ``pg_restore``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from opendata.db import Database, sqlite_path


class MaintenanceError(Exception):
    """A maintenance command cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class VacuumReport:
    backend: str
    bytes_before: int | None = None
    bytes_after: int | None = None

    def summary(self) -> str:
        if self.bytes_before is None:
            return f"VACUUM ANALYZE done ({self.backend})"
        return (f"vacuumed: {self.bytes_before / 1e6:.1f} MB -> {self.bytes_after / 1e6:.1f} MB "
                f"({(self.bytes_before - (self.bytes_after or 0)) / 1e6:.1f} MB given back)")


def _files_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def vacuum(database: Database) -> VacuumReport:
    """VACUUM (SQLite, then a truncating WAL checkpoint) or VACUUM ANALYZE (PostgreSQL)."""
    name = database.engine.dialect.name
    path = sqlite_path(database.url)
    before = _files_size(path) if path else None
    # VACUUM cannot run inside a transaction on either backend.
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if name == "sqlite":
            connection.exec_driver_sql("VACUUM")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        elif name == "postgresql":
            connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            raise MaintenanceError(f"vacuum is not supported on {name}")
    return VacuumReport(name, before, _files_size(path) if path else None)


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no "+driver")."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MaintenanceError(f"{name} is not installed (the PostgreSQL client tools, e.g. postgresql-client)")
    return found


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise MaintenanceError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` at ``target`` via the backup API, written beside the
    target and renamed into place, so no half-written file ever has the target's name."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source)  # only read by the backup; in WAL mode it blocks no writer
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise MaintenanceError(f"the copy of {source} failed its integrity check")
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)


def backup(database: Database, target: Path) -> str:
    """Write an online backup of the database to ``target``; returns what was done."""
    target = Path(target)
    if target.exists() and target.is_dir():
        raise MaintenanceError(f"{target} is a directory; name the backup file")
    target.parent.mkdir(parents=True, exist_ok=True)
    path = sqlite_path(database.url)
    if database.url.startswith("sqlite"):
        if path is None or not path.exists():
            raise MaintenanceError("there is no SQLite database file to back up")
        _copy_sqlite(path, target)
        return f"SQLite backup of {path} written to {target} ({target.stat().st_size / 1e6:.1f} MB)"
    if database.engine.dialect.name == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), _libpq_url(database.url)])
        return f"pg_dump (custom format) written to {target}; restore with pg_restore (docs/operations.md)"
    raise MaintenanceError(f"backup is not supported on {database.engine.dialect.name}")


def restore(database: Database, source: Path, *, force: bool = False) -> str:
    """Restore a backup made by :func:`backup` into this (stopped, normally empty) database."""
    source = Path(source)
    if not source.is_file():
        raise MaintenanceError(f"{source} is not a file")
    path = sqlite_path(database.url)
    if database.url.startswith("sqlite"):
        if path is None:
            raise MaintenanceError("an in-memory database cannot be restored into")
        if path.exists() and not force:
            raise MaintenanceError(f"{path} exists; stop the portal and add --force to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(source, path)
        for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)  # they belong to the file that was replaced
        return f"restored {source} into {path}"
    if database.engine.dialect.name == "postgresql":
        command = [_tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", _libpq_url(database.url)]
        if force:
            command[1:1] = ["--clean", "--if-exists"]
        _run([*command, str(source)])
        return f"restored {source} with pg_restore"
    raise MaintenanceError(f"restore is not supported on {database.engine.dialect.name}")
