"""Appending to the audit trail, and recording refusals that outlive the request.

``append`` writes in the caller's transaction, so a change and its audit record commit
together or not at all. ``refuse`` is for the other case: the request is refused, its
work is rolled back, and the refusal alone is committed before the error is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NoReturn

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from opendata.audit.chain import LEGACY_SCHEME, canonical_json, values_hash
from opendata.audit.keyfiles import KeyMaterial, material_for
from opendata.audit.models import GENESIS_HASH, AuditRecord
from opendata.db import pg_lock_key, utcnow
from opendata.errors import AppError

# incomplete: begun and charged, then broken off (a download whose stream broke; refunded).
OUTCOMES = ("success", "refused", "incomplete")
# Any fixed 64-bit number works; this one spells "odaudit" so a DBA can tell whose it is.
AUDIT_LOCK = "opendata.audit"


@dataclass(frozen=True)
class Actor:
    """Who did it: ``user:<username>``, ``client:<client id>``, ``cli:<os user>``, ``anonymous``."""

    name: str
    role: str | None = None


ANONYMOUS = Actor("anonymous")


@dataclass(frozen=True)
class RequestInfo:
    method: str | None = None
    path: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    token_jti: str | None = None

    def with_jti(self, jti: str | None) -> "RequestInfo":
        return replace(self, token_jti=jti)


NO_REQUEST = RequestInfo()


def _lock_chain(session: Session) -> None:
    """Serialise appenders until the caller's transaction ends, so the chain never forks."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({pg_lock_key(AUDIT_LOCK)})"))
    elif dialect == "sqlite":
        # pysqlite opens a transaction only at the first write, so reading the chain's
        # head first could see a head another process is about to extend. A write that
        # touches nothing takes SQLite's single write lock right away.
        session.execute(text("DELETE FROM audit_records WHERE 0 = 1"))
    else:
        raise RuntimeError(f"the audit chain has no lock for dialect {dialect!r}")


_HEAD = select(AuditRecord.__table__.c.id, AuditRecord.__table__.c.hash).order_by(
    AuditRecord.__table__.c.id.desc()).limit(1)
_INSERT = AuditRecord.__table__.insert()


def append(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target: str | None = None,
    outcome: str = "success",
    code: str | None = None,
    details: dict[str, Any] | None = None,
    request: RequestInfo = NO_REQUEST,
) -> int:
    """Add one record to the chain inside the caller's transaction; returns its id.

    Core statements built once rather than ORM objects: this runs on every licensed
    query, and the ORM's unit of work would double its cost.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    _lock_chain(session)
    head = session.execute(_HEAD).first()
    last_id, prev_hash = (head.id, head.hash) if head else (0, GENESIS_HASH)
    values = {
        "id": last_id + 1, "at": utcnow(), "actor": actor.name[:127], "actor_role": actor.role,
        "action": action, "target": target[:255] if target else None, "outcome": outcome, "code": code,
        "details": canonical_json(details or {}), "method": request.method,
        "path": request.path[:1024] if request.path else None, "client_ip": request.client_ip,
        "user_agent": request.user_agent[:255] if request.user_agent else None,
        "token_jti": request.token_jti, "prev_hash": prev_hash,
    }
    material = material_for(session)
    values["scheme"] = material.crypto.selected.audit.scheme  # the deployment's crypto suite's
    if head and not material.checked(session.get_bind().url):
        _check_key_against_head(session, material, head.id)
        material.mark_checked(session.get_bind().url)
    values["hash"] = values_hash(values, material.hmac_key, material.crypto)
    session.execute(_INSERT, values)
    if material.checkpoint_every_records > 0 and values["id"] % material.checkpoint_every_records == 0:
        from opendata.audit.checkpoints import checkpoint_due

        checkpoint_due(session.get_bind().url)  # the checkpointer thread signs once this commits
    return last_id + 1


def check_head(session: Session) -> None:
    """At start: the chain's newest record must verify with this process's audit key and
    crypto suites (RuntimeError, one line, otherwise), so that a process with another key,
    or without the plugin whose suite wrote the records, stops at start rather than failing
    every audited request."""
    head = session.execute(_HEAD).first()
    if head is not None:
        material = material_for(session)
        _check_key_against_head(session, material, head.id)
        material.mark_checked(session.get_bind().url)


def _check_key_against_head(session: Session, material: KeyMaterial, head_id: int) -> None:
    """Refuse to extend a keyed chain with another key (a process started with the wrong
    data dir or OPENDATA_AUDIT_KEY): every record it wrote would later read as forged."""
    from opendata.audit.chain import record_hash

    record = session.get(AuditRecord, head_id)
    if record is None or record.scheme == LEGACY_SCHEME:
        return
    if material.crypto.audit(record.scheme) is None:
        raise RuntimeError(
            f"audit record #{head_id} is hashed with {record.scheme}, which no enabled crypto suite knows: "
            "enable the plugin that wrote it (OPENDATA_PLUGINS) so the chain can be checked and extended")
    if record_hash(record, material.hmac_key, material.crypto) != record.hash:
        raise RuntimeError(
            f"the audit key does not match audit record #{head_id}: this process has another data dir "
            "or OPENDATA_AUDIT_KEY than the one that wrote the chain (or the record was altered; "
            "run opendata audit verify)")


def refuse(
    session: Session,
    error: AppError,
    *,
    actor: Actor,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    request: RequestInfo = NO_REQUEST,
) -> NoReturn:
    """Roll back the request's work, commit an audit record of the refusal, raise ``error``.

    The rollback comes first so that nothing the refused request wrote is committed
    along with the record (and, on SQLite, so that no write lock of the request blocks it).
    """
    session.rollback()
    append(
        session, actor=actor, action=action, target=target, outcome="refused",
        code=error.code, details={"status": error.status, "message": error.message, **(details or {})},
        request=request,
    )
    session.commit()
    error.audited = True
    raise error
