"""Per-installation secrets kept in the database, so every portal process shares them."""

from __future__ import annotations

import secrets

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from opendata.db import Base


class InstanceSecret(Base):
    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


# Secrets never change once stored, so each process reads each one once. Only values read
# back as already stored are cached: one created inside a transaction that later rolls
# back must not outlive it.
_known: dict[tuple[str, str], bytes] = {}


def instance_secret(session: Session, name: str) -> bytes:
    """The secret called ``name``, created on first use (race-safe across processes)."""
    key = (str(session.get_bind().url), name)
    if key in _known:
        return _known[key]
    value = session.scalar(select(InstanceSecret.value).where(InstanceSecret.name == name))
    if value is not None:
        _known[key] = bytes.fromhex(value)
        return _known[key]
    try:
        with session.begin_nested():
            session.add(InstanceSecret(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process created it first; use theirs
    value = session.scalar(select(InstanceSecret.value).where(InstanceSecret.name == name))
    return bytes.fromhex(value)  # type: ignore[arg-type]
