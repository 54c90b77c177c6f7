"""Migrations create the schema from nothing and match the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from opendata.db import Base, Database, current_revision, include_object, upgrade
from tests.conftest import postgres_schema_url


def test_upgrade_from_empty_reaches_head_and_matches_models(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    assert current_revision(database.engine) is None
    upgrade(database.engine)
    assert current_revision(database.engine) is not None
    assert {"datasets", "resources", "fields", "publishers"} <= set(inspect(database.engine).get_table_names())
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []
    upgrade(database.engine)  # idempotent
    database.dispose()


@pytest.mark.postgres
def test_a_fresh_schema_migrates_even_when_the_search_path_holds_a_migrated_one() -> None:
    """Alembic's version table is looked up in the schema the tables go to: a migrated
    schema further down the search path (as ``public`` often is) must not make a fresh one
    look migrated (it did: start-up failed on another database's revision)."""
    with postgres_schema_url() as migrated_url:
        migrated = Database(migrated_url)
        upgrade(migrated.engine)
        migrated_schema = migrated_url.rsplit("%3D", 1)[1].split(",")[0]
        migrated.dispose()
        with postgres_schema_url() as fresh_url:
            fresh_schema = fresh_url.rsplit("%3D", 1)[1].split(",")[0]
            behind = Database(fresh_url.replace(",public", f",{migrated_schema},public"))
            assert current_revision(behind.engine) is None
            upgrade(behind.engine)
            assert current_revision(behind.engine) is not None
            tables = inspect(behind.engine).get_table_names(schema=fresh_schema)
            assert {"datasets", "resources", "alembic_version"} <= set(tables)
            behind.dispose()
