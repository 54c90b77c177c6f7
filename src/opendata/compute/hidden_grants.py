"""Which hidden queries a licence may make: per resource, the fields and a daily number.

An administrator sets a licence's grants (PUT replaces them all, audited); the enterprise
reads them. A hidden query also needs the token to grant ``compute`` on the dataset and
those fields (callers.require_grant): the grant narrows the licence, never widens it.
Each grant's day count is a quota of its own (kind ``hq:<grant id>``, access/quotas.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from opendata.access.models import Licence
from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute.models import LicenceHiddenQueryGrant
from opendata.compute.rows import source_for
from opendata.db import utcnow
from opendata.errors import AppError, bad_request

MAX_GRANTS = 50
MAX_PER_DAY = 100_000
MAX_FIELDS = 16


@dataclass(frozen=True)
class Grant:
    id: int
    dataset: str
    resource: str
    fields: tuple[str, ...]
    per_day: int

    @property
    def quota_kind(self) -> str:
        return f"hq:{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "resource": self.resource, "fields": list(self.fields),
                "per_day": self.per_day}


def _grant(row: LicenceHiddenQueryGrant) -> Grant:
    return Grant(row.id, row.dataset_id, row.resource_id, tuple(row.fields), row.per_day)


def licence_rows(session: Session, model: Any, licence_id: int) -> list[Any]:
    """A licence's grant rows of one kind (``model``: a table with licence_id, dataset_id and
    resource_id), in dataset and resource order."""
    return list(session.scalars(select(model).where(model.licence_id == licence_id)
                                .order_by(model.dataset_id, model.resource_id)))


def licence_row(session: Session, model: Any, licence_id: int, dataset_id: str, resource_id: str) -> Any:
    return session.scalars(select(model).where(model.licence_id == licence_id, model.dataset_id == dataset_id,
                                               model.resource_id == resource_id)).one_or_none()


def kept_rows(session: Session, model: Any, licence_id: int, grants: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """Before replacing a licence's grants: 404 for a missing licence, delete the rows of
    resources no longer granted, return the kept rows by (dataset, resource)."""
    if session.get(Licence, licence_id) is None:
        raise AppError(404, "not_found", f"licence {licence_id} does not exist")
    existing = {(row.dataset_id, row.resource_id): row for row in licence_rows(session, model, licence_id)}
    wanted = {(g["dataset_id"], g["resource_id"]) for g in grants}
    gone = [row.id for key, row in existing.items() if key not in wanted]
    if gone:
        session.execute(delete(model).where(model.id.in_(gone)))
    return {key: row for key, row in existing.items() if key in wanted}


def grants_of(session: Session, licence_id: int) -> list[Grant]:
    return [_grant(row) for row in licence_rows(session, LicenceHiddenQueryGrant, licence_id)]


def grant_for(session: Session, licence_id: int, dataset_id: str, resource_id: str) -> Grant | None:
    row = licence_row(session, LicenceHiddenQueryGrant, licence_id, dataset_id, resource_id)
    return None if row is None else _grant(row)


def parse_grants(session: Session, data: Any) -> list[dict[str, Any]]:
    """{"grants": [{"dataset", "resource"?, "fields": [...], "per_day"}]}, checked against
    the catalogue (the resource must have a subject key, the fields must exist)."""
    if not isinstance(data, dict) or set(data) != {"grants"} or not isinstance(data["grants"], list):
        raise bad_request("invalid_grants", 'the body is {"grants": [{"dataset", "resource", "fields", "per_day"}]}')
    if len(data["grants"]) > MAX_GRANTS:
        raise bad_request("invalid_grants", f"at most {MAX_GRANTS} grants per licence")
    parsed, seen = [], set()
    for i, item in enumerate(data["grants"]):
        where = f"grants[{i}]"
        if not isinstance(item, dict) or not {"dataset", "fields", "per_day"} <= set(item) \
                or set(item) - {"dataset", "resource", "fields", "per_day"}:
            raise bad_request("invalid_grants", f"{where} takes dataset, resource, fields and per_day")
        source = source_for(session, item["dataset"], item.get("resource"))
        fields = item["fields"]
        if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS \
                or not all(isinstance(f, str) for f in fields) or len(set(fields)) != len(fields):
            raise bad_request("invalid_grants", f"{where}.fields is a list of 1 to {MAX_FIELDS} distinct field names")
        unknown = [f for f in fields if f not in source.fields or f == source.subject_key]
        if unknown:
            raise bad_request("unknown_field", f"{where}: {source.dataset_id}/{source.resource_id} has no field "
                              f"{unknown[0][:63]!r} to return")
        per_day = item["per_day"]
        if isinstance(per_day, bool) or not isinstance(per_day, int) or not 1 <= per_day <= MAX_PER_DAY:
            raise bad_request("invalid_grants", f"{where}.per_day is a whole number from 1 to {MAX_PER_DAY}")
        key = (source.dataset_id, source.resource_id)
        if key in seen:
            raise bad_request("invalid_grants", f"{where} repeats {source.dataset_id}/{source.resource_id}")
        seen.add(key)
        parsed.append({"dataset_id": source.dataset_id, "resource_id": source.resource_id, "fields": fields,
                       "per_day": per_day})
    return parsed


def set_grants(session: Session, licence_id: int, grants: list[dict[str, Any]], *, actor: Actor,
               request: RequestInfo) -> list[Grant]:
    """Replace the licence's grants (in the caller's transaction, audited). Grant ids, and so
    today's counts, are kept for a resource that stays granted."""
    existing = kept_rows(session, LicenceHiddenQueryGrant, licence_id, grants)
    for grant in grants:
        row = existing.get((grant["dataset_id"], grant["resource_id"]))
        if row is None:
            row = LicenceHiddenQueryGrant(licence_id=licence_id, **grant, updated_by=actor.name)
            session.add(row)
        row.fields, row.per_day = grant["fields"], grant["per_day"]
        row.updated_at, row.updated_by = utcnow(), actor.name
    session.flush()
    result = grants_of(session, licence_id)
    append(session, actor=actor, action="compute.hidden_query.grants", target=f"licence:{licence_id}",
           details={"grants": [g.to_json() for g in result]}, request=request)
    return result
