"""Daily quotas, charged by one atomic conditional upsert.

``INSERT ... ON CONFLICT (licence, day, kind) DO UPDATE SET used = used + n WHERE used + n
<= limit RETURNING used`` either charges the whole amount or nothing, in one statement:
PostgreSQL serialises concurrent upserts of the same row on its row lock and re-checks the
WHERE against the committed value, SQLite has a single writer. No read-then-write race.
Quota days are UTC days.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from opendata.access.models import LicenceUsage
from opendata.db import utcnow
from opendata.errors import AppError

_USAGE = LicenceUsage.__table__


def _charge_statement(insert: Any) -> Any:
    statement = insert(_USAGE).values(
        licence_id=bindparam("licence_id"), day=bindparam("day"), kind=bindparam("kind"),
        used=bindparam("amount"),
    )
    return statement.on_conflict_do_update(
        index_elements=[_USAGE.c.licence_id, _USAGE.c.day, _USAGE.c.kind],
        set_={"used": _USAGE.c.used + statement.excluded.used},
        where=_USAGE.c.used + statement.excluded.used <= bindparam("limit"),
    ).returning(_USAGE.c.used)


# Built once per dialect: this runs on every licensed request.
_CHARGE = {"postgresql": _charge_statement(postgresql.insert), "sqlite": _charge_statement(sqlite.insert)}


def seconds_to_next_day(now: datetime | None = None) -> int:
    now = now or utcnow()
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


def quota_exceeded(kind: str, limit: int) -> AppError:
    wait = seconds_to_next_day()
    return AppError(
        429, "quota_exceeded",
        f"this would pass the licence's daily {kind} quota of {limit}; "
        f"it resets at 00:00 UTC, in {wait} s",
        headers={"Retry-After": str(wait)},
    )


def charge(session: Session, licence_id: int, kind: str, amount: int, limit: int,
           day: date | None = None) -> int | None:
    """Add ``amount`` to today's ``kind`` usage unless that would pass ``limit``.

    Returns the new total, or None when the charge was refused (nothing is written).
    """
    if amount < 0:
        raise ValueError("a quota charge cannot be negative")
    if amount > limit:
        return None
    statement = _CHARGE[session.get_bind().dialect.name]
    return session.execute(statement, {
        "licence_id": licence_id, "day": day or utcnow().date(), "kind": kind, "amount": amount, "limit": limit,
    }).scalar_one_or_none()


def refund(session: Session, licence_id: int, kind: str, amount: int, day: date) -> None:
    """Give back ``amount`` charged on ``day`` for something that was not served (a
    download broken off); never below zero. The caller commits."""
    if amount < 0:
        raise ValueError("a refund cannot be negative")
    session.execute(
        update(_USAGE)
        .where(_USAGE.c.licence_id == licence_id, _USAGE.c.day == day, _USAGE.c.kind == kind)
        .values(used=case((_USAGE.c.used > amount, _USAGE.c.used - amount), else_=0))
    )
