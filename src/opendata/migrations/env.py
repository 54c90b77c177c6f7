"""Alembic environment: runs on the engine handed over by opendata.db.upgrade."""

from __future__ import annotations

from alembic import context

from opendata.db import Base, include_object, version_table_schema

import opendata.models  # noqa: F401  (every table on Base.metadata)

def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            version_table_schema=version_table_schema(connection),
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
