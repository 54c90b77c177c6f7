"""`opendata db vacuum|backup|restore`: the SQLite file shrinks, and a backup restored into a
fresh database passes `opendata audit verify` (docs/operations.md).

Before: the SQLite file never shrank (244 MB with 159 MB free after reloads), and backup and
restore were not documented.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from opendata.cli import main
from tests.conftest import POSTGRES_URL, postgres_available, postgres_schema_url


def run(url: str, *args: str, input: str | None = None):  # noqa: A002
    # env (not --database-url): the runner restores it, so it does not leak into other tests.
    return CliRunner().invoke(main, list(args), env={"OPENDATA_DATABASE_URL": url}, input=input,
                              catch_exceptions=False)


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(text(f"select count(*) from {table}")).scalar_one()
    engine.dispose()
    return int(value)


def _populate(url: str, catalogue_dir: Path) -> int:
    """A loaded catalogue and a few audited actions; returns the number of audit records."""
    assert run(url, "catalogue", "load", str(catalogue_dir)).exit_code == 0
    for _ in range(2):
        rotated = run(url, "keys", "rotate")
        assert rotated.exit_code == 0, rotated.output
    created = run(url, "users", "create", "--username", "ops", "--email", "ops@gz.gov.cn", "--role", "developer",
                  "--password-stdin", input="correct horse battery\n")
    assert created.exit_code == 0, created.output
    records = _count(url, "audit_records")
    assert records >= 3
    return records


def _verify(url: str, records: int) -> None:
    verified = run(url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"audit chain intact: {records} records" in verified.output


def test_vacuum_gives_the_free_space_of_a_sqlite_file_back(tmp_path: Path) -> None:
    db_file = tmp_path / "opendata.db"
    url = f"sqlite:///{db_file}"
    assert run(url, "db", "upgrade").exit_code == 0
    engine = create_engine(url)
    with engine.begin() as connection:  # what a reload leaves: a big table written, then dropped
        connection.execute(text("create table rows_old (v text)"))
        connection.execute(text("insert into rows_old select hex(randomblob(500)) from "
                                "(with recursive n(i) as (select 1 union all select i + 1 from n where i < 8000) "
                                "select i from n)"))
    with engine.begin() as connection:
        connection.execute(text("drop table rows_old"))
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    before = db_file.stat().st_size
    assert before > 8_000_000
    result = run(url, "db", "vacuum")
    assert result.exit_code == 0, result.output
    assert "given back" in result.output
    assert db_file.stat().st_size < before / 4
    assert run(url, "audit", "verify").exit_code == 0  # still a good database


def test_vacuum_analyze_on_postgresql() -> None:
    with postgres_schema_url() as url:
        assert run(url, "db", "upgrade").exit_code == 0
        result = run(url, "db", "vacuum")
        assert result.exit_code == 0, result.output
        assert "VACUUM ANALYZE done" in result.output


def test_sqlite_backup_restores_into_a_fresh_database_that_verifies(tmp_path: Path, catalogue_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live' / 'opendata.db'}"
    records = _populate(url, catalogue_dir)
    engine = create_engine(url)  # a reader holding the database open, as a running portal would
    with engine.connect() as connection:
        connection.execute(text("select count(*) from datasets"))
        backed = run(url, "db", "backup", str(tmp_path / "backups" / "opendata-backup.db"))
    engine.dispose()
    assert backed.exit_code == 0, backed.output
    fresh = f"sqlite:///{tmp_path / 'restored' / 'opendata.db'}"
    restored = run(fresh, "db", "restore", str(tmp_path / "backups" / "opendata-backup.db"))
    assert restored.exit_code == 0, restored.output
    _verify(fresh, records)
    assert _count(fresh, "datasets") == 3
    again = run(fresh, "db", "restore", str(tmp_path / "backups" / "opendata-backup.db"))
    assert again.exit_code == 1 and "add --force" in again.output  # never over a database by accident


@pytest.fixture
def fresh_postgres_databases() -> Iterator[tuple[str, str]]:
    if not postgres_available():
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump or pg_restore is not installed")
    names = [f"od_backup_{uuid.uuid4().hex[:10]}", f"od_restore_{uuid.uuid4().hex[:10]}"]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgresql_backup_restores_into_a_fresh_database_that_verifies(
    tmp_path: Path, catalogue_dir: Path, fresh_postgres_databases: tuple[str, str],
) -> None:
    url, fresh = fresh_postgres_databases
    records = _populate(url, catalogue_dir)
    dump = tmp_path / "opendata.dump"
    backed = run(url, "db", "backup", str(dump))
    assert backed.exit_code == 0, backed.output
    assert "pg_dump" in backed.output and dump.stat().st_size > 0
    restored = run(fresh, "db", "restore", str(dump))
    assert restored.exit_code == 0, restored.output
    _verify(fresh, records)
    assert _count(fresh, "datasets") == 3
