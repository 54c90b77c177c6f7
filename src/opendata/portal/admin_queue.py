"""What the review desk needs beside the applications: counts per state, how long each
submitted application has waited, and the data dictionary of the fields asked for.

Waiting is counted in the portal's time zone, in calendar days and in working days
(Monday to Friday; public holidays are not known to the portal) against Shanghai's target
of deciding within five working days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from opendata import localtime
from opendata.access.models import Application
from opendata.catalogue.models import Dataset, Field, Resource

TARGET_WORKING_DAYS = 5


@dataclass(frozen=True)
class Waiting:
    days: int
    working_days: int

    @property
    def overdue(self) -> bool:
        return self.working_days > TARGET_WORKING_DAYS


def working_days_between(start: date, end: date) -> int:
    """Weekdays after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    whole_weeks, rest = divmod((end - start).days, 7)
    count = whole_weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


def state_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Application.state, func.count()).group_by(Application.state))
    return {state: count for state, count in rows}


def waiting(session: Session, applications: list[Application]) -> dict[int, Waiting]:
    """How long each application still waiting for a decision (submitted) has waited."""
    tz = localtime.zone_of(session)
    today = localtime.local_day(tz)
    result = {}
    for application in applications:
        if application.state == "submitted" and application.submitted_at is not None:
            since = localtime.local_day(tz, application.submitted_at)
            result[application.id] = Waiting((today - since).days, working_days_between(since, today))
    return result


@dataclass(frozen=True)
class QueueSummary:
    waiting: int
    overdue: int


def queue_summary(session: Session) -> QueueSummary:
    """How many applications wait for a decision and how many are past the target: over
    the whole queue, not only the page shown (one column of the submitted rows)."""
    tz = localtime.zone_of(session)
    today = localtime.local_day(tz)
    submitted = session.scalars(select(Application.submitted_at)
                                .where(Application.state == "submitted", Application.submitted_at.is_not(None)))
    days = [working_days_between(localtime.local_day(tz, at), today) for at in submitted]
    return QueueSummary(len(days), sum(1 for d in days if d > TARGET_WORKING_DAYS))


def fields_by_dataset(session: Session, dataset_ids: list[str]) -> dict[str, dict[str, Field]]:
    """Each dataset's data dictionary by field name (titles, grades), for the review."""
    datasets = session.scalars(
        select(Dataset).where(Dataset.id.in_(dataset_ids))
        .options(selectinload(Dataset.resources).selectinload(Resource.fields))
    )
    return {d.id: {f.name: f for r in d.resources for f in r.fields} for d in datasets}
