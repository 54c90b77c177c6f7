"""Hashing and verifying the audit chain.

A record's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of all
its columns but ``hash`` itself, ``prev_hash`` included. Verification walks the table in
id order and names the first record whose stored hash, predecessor link or id does not
match what recomputation says.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.audit.models import GENESIS_HASH, AuditRecord

HASHED_COLUMNS = (
    "id", "at", "actor", "actor_role", "action", "target", "outcome", "code", "details",
    "method", "path", "client_ip", "user_agent", "token_jti", "prev_hash",
)
VERIFY_BATCH = 2000


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def values_hash(values: Mapping[str, Any]) -> str:
    """The hash of a record given as its column values (``at`` a datetime)."""
    hashed = {name: values[name] for name in HASHED_COLUMNS}
    hashed["at"] = canonical_time(values["at"])
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()


def record_hash(record: AuditRecord) -> str:
    return values_hash({name: getattr(record, name) for name in HASHED_COLUMNS})


@dataclass(frozen=True)
class ChainReport:
    records: int
    head_hash: str
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(session: Session) -> ChainReport:
    """Recompute the whole chain, in batches so memory stays flat on a long trail."""
    expected_prev, expected_id, count, last_id = GENESIS_HASH, 1, 0, 0
    while True:
        batch = session.scalars(
            select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id)
            .limit(VERIFY_BATCH)
        ).all()
        if not batch:
            return ChainReport(count, expected_prev)
        for record in batch:
            problem = _problem(record, expected_id, expected_prev)
            if problem:
                return ChainReport(count, expected_prev, record.id, problem)
            expected_prev, expected_id, count = record.hash, record.id + 1, count + 1
        last_id = batch[-1].id
        session.expunge_all()


def _problem(record: AuditRecord, expected_id: int, expected_prev: str) -> str | None:
    if record.id != expected_id:
        return f"expected record #{expected_id} here, found #{record.id} (records removed?)"
    if record.prev_hash != expected_prev:
        return "its prev_hash does not match the previous record's hash"
    if record_hash(record) != record.hash:
        return "its contents do not match its hash (record altered?)"
    return None
