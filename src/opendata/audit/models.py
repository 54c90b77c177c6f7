"""The audit table: append-only, each record chained to the previous one by its hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditRecord(Base):
    """One thing that happened. ``hash`` is an HMAC-SHA256 (key outside the database) over
    the canonical JSON of every other column including ``prev_hash`` (``scheme`` says which
    hash: audit/chain.py), so changing, removing or reordering a record breaks the chain
    from there on, and nobody without the key can re-hash it.

    ``id`` is assigned by the appender (previous id + 1) under the chain lock rather
    than by a sequence: a gap or a duplicate would itself be a sign of tampering.
    """

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(127), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(63), index=True)
    target: Mapped[str | None] = mapped_column(String(255), index=True)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str | None] = mapped_column(String(63))
    # Canonical JSON text (not a JSON column) so the hashed bytes come back unchanged.
    details: Mapped[str] = mapped_column(Text, default="{}")
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(String(1024))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    token_jti: Mapped[str | None] = mapped_column(String(64))
    # Unique: two records can never follow the same one, so the chain cannot fork even
    # if an appender ever ran without the lock (its insert would fail instead).
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    # "sha256" for records written before migration 0011 (unkeyed), else "hmac-sha256".
    scheme: Mapped[str] = mapped_column(String(16), server_default="sha256")
