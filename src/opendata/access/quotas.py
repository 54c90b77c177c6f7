"""Daily quotas, charged by one atomic conditional upsert.

``INSERT ... ON CONFLICT (licence, day, kind) DO UPDATE SET used = used + n WHERE used + n
<= limit RETURNING used`` either charges the whole amount or nothing, in one statement:
PostgreSQL serialises concurrent upserts of the same row on its row lock and re-checks the
WHERE against the committed value, SQLite has a single writer. No read-then-write race.
Quota days are the deployment's local days (the ``timezone`` setting, opendata.localtime):
a quota resets at local midnight, and ``day`` is that local date.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from opendata import localtime
from opendata.access.models import LicenceUsage
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


KIND_ZH = {"rows": "行数", "downloads": "下载次数", "compute": "计算次数"}


def quota_exceeded(kind: str, limit: int, tz: ZoneInfo) -> AppError:
    """429 with Retry-After up to the next local midnight; the message in Chinese and
    English, since an API client's user reads it as often as a developer does."""
    wait = localtime.seconds_to_next_day(tz)
    zone = f"{tz.key} ({localtime.offset_label(tz)})"
    return AppError(
        429, "quota_exceeded",
        f"已达到许可的每日{KIND_ZH.get(kind, kind)}配额 {limit}，将于 {zone} 00:00 重置（{wait} 秒后）。"
        f" This would pass the licence's daily {kind} quota of {limit}; it resets at 00:00 {zone}, in {wait} s.",
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
        "licence_id": licence_id, "day": day or localtime.today(session), "kind": kind, "amount": amount, "limit": limit,
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
