"""The portal's time zone: where its days begin and end.

Times are stored in UTC. What a person means by a day (a quota's "today", a licence
"from 2026-01-01 to 2026-12-31", a date typed into a filter) is a day where the portal
runs, the ``timezone`` setting (default Asia/Shanghai). Each database session carries the
zone of its deployment in ``session.info`` (set by ``opendata.db.Database``), so services,
which take a session and know no settings, find the same days as the pages that show them.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opendata.db import ENGINE_TIMEZONES, TIMEZONE_INFO_KEY, utcnow

DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=32)
def zone(name: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The IANA zone ``name``; ValueError naming it when the zone database does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (an IANA name such as Asia/Shanghai or UTC)") from None


def check_timezone(name: str) -> str:
    zone(name.strip())
    return name.strip()


def zone_of(session: Any) -> ZoneInfo:
    """The zone of the deployment ``session`` belongs to (the default for a bare session)."""
    info = getattr(session, "info", None) or {}
    return zone(info.get(TIMEZONE_INFO_KEY) or DEFAULT_TIMEZONE)


def zone_of_engine(engine: Any) -> ZoneInfo:
    """The zone of the deployment whose Database made ``engine`` (the default otherwise)."""
    return zone(ENGINE_TIMEZONES.get(engine) or DEFAULT_TIMEZONE)


def now() -> datetime:
    """The current instant (UTC). Every local day below is read from this one clock."""
    return utcnow()


def local_day(tz: ZoneInfo, at: datetime | None = None) -> date:
    """The date it is in ``tz`` at ``at`` (default: now)."""
    return (at or now()).astimezone(tz).date()


def today(session: Any) -> date:
    """Today where the deployment of ``session`` runs: the day quotas are counted on."""
    return local_day(zone_of(session))


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``tz`` (an aware datetime; stored as UTC)."""
    return datetime.combine(day, time.min, tz)


def seconds_to_next_day(tz: ZoneInfo, at: datetime | None = None) -> int:
    """Whole seconds until the next local midnight (at least 1: a Retry-After)."""
    at = at or now()
    midnight = start_of_day(local_day(tz, at) + timedelta(days=1), tz)
    return max(1, math.ceil((midnight - at).total_seconds()))


def offset_label(tz: ZoneInfo, at: datetime | None = None) -> str:
    """``UTC+08:00``: how a message names the zone without a zone database."""
    offset = (at or now()).astimezone(tz).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
