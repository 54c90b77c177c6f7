"""Which private intersection statistics (联合统计) a licence may compute: per resource, the
numeric fields with their clamping bounds, the privacy budget, the minimum cohort, the
longest id list and the sessions a local day.

An administrator sets a licence's grants (PUT replaces them all, audited); the enterprise
reads them with what is left of each budget. A statistic also needs the token to grant
``compute`` on the dataset and the field (callers.require_grant).

The budget only grows spent: a grant kept by a new PUT keeps its ``epsilon_spent``, and a
grant removed and added again starts from what the licence's answered sessions on that
resource spent (``compute_intersection_sessions.epsilon``), so no edit refills it. Spending is
one conditional UPDATE (``spend``): two concurrent queries cannot both fit the last epsilon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute.hidden_grants import kept_rows, licence_row, licence_rows
from opendata.compute.models import IntersectionSession, LicenceIntersectionGrant
from opendata.compute.privacy import SLACK
from opendata.compute.rows import source_for
from opendata.db import utcnow
from opendata.errors import bad_request

MAX_GRANTS = 50
MAX_FIELDS = 16
MAX_IDS = 200_000
MAX_PER_DAY = 1000
MAX_EPSILON_PER_QUERY = 10.0
MAX_EPSILON_TOTAL = 100.0
MAX_SCALE = 6
MAX_BOUND = Decimal(10) ** 12
NUMERIC = ("integer", "decimal", "number")
KEYS = {"dataset", "resource", "fields", "scale", "epsilon_per_query", "epsilon_total", "min_cohort", "max_ids",
        "per_day"}
REQUIRED = {"dataset", "fields", "epsilon_per_query", "epsilon_total", "min_cohort"}
DEFAULTS = {"scale": 2, "max_ids": 100_000, "per_day": 20}


@dataclass(frozen=True)
class Grant:
    id: int
    dataset: str
    resource: str
    fields: dict[str, dict[str, str]]
    scale: int
    epsilon_per_query: float
    epsilon_total: float
    epsilon_spent: float
    min_cohort: int
    max_ids: int
    per_day: int
    updated_at: datetime

    @property
    def epsilon_left(self) -> float:
        return max(0.0, round(self.epsilon_total - self.epsilon_spent, 9))

    @property
    def queries_left(self) -> int:
        return int(math.floor((self.epsilon_left + SLACK) / self.epsilon_per_query))

    def bounds(self, name: str) -> tuple[Decimal, Decimal]:
        return Decimal(self.fields[name]["lower"]), Decimal(self.fields[name]["upper"])

    def sensitivity(self, name: str) -> int:
        """Delta of a sum of ``name`` in fixed-point units: what one subject can add at most."""
        lower, upper = self.bounds(name)
        return max(1, int(max(abs(lower), abs(upper)).scaleb(self.scale)))

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "resource": self.resource, "fields": self.fields, "scale": self.scale,
                "epsilon_per_query": self.epsilon_per_query, "epsilon_total": self.epsilon_total,
                "epsilon_spent": round(self.epsilon_spent, 9), "epsilon_left": self.epsilon_left,
                "queries_left": self.queries_left, "min_cohort": self.min_cohort, "max_ids": self.max_ids,
                "per_day": self.per_day}


def _grant(row: LicenceIntersectionGrant) -> Grant:
    return Grant(row.id, row.dataset_id, row.resource_id, dict(row.fields), row.scale, row.epsilon_per_query,
                 row.epsilon_total, row.epsilon_spent, row.min_cohort, row.max_ids, row.per_day, row.updated_at)


def grants_of(session: Session, licence_id: int) -> list[Grant]:
    return [_grant(row) for row in licence_rows(session, LicenceIntersectionGrant, licence_id)]


def grant_for(session: Session, licence_id: int, dataset_id: str, resource_id: str) -> Grant | None:
    row = licence_row(session, LicenceIntersectionGrant, licence_id, dataset_id, resource_id)
    return None if row is None else _grant(row)


def _number(value: Any, where: str, low: float, high: float, *, whole: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)) \
            or not low <= value <= high:  # NaN fails the comparison; a huge int never reaches float()
        kind = "a whole number" if whole else "a number"
        raise bad_request("invalid_grants", f"{where} is {kind} from {low:g} to {high:g}")
    return value


def _bound(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) > MAX_BOUND:
        raise bad_request("invalid_grants", f"{where} is a decimal number (text or integer) within ±10^12")
    return number


def _fields(value: Any, where: str, source: Any) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict) or not 1 <= len(value) <= MAX_FIELDS:
        raise bad_request("invalid_grants", f'{where}.fields is {{"field": {{"lower": "0", "upper": "40000"}}}} '
                          f"with 1 to {MAX_FIELDS} fields")
    out = {}
    for name, bounds in value.items():
        if name not in source.fields or name == source.subject_key:
            raise bad_request("unknown_field", f"{where}: {source.dataset_id}/{source.resource_id} has no field "
                              f"{str(name)[:63]!r} to sum")
        if source.field_type(name) not in NUMERIC:
            raise bad_request("invalid_grants", f"{where}: {name} is {source.field_type(name)}, not a number")
        if not isinstance(bounds, dict) or set(bounds) != {"lower", "upper"}:
            raise bad_request("invalid_grants", f"{where}.fields.{name} is {{\"lower\", \"upper\"}}")
        lower, upper = _bound(bounds["lower"], f"{where}.fields.{name}.lower"), \
            _bound(bounds["upper"], f"{where}.fields.{name}.upper")
        if not lower < upper:
            raise bad_request("invalid_grants", f"{where}.fields.{name}: lower must be below upper")
        out[name] = {"lower": str(lower), "upper": str(upper)}
    return out


def parse_grants(session: Session, data: Any) -> list[dict[str, Any]]:
    """{"grants": [{"dataset", "resource"?, "fields": {name: {"lower", "upper"}}, "scale"?,
    "epsilon_per_query", "epsilon_total", "min_cohort", "max_ids"?, "per_day"?}]}."""
    if not isinstance(data, dict) or set(data) != {"grants"} or not isinstance(data["grants"], list):
        raise bad_request("invalid_grants", 'the body is {"grants": [{"dataset", "fields", "epsilon_per_query", '
                          '"epsilon_total", "min_cohort", ...}]}')
    if len(data["grants"]) > MAX_GRANTS:
        raise bad_request("invalid_grants", f"at most {MAX_GRANTS} grants per licence")
    parsed, seen = [], set()
    for i, item in enumerate(data["grants"]):
        where = f"grants[{i}]"
        if not isinstance(item, dict) or not REQUIRED <= set(item) or set(item) - KEYS:
            raise bad_request("invalid_grants", f"{where} takes {', '.join(sorted(KEYS))} "
                              f"({', '.join(sorted(REQUIRED))} required)")
        item = {**DEFAULTS, **item}
        source = source_for(session, item["dataset"], item.get("resource"))
        eps_q = float(_number(item["epsilon_per_query"], f"{where}.epsilon_per_query", 0.001, MAX_EPSILON_PER_QUERY,
                              whole=False))
        eps_total = float(_number(item["epsilon_total"], f"{where}.epsilon_total", eps_q, MAX_EPSILON_TOTAL,
                                  whole=False))
        key = (source.dataset_id, source.resource_id)
        if key in seen:
            raise bad_request("invalid_grants", f"{where} repeats {source.dataset_id}/{source.resource_id}")
        seen.add(key)
        parsed.append({
            "dataset_id": source.dataset_id, "resource_id": source.resource_id,
            "fields": _fields(item["fields"], where, source),
            "scale": _number(item["scale"], f"{where}.scale", 0, MAX_SCALE, whole=True),
            "epsilon_per_query": eps_q, "epsilon_total": eps_total,
            "min_cohort": _number(item["min_cohort"], f"{where}.min_cohort", 1, MAX_IDS, whole=True),
            "max_ids": _number(item["max_ids"], f"{where}.max_ids", 1, MAX_IDS, whole=True),
            "per_day": _number(item["per_day"], f"{where}.per_day", 1, MAX_PER_DAY, whole=True),
        })
    return parsed


def spent_by_sessions(session: Session, licence_id: int, dataset_id: str, resource_id: str) -> float:
    return float(session.scalar(select(func.coalesce(func.sum(IntersectionSession.epsilon), 0.0)).where(
        IntersectionSession.licence_id == licence_id, IntersectionSession.dataset_id == dataset_id,
        IntersectionSession.resource_id == resource_id)) or 0.0)


def set_grants(session: Session, licence_id: int, grants: list[dict[str, Any]], *, actor: Actor,
               request: RequestInfo) -> list[Grant]:
    """Replace the licence's grants (in the caller's transaction, audited)."""
    existing = kept_rows(session, LicenceIntersectionGrant, licence_id, grants)
    for grant in grants:
        row = existing.get((grant["dataset_id"], grant["resource_id"]))
        if row is None:
            row = LicenceIntersectionGrant(licence_id=licence_id, dataset_id=grant["dataset_id"],
                                           resource_id=grant["resource_id"], updated_by=actor.name,
                                           epsilon_spent=spent_by_sessions(session, licence_id, grant["dataset_id"],
                                                                           grant["resource_id"]))
            session.add(row)
        for name in ("fields", "scale", "epsilon_per_query", "epsilon_total", "min_cohort", "max_ids", "per_day"):
            setattr(row, name, grant[name])
        row.updated_at, row.updated_by = utcnow(), actor.name
    session.flush()
    result = grants_of(session, licence_id)
    append(session, actor=actor, action="compute.intersection.grants", target=f"licence:{licence_id}",
           details={"grants": [g.to_json() for g in result]}, request=request)
    return result


def spend(session: Session, grant_id: int, epsilon: float) -> bool:
    """Add ``epsilon`` to the grant's spent budget if it fits (one conditional UPDATE)."""
    result = session.execute(update(LicenceIntersectionGrant).where(
        LicenceIntersectionGrant.id == grant_id,
        LicenceIntersectionGrant.epsilon_spent + epsilon <= LicenceIntersectionGrant.epsilon_total + SLACK,
    ).values(epsilon_spent=LicenceIntersectionGrant.epsilon_spent + epsilon))
    return result.rowcount == 1  # type: ignore[attr-defined]
