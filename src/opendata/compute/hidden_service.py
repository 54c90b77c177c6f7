"""Hidden query (匿踪查询) requests, from raw body to audited answer (see service.py for the
three-step shape: prepare in a thread, arithmetic in the process pool, finish in a thread).

What the server sees of a request -- dataset, resource, fields, key, the layout's digest
and the ciphertexts with their proofs -- has the same shape whatever subject is selected,
and every refusal depends on the catalogue, the licence, the table as a whole and the
proofs, never on a subject. The audit record says so much: count, fields, digests; never a
subject, an index or a subject digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata import localtime
from opendata.access import quotas
from opendata.access.models import LicenceUsage
from opendata.audit.service import append
from opendata.compute import parameters
from opendata.compute.callers import ComputeCaller, Refusals, audited, authenticate, require_grant
from opendata.compute.hidden_grants import Grant, grant_for
from opendata.compute.hidden_query import COLS_PURPOSE, ROWS_PURPOSE, Layout, Selection, check_selection
from opendata.compute.hidden_records import RecordFormat, encode_table, field_text
from opendata.compute.paillier import PublicKey
from opendata.compute.public_keys import own_key
from opendata.compute.rows import SubjectSource, _filter_clauses, check_filters, require_unique, source_for
from opendata.compute.runtime import ComputeRuntime
from opendata.compute.schemas import members, parse_json
from opendata.compute.service import Incoming, digest
from opendata.db import Database
from opendata.errors import AppError, bad_request
from opendata.settings import Settings

ACTION = "compute.hidden_query"
LAYOUT_ACTION = "compute.hidden_query.layout"


@dataclass(frozen=True)
class Table:
    """A resource's records for one choice of fields, as a hidden query sees them."""

    source: SubjectSource
    fields: list[str]
    where: dict[str, Any]
    subjects: list[str]
    layout: Layout
    format: RecordFormat
    chunks: list[list[int]]

    @property
    def digest(self) -> str:
        return digest({"dataset": self.source.dataset_id, "resource": self.source.resource_id,
                       "fields": self.fields, "where": self.where, "layout": self.layout.to_json(), "format": self.format.to_json(),
                       "subjects": self.subjects})

    def describe(self) -> dict[str, Any]:
        return {"dataset": self.source.dataset_id, "resource": self.source.resource_id, "fields": self.fields,
                "where": self.where, "types": [self.source.field_type(f) for f in self.fields], "subject_key": self.source.subject_key,
                "layout": self.layout.to_json(), "format": self.format.to_json(), "digest": self.digest,
                "subjects": self.subjects}


