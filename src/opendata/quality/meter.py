"""The streaming quality meter: fed every validated row of an ingest, it keeps counters
only (non-missing values per field, evaluated and failed rows per check), so memory stays
flat whatever the file size. What needs the whole table (duplicate keys, references into
another resource) is measured by SQL on the loaded (staged) table once the rows are in,
before it is swapped in, so the short swap transaction does not grow with the table.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from sqlalchemy import Engine, Table, and_, exists, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from opendata.catalogue.models import Dataset, Resource
from opendata.quality.models import QualityMeasurement
from opendata.quality.rules import comparable, compile_checks, not_open_reference

SAMPLE_ROWS = 5
Loaded = tuple[str, Sequence[Any]]  # a loaded table's name and its fields


class QualityMeter:
    """Counts for one ingest: ``add`` each row, ``measure`` the loaded table, ``record``.

    ``resource`` is a Resource or a catalogue ResourceSpec (fields, primary_key,
    quality_rules); ``owner`` is its (dataset id, resource id).
    """

    def __init__(self, resource: Any, origin: str, owner: tuple[str, str]) -> None:
        self.origin = origin
        self.owner = owner
        self.fields = list(resource.fields)
        self.primary_key = resource.primary_key
        rules = resource.quality_rules or {}
        self.checks = compile_checks(rules.get("checks") or [], self.fields)
        self.references = list(rules.get("references") or [])
        self.unique_keys = [list(key) for key in rules.get("unique_keys") or []]
        self.rows = 0
        self.missing = [0] * len(self.fields)
        self.evaluated = [0] * len(self.checks)
        self.failed = [0] * len(self.checks)
        self.failed_rows: list[list[int]] = [[] for _ in self.checks]
        self.detail: dict[str, Any] | None = None

    def add(self, row: Sequence[Any]) -> None:
        """One validated row, in field order (the row number is its position, from 1)."""
        self.rows += 1
        missing = self.missing
        for index, value in enumerate(row):
            if value is None:
                missing[index] += 1
        for position, check in enumerate(self.checks):
            left = row[check.left]
            right = check.value if check.right is None else row[check.right]
            if left is None or right is None:
                continue  # a rule about two values says nothing when one is missing
            self.evaluated[position] += 1
            if not check.compare(left, right):
                self.failed[position] += 1
                if len(self.failed_rows[position]) < SAMPLE_ROWS:
                    self.failed_rows[position].append(self.rows)

    def measure(self, bind: Engine | Connection, table_name: str,
                loading: Mapping[tuple[str, str], Loaded] | None = None) -> None:
        """Count duplicate keys and unresolved references in the loaded table.

        ``loading`` names the tables of other resources loaded in the same catalogue load
        (not swapped in yet, perhaps not in the database at all): (table name, fields), so a
        reference to one of them reads its new rows."""
        from opendata.catalogue.rowstore import row_table

        table = row_table(table_name, self.fields)
        tables = {**(loading or {}), self.owner: (table_name, self.fields)}
        with Session(bind=bind) as session:
            self.detail = {
                "fields": {
                    f.name: {"values": self.rows - self.missing[i], "invalid": 0}
                    for i, f in enumerate(self.fields)
                },
                "keys": [_key_counts(session, table, names, kind) for names, kind in self._keys()],
                "checks": [
                    {"rule": c.text, "evaluated": self.evaluated[i], "failed": self.failed[i],
                     "sample_rows": self.failed_rows[i]}
                    for i, c in enumerate(self.checks)
                ],
                "references": [_reference_counts(session, self.fields, table, ref, tables) for ref in self.references],
            }

    def record(self, session: Session, resource: Resource) -> QualityMeasurement | None:
        """Store the measurement in the transaction that makes the rows current."""
        if self.detail is None:
            return None
        measurement = QualityMeasurement(
            dataset_id=resource.dataset_id, resource_pk=resource.pk, resource_id=resource.id,
            origin=self.origin, rows=self.rows, detail=self.detail,
        )
        session.add(measurement)
        return measurement

    def _keys(self) -> list[tuple[list[str], str]]:
        keys: list[tuple[list[str], str]] = []
        if self.primary_key:
            keys.append(([self.primary_key], "primary_key"))
        for f in self.fields:
            if (f.constraints or {}).get("unique") and f.name != self.primary_key:
                keys.append(([f.name], "unique"))
        for names in self.unique_keys:
            if (names, "primary_key") not in keys and (names, "unique") not in keys:
                keys.append((names, "declared"))
        return keys


def _key_counts(session: Session, table: Table, names: list[str], kind: str) -> dict[str, Any]:
    """Rows with the whole key present, and rows beyond the first of each repeated key
    (GROUP BY … HAVING in the database: no key is held in memory)."""
    columns = [table.c[name] for name in names]
    present = and_(*[column.is_not(None) for column in columns])
    groups = (
        select(func.count().label("n")).where(present).group_by(*columns).having(func.count() > 1).subquery()
    )
    rows = session.execute(select(func.count()).select_from(table).where(present)).scalar_one()
    duplicates = session.execute(select(func.coalesce(func.sum(groups.c.n - 1), 0))).scalar_one()
    return {"fields": names, "kind": kind, "rows": int(rows), "duplicates": int(duplicates)}


def _reference_counts(session: Session, fields: list[Any], table: Table, ref: dict[str, str],
                      tables: Mapping[tuple[str, str], Loaded]) -> dict[str, Any]:
    """Rows whose reference field has a value, and those whose value the referenced
    resource's key column does not hold (NOT EXISTS against its table)."""
    from opendata.catalogue.rowstore import row_table

    result: dict[str, Any] = {**ref, "evaluated": 0, "failed": 0, "error": None}
    dataset_id, resource_id = ref["resource"].split("/")
    level = session.scalar(select(Dataset.open_level).where(Dataset.id == dataset_id))
    if level is not None and level != "unconditional":  # e.g. regraded since the manifest was checked
        result["error"] = not_open_reference(ref, level)
        return result
    if (dataset_id, resource_id) in tables:
        target_name, target_fields = tables[(dataset_id, resource_id)]
    else:
        found = session.scalars(
            select(Resource).where(Resource.dataset_id == dataset_id, Resource.id == resource_id)).first()
        if found is None or not found.table_name:
            result["error"] = f"{ref['resource']} is not loaded"
            return result
        target_name, target_fields = found.table_name, list(found.fields)
    types = {f.name: f.type for f in target_fields}
    own = {f.name: f.type for f in fields}
    if ref["key"] not in types:
        result["error"] = f"{ref['resource']} has no field {ref['key']!r}"
        return result
    if not comparable(own[ref["field"]], types[ref["key"]]):
        result["error"] = f"{ref['field']} is {own[ref['field']]} but {ref['resource']}.{ref['key']} is {types[ref['key']]}"
        return result
    target = row_table(target_name, list(target_fields)).alias("referenced")
    column = table.c[ref["field"]]
    present = column.is_not(None)
    known = exists().where(target.c[ref["key"]] == column)
    result["evaluated"] = int(session.execute(select(func.count()).select_from(table).where(present)).scalar_one())
    result["failed"] = int(session.execute(
        select(func.count()).select_from(table).where(present, ~known)).scalar_one())
    return result
