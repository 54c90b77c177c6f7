"""Migrations create the schema from nothing and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from opendata.db import Base, Database, current_revision, include_object, upgrade


def test_upgrade_from_empty_reaches_head_and_matches_models(settings) -> None:
    database = Database(settings.resolved_database_url)
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
