"""Licences: what an approval grants, for how long, and with which daily quotas.

A licence is valid from local midnight of its start date until local midnight after its
end date, in the deployment's time zone (the ``timezone`` setting, opendata.localtime): a
licence "to 2026-12-31" in Beijing lasts until 2026-12-31 24:00 Beijing time (16:00 UTC);
the instants are stored in UTC.
Once created its datasets, operations and fields never change; only its state does
(active → closed | revoked), and time makes an active licence "expired".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from opendata import localtime
from opendata.access.models import Application, Licence, LicenceDataset, LicenceUsage
from opendata.db import utcnow
from opendata.errors import AppError, bad_request

QUOTA_MAX = 1_000_000_000
USAGE_KINDS = ("rows", "downloads", "compute")


@dataclass(frozen=True)
class Quotas:
    rows_per_day: int = 100_000
    downloads_per_day: int = 50
    compute_calls_per_day: int = 1_000

    def check(self) -> "Quotas":
        for name in ("rows_per_day", "downloads_per_day", "compute_calls_per_day"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= QUOTA_MAX:
                raise bad_request("invalid_quota", f"{name} is a whole number from 0 to {QUOTA_MAX}")
        return self


DEFAULT_QUOTAS = Quotas()


def limit_for(licence: Licence, kind: str) -> int:
    return {
        "rows": licence.rows_per_day, "downloads": licence.downloads_per_day,
        "compute": licence.compute_calls_per_day,
    }[kind]


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """When ``day`` begins in ``tz``, as a UTC instant (how a licence bound is stored)."""
    return localtime.start_of_day(day, tz).astimezone(localtime.UTC)


def last_day(valid_until: datetime, tz: ZoneInfo) -> date:
    """The last day a licence valid until ``valid_until`` covers, in ``tz``: the day
    before the local day ``valid_until`` falls on (its end is exclusive)."""
    return (valid_until - timedelta(microseconds=1)).astimezone(tz).date()


def status_of(state: str, valid_from: datetime, valid_until: datetime, now: datetime | None = None) -> str:
    """active, pending (not started yet), expired, closed or revoked."""
    if state != "active":
        return state
    now = now or utcnow()
    if now >= valid_until:
        return "expired"
    if now < valid_from:
        return "pending"
    return "active"


def licence_status(licence: Licence, now: datetime | None = None) -> str:
    return status_of(licence.state, licence.valid_from, licence.valid_until, now)


def create_licence(
    session: Session, application: Application, *, fields: dict[str, list[str]],
    start: date, end: date, quotas: Quotas,
) -> Licence:
    tz = localtime.zone_of(session)
    licence = Licence(
        application_id=application.id, organisation_id=application.organisation_id,
        state="active", valid_from=start_of(start, tz), valid_until=start_of(end + timedelta(days=1), tz),
        rows_per_day=quotas.rows_per_day, downloads_per_day=quotas.downloads_per_day,
        compute_calls_per_day=quotas.compute_calls_per_day,
        datasets=[
            LicenceDataset(dataset_id=item.dataset_id, position=item.position,
                           operations=list(item.operations), fields=fields[item.dataset_id])
            for item in application.items
        ],
    )
    session.add(licence)
    session.flush()
    return licence


def licence_of_application(session: Session, application_id: int) -> Licence | None:
    return session.scalars(select(Licence).where(Licence.application_id == application_id)).one_or_none()


def get_licence(session: Session, licence_id: int, organisation_id: int | None = None) -> Licence:
    """The licence; another organisation's licence is reported missing, not forbidden."""
    licence = session.scalars(
        select(Licence).where(Licence.id == licence_id).options(selectinload(Licence.datasets))
    ).one_or_none()
    if licence is None or (organisation_id is not None and licence.organisation_id != organisation_id):
        raise AppError(404, "not_found", f"licence {licence_id} does not exist")
    return licence


def list_licences(session: Session, organisation_id: int | None = None) -> list[Licence]:
    return list(session.scalars(licences_query(organisation_id)))


def licences_query(organisation_id: int | None = None) -> Select[tuple[Licence]]:
    """Licences, newest first: one organisation's, or every one (``None``)."""
    query = select(Licence).options(selectinload(Licence.datasets)).order_by(Licence.id.desc())
    if organisation_id is not None:
        query = query.where(Licence.organisation_id == organisation_id)
    return query


def usage_today(session: Session, licence_id: int) -> dict[str, int]:
    used = {kind: amount for kind, amount in session.execute(
        select(LicenceUsage.kind, LicenceUsage.used)
        .where(LicenceUsage.licence_id == licence_id, LicenceUsage.day == localtime.today(session))
    )}
    return {kind: used.get(kind, 0) for kind in USAGE_KINDS}


def end_licence(licence: Licence, state: str, reason: str | None) -> None:
    licence.state = state
    licence.ended_at = utcnow()
    licence.end_reason = reason
