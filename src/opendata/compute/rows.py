"""Reading subjects' rows from the row store for computations.

A computation names a dataset, a resource (or its default: the one tabular resource with a
subject key), a subject key value and optionally ``where`` filters (equality on further
fields). What may be asked is decided from the catalogue and the *whole* table, never from
the subject's own rows: an error that depended on the subject's rows would tell the client
something about them (an oracle).

That is why several rows per subject (monthly data) are handled statically: the subject
key plus the filter fields must identify at most one row across the whole resource (checked
once per table generation, then cached), else the request is refused with
``ambiguous_subject`` whatever the subject. Then a subject has zero or one matching row.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Sequence

from sqlalchemy import Column, Table, func, select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.rowstore import row_table
from opendata.compute.values import filter_value
from opendata.errors import AppError, bad_request

SUBJECT_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._:-]{0,63}", re.ASCII)
# Bound parameters per IN list: well under SQLite's and PostgreSQL's limits.
IN_CHUNK = 900
MAX_FILTERS = 4
_UNIQUE_CACHE_SIZE = 1024
# Caches are keyed by the database too: one process may serve several (tests, embedding hosts).
_unique_cache: dict[tuple[Any, str, tuple[str, ...]], bool] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class SubjectSource:
    """A resource that computations can read by subject key. Plain values only (no ORM
    objects), so that it can be cached and shared between requests and threads."""

    dataset_id: str
    resource_id: str
    table: Table
    subject_key: str
    fields: dict[str, str]  # name -> type, in dictionary order

    @property
    def subject_column(self) -> Column:
        return self.table.c[self.subject_key]

    def field_type(self, name: str) -> str:
        return self.fields[name]


@dataclass(frozen=True)
class _FieldType:
    name: str
    type: str


# (dataset, resource asked for) -> (version stamp, source). The stamp is every resource's
# id, table and subject key: a change of dictionary (names, types) always reingests into a
# new table, so an unchanged stamp means an unchanged source.
_sources: dict[tuple[Any, str, str | None], tuple[tuple[Any, ...], SubjectSource]] = {}
_SOURCE_CACHE_SIZE = 256


def source_for(session: Session, dataset_id: Any, resource_id: Any = None) -> SubjectSource:
    """The dataset's resource to compute on; 404 / 400 codes that depend on the catalogue only.

    One indexed query when the catalogue has not changed since the last request."""
    if not isinstance(dataset_id, str) or not dataset_id:
        raise bad_request("invalid_dataset", "dataset is the id of a dataset")
    if resource_id is not None and not isinstance(resource_id, str):
        raise bad_request("invalid_resource", "resource is the id of a resource")
    stamp = tuple(tuple(row) for row in session.execute(
        select(Resource.id, Resource.table_name, Resource.subject_key, Resource.format)
        .where(Resource.dataset_id == dataset_id).order_by(Resource.position)
    ))
    key = (session.get_bind().url, dataset_id, resource_id)
    with _cache_lock:
        cached = _sources.get(key)
    if cached is not None and stamp and cached[0] == stamp:
        return cached[1]
    source = _load_source(session, dataset_id, resource_id)
    with _cache_lock:
        if len(_sources) >= _SOURCE_CACHE_SIZE:
            _sources.clear()
        _sources[key] = (stamp, source)
    return source


def _load_source(session: Session, dataset_id: str, resource_id: str | None) -> SubjectSource:
    dataset = session.scalars(
        select(Dataset).where(Dataset.id == dataset_id)
        .options(selectinload(Dataset.resources).selectinload(Resource.fields))
    ).one_or_none()
    if dataset is None:
        raise AppError(404, "not_found", f"dataset {dataset_id!r} does not exist")
    resource = _pick_resource(dataset, resource_id)
    if not resource.subject_key:
        raise bad_request("no_subject_key",
                          f"resource {dataset.id}/{resource.id} declares no subject key: nothing to compute by")
    if not resource.table_name:
        raise AppError(409, "resource_not_loaded", f"resource {dataset.id}/{resource.id} has no rows loaded yet")
    fields = [_FieldType(f.name, f.type) for f in resource.fields]
    return SubjectSource(dataset.id, resource.id, row_table(resource.table_name, fields),  # type: ignore[arg-type]
                         resource.subject_key, {f.name: f.type for f in fields})


def _pick_resource(dataset: Dataset, resource_id: str | None) -> Resource:
    if resource_id is not None:
        for resource in dataset.resources:
            if resource.id == resource_id:
                return resource
        raise AppError(404, "not_found", f"resource {dataset.id}/{resource_id} does not exist")
    candidates = [r for r in dataset.resources if r.is_tabular and r.subject_key]
    if len(candidates) != 1:
        raise bad_request("resource_required",
                          f"dataset {dataset.id!r} has {len(candidates)} resources with a subject key: name one")
    return candidates[0]


def check_subject(source: SubjectSource, subject: Any) -> Any:
    """A subject key value of the right shape; returns it as the key column compares it."""
    if not isinstance(subject, str) or not SUBJECT_PATTERN.fullmatch(subject):
        raise bad_request("invalid_subject",
                          "a subject is 1 to 64 ASCII letters, digits and . _ : - (e.g. an 18-character "
                          "citizen id or credit code)")
    if source.field_type(source.subject_key) == "integer":
        if not subject.isdigit() or len(subject) > 18:
            raise bad_request("invalid_subject", f"subjects of {source.dataset_id} are whole numbers")
        return int(subject)
    return subject


def check_filters(source: SubjectSource, where: Any) -> dict[str, Any]:
    """``{"month": "2024-06-01"}`` -> typed values for equality filters."""
    if where is None:
        return {}
    if not isinstance(where, dict) or len(where) > MAX_FILTERS:
        raise bad_request("invalid_filter", f"where is an object of at most {MAX_FILTERS} field: value pairs")
    typed: dict[str, Any] = {}
    for name, raw in where.items():
        if name not in source.fields or name == source.subject_key:
            raise bad_request("invalid_filter", f"{source.dataset_id}/{source.resource_id} has no filterable "
                              f"field {name!r}")
        typed[name] = filter_value(raw, source.field_type(name))
    return typed


def require_unique(session: Session, source: SubjectSource, filter_fields: Iterable[str]) -> None:
    """Refuse (400 ambiguous_subject) unless subject key + filter fields identify at most one
    row anywhere in the table. A property of the table, so the refusal says nothing about
    any one subject."""
    names = tuple(sorted(filter_fields))
    key = (session.get_bind().url, source.table.name, names)
    with _cache_lock:
        known = _unique_cache.get(key)
    if known is None:
        table = source.table
        columns = [source.subject_column, *(table.c[n] for n in names)]
        duplicate = session.execute(
            select(source.subject_column).where(source.subject_column.is_not(None))
            .group_by(*columns).having(func.count() > 1).limit(1)
        ).first()
        known = duplicate is None
        with _cache_lock:
            if len(_unique_cache) >= _UNIQUE_CACHE_SIZE:
                _unique_cache.clear()
            _unique_cache[key] = known
    if not known:
        hints = [n for n, t in source.fields.items() if t in ("date", "integer") and n != source.subject_key]
        hint = f" such as {', '.join(hints)}" if hints else ""
        raise bad_request(
            "ambiguous_subject",
            f"{source.dataset_id}/{source.resource_id} has several rows per {source.subject_key}"
            f"{' with these filters' if names else ''}: add where filters{hint} that single out one row",
        )


def _filter_clauses(source: SubjectSource, where: dict[str, Any]) -> list[Any]:
    return [source.table.c[name] == value for name, value in where.items()]


def subject_row(session: Session, source: SubjectSource, subject: Any, where: dict[str, Any],
                fields: Sequence[str]) -> dict[str, Any] | None:
    """The one row of ``subject`` matching ``where`` (require_unique first), or None."""
    table = source.table
    rows = session.execute(
        select(*(table.c[f] for f in fields))
        .where(source.subject_column == subject, *_filter_clauses(source, where)).limit(2)
    ).all()
    # Two rows can only mean the table changed since the uniqueness check: answer as for a
    # missing row (a random result) rather than with an error that would describe this subject.
    if len(rows) != 1:
        return None
    return dict(zip(fields, rows[0]))


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def values_by_subject(session: Session, source: SubjectSource, subjects: Sequence[Any], field: str,
                      where: dict[str, Any]) -> dict[Any, list[Any]]:
    """Every value of ``field`` (``None`` for count: a marker per row) per subject."""
    table = source.table
    value_column = table.c[field] if field else source.subject_column
    found: dict[Any, list[Any]] = {}
    for chunk in _chunks(list(subjects)):
        statement = select(source.subject_column, value_column).where(
            source.subject_column.in_(chunk), *_filter_clauses(source, where))
        for subject, value in session.execute(statement):
            found.setdefault(subject, []).append(value)
    return found


def aggregate(values: list[Any] | None, how: str) -> tuple[Any, bool]:
    """(feature value, whether the subject had rows) for one subject's matching values."""
    if not values:
        return (0 if how in ("count", "sum") else None), False
    if how == "count":
        return sum(1 for v in values if v is not None), True
    if how == "sum":
        present = [v for v in values if v is not None]
        # Decimal(repr()) keeps SQLite's REAL decimals exact (8500.5, never 8500.4999...).
        return sum((Decimal(repr(v)) if isinstance(v, float) else Decimal(v) for v in present), Decimal(0)), True
    return values[0], True
