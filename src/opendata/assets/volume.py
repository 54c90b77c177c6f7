"""Data volume of a dataset, read from the row store: rows (the resources' counts) and
bytes (the storage of their row tables as the database reports it)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from opendata.catalogue.models import Dataset


def _table_bytes(session: Session, table: str) -> int | None:
    dialect = session.get_bind().dialect.name
    try:
        if dialect == "postgresql":
            return session.scalar(text("SELECT pg_total_relation_size(to_regclass(:t))"), {"t": table})
        if dialect == "sqlite":  # dbstat is compiled into the usual builds; None where it is not
            with session.begin_nested():
                return session.scalar(text("SELECT SUM(pgsize) FROM dbstat WHERE name = :t"), {"t": table})
    except DBAPIError:
        return None
    return None


def measure(session: Session, dataset: Dataset) -> tuple[int, int | None]:
    rows, size, known = 0, 0, True
    for resource in dataset.resources:
        rows += resource.row_count or 0
        if resource.table_name:
            table_bytes = _table_bytes(session, resource.table_name)
            known = known and table_bytes is not None
            size += table_bytes or 0
    return rows, size if known else None
