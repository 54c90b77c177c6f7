"""Finding audit records: filters, keyset paging (newest first) and export batches."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from opendata.audit.models import AuditRecord
from opendata.audit.service import OUTCOMES
from opendata.errors import bad_request

PAGE_SIZE_MAX = 500
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class AuditQuery:
    """``action`` matches exactly, or by prefix when it ends with ``*`` (``data.*``)."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    page_size: int = 50

    def check(self) -> "AuditQuery":
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise bad_request("invalid_outcome", f"outcome is one of {', '.join(OUTCOMES)}")
        if not 1 <= self.page_size <= PAGE_SIZE_MAX:
            raise bad_request("invalid_page_size", f"page_size is 1 to {PAGE_SIZE_MAX}")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise bad_request("invalid_time", f"{name} needs a time zone (e.g. 2025-01-01T00:00:00Z)")
        if self.since and self.until and self.until < self.since:
            raise bad_request("invalid_time", "until is before since")
        return self


def _filtered(query: AuditQuery) -> Select[tuple[AuditRecord]]:
    statement = select(AuditRecord)
    if query.actor:
        statement = statement.where(AuditRecord.actor == query.actor)
    if query.action:
        if query.action.endswith("*"):
            prefix = query.action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(AuditRecord.action.like(prefix + "%", escape="\\"))
        else:
            statement = statement.where(AuditRecord.action == query.action)
    if query.target:
        statement = statement.where(AuditRecord.target == query.target)
    if query.outcome:
        statement = statement.where(AuditRecord.outcome == query.outcome)
    if query.since:
        statement = statement.where(AuditRecord.at >= query.since)
    if query.until:
        statement = statement.where(AuditRecord.at < query.until)
    return statement


def search(session: Session, query: AuditQuery) -> tuple[list[AuditRecord], int | None]:
    """One page, newest first, and the ``before`` cursor of the next page (None at the end)."""
    statement = _filtered(query.check())
    if query.before is not None:
        statement = statement.where(AuditRecord.id < query.before)
    rows = list(session.scalars(statement.order_by(AuditRecord.id.desc()).limit(query.page_size + 1)))
    more = len(rows) > query.page_size
    rows = rows[: query.page_size]
    return rows, (rows[-1].id if more and rows else None)


def iter_matching(session: Session, query: AuditQuery) -> Iterator[AuditRecord]:
    """Every matching record, oldest first, read in batches by id (no long-held cursor)."""
    last_id = 0
    statement = _filtered(query.check())
    while True:
        batch = list(session.scalars(
            statement.where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(EXPORT_BATCH)
        ))
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
        session.expunge_all()


def details_of(record: AuditRecord) -> dict[str, Any]:
    return json.loads(record.details or "{}")
