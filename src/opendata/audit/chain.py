"""Hashing and verifying the audit chain.

Schemes, named in each record's ``scheme`` column:

- a keyed scheme (every record written since migration 0011): the keyed hash of the
  deployment's crypto suite (opendata.extensions.crypto.AuditHashing; ``hmac-sha256`` by
  default, ``hmac-sm3`` with the gmcrypto plugin), under the audit key kept outside the
  database (audit/keyfiles.py), of the canonical JSON (sorted keys, no spaces, UTF-8) of all
  columns but ``hash``, ``prev_hash`` and ``scheme`` included. Without the key nobody can
  compute a valid hash, so a rewritten record cannot be re-hashed. A record verifies under
  the scheme it names, so a chain that changed suite verifies across the change, as long
  as the suites that wrote it are known (enabled).
- ``sha256`` (records written before): the same JSON without ``scheme``, unkeyed. They are
  kept as they were (the table is append-only, and re-chaining would rewrite history); their
  protection is the first keyed record, whose HMAC covers the last legacy hash, and the
  signed checkpoints, which pin how many legacy records there were (audit/verify.py).

``verify_chain`` is the chain check alone; audit/verify.py adds the checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Iterator, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.audit.models import GENESIS_HASH, AuditRecord
from opendata.extensions.crypto import Suites, default_suites

LEGACY_SCHEME = "sha256"
KEYED_SCHEME = "hmac-sha256"
HASHED_COLUMNS = (
    "id", "at", "actor", "actor_role", "action", "target", "outcome", "code", "details",
    "method", "path", "client_ip", "user_agent", "token_jti", "prev_hash",
)
ALL_COLUMNS = (*HASHED_COLUMNS, "hash", "scheme")
VERIFY_BATCH = 2000


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def values_hash(values: Mapping[str, Any], key: bytes | None = None, suites: Suites | None = None) -> str:
    """The hash of a record given as its column values (``at`` a datetime).

    ``scheme`` missing means the legacy scheme; a keyed one needs ``key``, and a suite of
    ``suites`` (the core's by default) that knows it."""
    hashed = {name: values[name] for name in HASHED_COLUMNS}
    hashed["at"] = canonical_time(values["at"])
    scheme = values.get("scheme") or LEGACY_SCHEME
    if scheme == LEGACY_SCHEME:
        return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()
    hashing = (suites or default_suites()).audit(scheme)
    if hashing is None:
        raise ValueError(f"unknown audit hash scheme {scheme!r}")
    if key is None:
        raise ValueError("the keyed audit scheme needs the audit key")
    hashed["scheme"] = scheme
    return hashing.digest(key, canonical_json(hashed).encode("utf-8"))


def record_values(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in ALL_COLUMNS}


def record_hash(record: AuditRecord, key: bytes | None = None, suites: Suites | None = None) -> str:
    return values_hash(record_values(record), key, suites)


def leaf_data(values: Mapping[str, Any]) -> bytes:
    """What a Merkle leaf commits to: the whole record, hash and scheme included, so an
    inclusion proof shows a record's content to someone who does not hold the audit key."""
    out = {name: values[name] for name in ALL_COLUMNS}
    out["at"] = canonical_time(values["at"])
    return canonical_json(out).encode("utf-8")


def iter_records(session: Session, after_id: int = 0) -> Iterator[AuditRecord]:
    """Records in id order, in batches so memory stays flat on a long trail."""
    last_id = after_id
    while True:
        batch = session.scalars(
            select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(VERIFY_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
        session.expunge_all()


def record_problem(record: AuditRecord, expected_id: int, expected_prev: str, key: bytes,
                   seen_keyed: bool, suites: Suites | None = None) -> str | None:
    suites = suites or default_suites()
    if record.id != expected_id:
        return f"expected record #{expected_id} here, found #{record.id} (records removed?)"
    if record.prev_hash != expected_prev:
        return "its prev_hash does not match the previous record's hash"
    if record.scheme != LEGACY_SCHEME and suites.audit(record.scheme) is None:
        return (f"unknown hash scheme {record.scheme!r} (is the plugin whose crypto suite wrote it "
                "enabled? OPENDATA_PLUGINS)")
    if record.scheme == LEGACY_SCHEME and seen_keyed:
        return "unkeyed (sha256) record after keyed ones: rewritten without the audit key?"
    if not hmac.compare_digest(record_hash(record, key, suites), record.hash):
        if record.scheme != LEGACY_SCHEME:
            return (f"its contents do not match its HMAC ({record.scheme}): record altered, or re-hashed "
                    "without the audit key?")
        return "its contents do not match its hash (record altered?)"
    return None


@dataclass(frozen=True)
class ChainReport:
    records: int
    head_hash: str
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(session: Session, key: bytes | None = None) -> ChainReport:
    """The chain alone, up to its first broken record (``key``: this deployment's audit key)."""
    from opendata.audit.keyfiles import material_for

    material = material_for(session)
    key = material.hmac_key if key is None else key
    expected_prev, expected_id, count, seen_keyed = GENESIS_HASH, 1, 0, False
    for record in iter_records(session):
        problem = record_problem(record, expected_id, expected_prev, key, seen_keyed, material.crypto)
        if problem:
            return ChainReport(count, expected_prev, record.id, problem)
        seen_keyed = seen_keyed or record.scheme != LEGACY_SCHEME
        expected_prev, expected_id, count = record.hash, record.id + 1, count + 1
    return ChainReport(count, expected_prev)
