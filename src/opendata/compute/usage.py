"""What an enterprise may see of its own audit records: an allow-list of detail fields.

The trail records more than the licensee should learn back from it: whether a verified
subject had a row (``found``), how long a computation took (``duration_ms``), keyed
digests of subjects and inputs. Read back, ``found`` is an existence oracle and the
durations a timing channel, even with ``reveal_not_found`` off. So the enterprise's views
(the portal's usage page, ``GET /api/v1/compute/usage``) show only the fields below, and
a field added to a record later stays hidden until it is added here -- a deny list would
leak every new field by default. Administrators keep the whole record (/admin/audit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access.models import ApiClient, User
from opendata.audit.models import AuditRecord

# Everything here describes the request as the enterprise sent it or its own quota and
# licence; nothing describes the data or the server's work.
ENTERPRISE_DETAIL_FIELDS = frozenset({
    "licence", "dataset", "resource", "fields", "scales", "where", "model", "digest", "key", "features",
    "score_scale", "output_mode", "bits", "compute_used_today", "query_used_today", "download_used_today",
    "units", "used_today", "status", "message", "reason", "scope", "expires_in", "application", "from", "to",
    "valid_from", "name", "organisation", "role", "outside", "format", "rows",
    "layout", "subjects_in_layout", "queries", "hidden_query_used_today", "grants",
    "field", "session", "ids", "subjects_offered", "epsilon", "epsilon_left", "suppressed", "count",
})
MAX_RECORDS = 200


@dataclass(frozen=True)
class VisibleRecord:
    """An audit record as its enterprise sees it (same attribute names as AuditRecord)."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    code: str | None
    details: str  # canonical JSON of the allowed fields only

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor, "action": self.action,
                "target": self.target, "outcome": self.outcome, "code": self.code,
                "details": json.loads(self.details)}


def visible_details(raw: str | dict[str, Any]) -> dict[str, Any]:
    details = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(details, dict):
        return {}
    return {name: value for name, value in details.items() if name in ENTERPRISE_DETAIL_FIELDS}


def visible(record: AuditRecord) -> VisibleRecord:
    return VisibleRecord(record.id, record.at, record.actor, record.action, record.target, record.outcome,
                         record.code, json.dumps(visible_details(record.details), ensure_ascii=False,
                                                 sort_keys=True, separators=(",", ":")))


def organisation_actors(session: Session, organisation_id: int) -> list[str]:
    people = [f"user:{name}" for name in session.scalars(
        select(User.username).where(User.organisation_id == organisation_id))]
    programs = [f"client:{cid}" for cid in session.scalars(
        select(ApiClient.client_id).where(ApiClient.organisation_id == organisation_id))]
    return people + programs


def organisation_records(session: Session, organisation_id: int, *, limit: int = MAX_RECORDS,
                         action_prefix: str | None = None) -> list[VisibleRecord]:
    """The newest records of the organisation's people and API clients, filtered."""
    actors = organisation_actors(session, organisation_id)
    if not actors:
        return []
    query = select(AuditRecord).where(AuditRecord.actor.in_(actors))
    if action_prefix is not None:
        query = query.where(AuditRecord.action.startswith(action_prefix))
    rows: Sequence[AuditRecord] = list(session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit)))
    return [visible(record) for record in rows]