def _fields(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [f for f in value.split(",") if f]
    if not isinstance(value, list) or not value or not all(isinstance(f, str) and f for f in value) \
            or len(set(value)) != len(value):
        raise bad_request("invalid_fields", "fields is a non-empty list of distinct field names")
    return value


def _licensed(session: Session, refusals: Refusals, caller: ComputeCaller, dataset: Any, resource: Any,
              fields: Any, where: Any) -> tuple[SubjectSource, Grant, list[str], dict[str, Any]]:
    source = source_for(session, dataset, resource)
    refusals.target = f"dataset:{source.dataset_id}"
    fields = _fields(fields)
    unknown = [f for f in fields if f not in source.fields or f == source.subject_key]
    if unknown:
        raise bad_request("unknown_field", f"{source.dataset_id}/{source.resource_id} has no field {unknown[0][:63]!r}")
    typed_where = check_filters(source, where)
    require_grant(refusals, caller, source.dataset_id, [*fields, *typed_where])
    grant = grant_for(session, caller.licence_id, source.dataset_id, source.resource_id)
    if grant is None:
        refusals.deny(403, "hidden_query_not_licensed", f"this licence grants no hidden query on "
                      f"{source.dataset_id}/{source.resource_id}", dataset=source.dataset_id)
    outside = sorted(set(fields) - set(grant.fields))
    if outside:
        refusals.deny(403, "field_not_licensed", f"the licence's hidden queries do not return {', '.join(outside)}",
                      dataset=source.dataset_id, fields=outside)
    return source, grant, fields, typed_where


def read_table(session: Session, source: SubjectSource, fields: list[str], where: dict[str, Any], n_bits: int,
               linear_max: int) -> Table:
    """Every subject in key order with its record (the whole table: no subject is singled out).
    ``where``: equality filters that leave one row per subject (e.g. a month). The directory
    is every subject of the table whatever the filters (a subject without a matching row has
    an empty record): the layout costs no quota, and a directory narrowed by a filter on a
    value column (``where.rating=A``) would read that column for every subject for free."""
    require_unique(session, source, list(where))
    table = source.table
    present = source.subject_column.is_not(None)
    # Sorted here, not by the database: PostgreSQL's collation may order text differently
    # from the SDK, which finds a subject's position in this order.
    subjects = sorted({str(key) for key in session.scalars(select(source.subject_column).where(present))})
    if not subjects:
        raise bad_request("no_subjects", f"{source.dataset_id}/{source.resource_id} has no subjects")
    matching = {str(row[0]): row[1:] for row in session.execute(
        select(source.subject_column, *(table.c[f] for f in fields)).where(present, *_filter_clauses(source, where)))}
    empty = (None,) * len(fields)
    records = [[field_text(value, source.field_type(f)) for f, value in zip(fields, matching.get(subject, empty))]
               for subject in subjects]
    fmt, chunks = encode_table(records, n_bits, [source.field_type(f) for f in fields])
    return Table(source, fields, {k: str(v) for k, v in where.items()}, subjects,
                 Layout.for_subjects(len(subjects), linear_max=linear_max), fmt, chunks)


def _used_today(session: Session, licence_id: int, kind: str) -> int:
    return session.scalar(select(LicenceUsage.used).where(
        LicenceUsage.licence_id == licence_id, LicenceUsage.kind == kind,
        LicenceUsage.day == localtime.today(session))) or 0


def _quota_refusal(refusals: Refusals, grant: Grant, used: int) -> None:
    if used + 1 > grant.per_day:
        refusals.fail(quotas.quota_exceeded("hidden queries", grant.per_day, localtime.zone_of(refusals.session)),
                      used_today=used)


def layout(database: Database, settings: Settings, runtime: ComputeRuntime, incoming: Incoming, dataset: Any,
           resource: Any, fields: Any, key_id: Any, where: Any = None) -> dict[str, Any]:
    """The directory and layout an enterprise builds its selection on (no quota is spent)."""
    with database.session() as session:
        refusals = Refusals(session, incoming.info, LAYOUT_ACTION)
        caller = authenticate(session, settings, incoming.raw_token, refusals)
        with audited(refusals):
            source, grant, fields, where = _licensed(session, refusals, caller, dataset, resource, fields, where)
            if not isinstance(key_id, str):
                raise bad_request("missing_field", "key_id names your registered key (its records are sized to it)")
            key_row = own_key(session, caller.organisation_id, key_id)
            table = read_table(session, source, fields, where, runtime.public_key(key_row.kid, key_row.n).bits,
                               runtime.settings.hidden_query_linear_max)
            used = _used_today(session, caller.licence_id, grant.quota_kind)
        append(session, actor=caller.actor, action=LAYOUT_ACTION, target=refusals.target,
               details={"licence": caller.licence_id, "dataset": source.dataset_id, "resource": source.resource_id,
                        "fields": fields, "where": table.where, "layout": table.digest}, request=caller.request)
        session.commit()
    return {**table.describe(), "key_id": key_row.kid, "per_day": grant.per_day, "used_today": used}


@dataclass(frozen=True)
class HiddenQueryJob:
    caller: ComputeCaller
    grant: Grant
    public_key: PublicKey
    table: Table
    selection: Selection
    contexts: tuple[bytes, bytes]
    details: dict[str, Any]


def _selection(body: Any) -> Selection:
    data = members(body, "selection", ("cols", "proofs"), ("rows",))
    proofs = members(data["proofs"], "selection.proofs", ("cols",), ("rows",))
    for name in ("rows", "cols"):
        value = data.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(c, str) for c in value)):
            raise bad_request("selection_invalid", f"selection.{name} is a list of ciphertexts (decimal strings)")
    if ("rows" in data) != ("rows" in proofs):
        raise bad_request("selection_invalid", "selection.rows and its proof go together")
    return Selection(data.get("rows"), data["cols"], proofs.get("rows"), proofs["cols"])


def _query(session: Session, database: Database, settings: Settings, runtime: ComputeRuntime, caller: ComputeCaller,
           refusals: Refusals, body: bytes) -> HiddenQueryJob:
    request = members(parse_json(body), "a hidden query", ("dataset", "fields", "key_id", "layout", "selection"),
                      ("resource", "where"))
    source, grant, fields, where = _licensed(session, refusals, caller, request["dataset"], request.get("resource"),
                                             request["fields"], request.get("where"))
    selection = _selection(request["selection"])
    key_row = own_key(session, caller.organisation_id, request["key_id"])
    public_key = runtime.public_key(key_row.kid, key_row.n)
    table = read_table(session, source, fields, where, public_key.bits, runtime.settings.hidden_query_linear_max)
    if request["layout"] != table.digest:
        raise AppError(409, "layout_changed", "the resource's layout changed since you read it: read it again "
                       "(GET /api/v1/compute/hidden-query/layout) and rebuild the selection")
    check_selection(public_key, table.layout, selection)
    _quota_refusal(refusals, grant, _used_today(session, caller.licence_id, grant.quota_kind))
    contexts = tuple(parameters.context(settings, caller.organisation_id, key_row.kid, purpose)
                     for purpose in (ROWS_PURPOSE, COLS_PURPOSE))
    details = {
        "licence": caller.licence_id, "dataset": source.dataset_id, "resource": source.resource_id,
        "fields": fields, "where": table.where, "key": key_row.kid, "layout": table.digest, "subjects_in_layout": table.layout.subjects,
        "inputs": digest({"rows": selection.rows, "cols": selection.cols}),
    }
    return HiddenQueryJob(caller, grant, public_key, table, selection, contexts, details)  # type: ignore[arg-type]


def prepare(database: Database, settings: Settings, runtime: ComputeRuntime, incoming: Incoming) -> HiddenQueryJob:
    with database.session() as session:
        refusals = Refusals(session, incoming.info, ACTION)
        caller = authenticate(session, settings, incoming.raw_token, refusals)
        with audited(refusals):
            return _query(session, database, settings, runtime, caller, refusals, incoming.body)


def finish(database: Database, job: HiddenQueryJob, answer: list[list[str]], seconds: float) -> dict[str, Any]:
    """Charge one hidden query of the grant's day and audit (count, fields, digests)."""
    with database.session() as session:
        refusals = Refusals(session, job.caller.request, ACTION, f"dataset:{job.table.source.dataset_id}",
                            job.caller.actor, {"licence": job.caller.licence_id})
        used = quotas.charge(session, job.caller.licence_id, job.grant.quota_kind, 1, job.grant.per_day)
        if used is None:
            _quota_refusal(refusals, job.grant, job.grant.per_day)
        reference = append(session, actor=job.caller.actor, action=ACTION, target=refusals.target,
                           details={**job.details, "queries": 1, "outputs": digest(answer),
                                    "duration_ms": round(seconds * 1e3, 1), "hidden_query_used_today": used},
                           request=job.caller.request)
        session.commit()
    return {"dataset": job.table.source.dataset_id, "resource": job.table.source.resource_id,
            "fields": job.table.fields, "key_id": job.public_key.key_id, "layout": job.table.digest,
            "answer": answer, "used_today": used, "per_day": job.grant.per_day, "audit": reference}

