"""Rating a dataset 1–5 stars, and the ratings' summary. Takes a session, knows no HTTP.

One rating per person and dataset (the table's primary key); rating again changes it,
removing deletes it. Every change is audited (``feedback.rate``, ``feedback.unrate``)
in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import Subquery, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opendata.access.principals import Principal
from opendata.audit.service import RequestInfo, append
from opendata.catalogue.models import Dataset
from opendata.db import utcnow
from opendata.errors import AppError, bad_request
from opendata.feedback.models import DatasetRating

STARS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RatingSummary:
    """The average (one decimal), how many people rated, and how many gave each star."""

    average: float | None = None
    count: int = 0
    distribution: dict[str, int] = field(default_factory=lambda: {str(s): 0 for s in STARS})


def stars_value(value: Any) -> int:
    """Whole stars 1–5; a bool, a float such as 4.5 or a text such as "5" is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("invalid_rating", "stars is a whole number from 1 to 5")
    if value not in STARS:
        raise bad_request("invalid_rating", f"stars is a whole number from 1 to 5, not {value}")
    return value


def summaries(session: Session, dataset_ids: Iterable[str]) -> dict[str, RatingSummary]:
    """Per dataset id, its summary; a dataset nobody rated is absent."""
    ids = list(dict.fromkeys(dataset_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(DatasetRating.dataset_id, DatasetRating.stars, func.count())
        .where(DatasetRating.dataset_id.in_(ids))
        .group_by(DatasetRating.dataset_id, DatasetRating.stars)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for dataset_id, stars, n in rows:
        counts.setdefault(dataset_id, {str(s): 0 for s in STARS})[str(stars)] = int(n)
    out = {}
    for dataset_id, distribution in counts.items():
        total = sum(distribution.values())
        average = sum(int(s) * n for s, n in distribution.items()) / total
        out[dataset_id] = RatingSummary(round(average, 1), total, distribution)
    return out


def summary(session: Session, dataset_id: str) -> RatingSummary:
    return summaries(session, [dataset_id]).get(dataset_id, RatingSummary())


def rating_subquery() -> Subquery:
    """dataset_id, average, count: one row per rated dataset (search sorts by it)."""
    return (
        select(DatasetRating.dataset_id.label("dataset_id"),
               func.avg(DatasetRating.stars).label("average"), func.count().label("count"))
        .group_by(DatasetRating.dataset_id)
        .subquery("ratings")
    )


def own_rating(session: Session, dataset_id: str, user_id: int) -> int | None:
    row = session.get(DatasetRating, (dataset_id, user_id))
    return row.stars if row is not None else None


def rate(session: Session, principal: Principal, dataset: Dataset, stars: Any, request: RequestInfo) -> int:
    """Set the caller's rating of ``dataset``; returns the stars given."""
    value = stars_value(stars)
    row = session.get(DatasetRating, (dataset.id, principal.user.id))
    previous = row.stars if row is not None else None
    now = utcnow()
    if row is None:
        try:
            with session.begin_nested():  # the same person's second click, racing the first
                session.add(DatasetRating(dataset_id=dataset.id, user_id=principal.user.id, stars=value,
                                          created_at=now, updated_at=now))
        except IntegrityError:
            row = session.get(DatasetRating, (dataset.id, principal.user.id), populate_existing=True)
    if row is not None:
        previous = row.stars if previous is None else previous
        row.stars, row.updated_at = value, now
    session.flush()
    append(session, actor=principal.actor, action="feedback.rate", target=f"dataset:{dataset.id}",
           details={"stars": value, "previous": previous}, request=request)
    return value


def unrate(session: Session, principal: Principal, dataset: Dataset, request: RequestInfo) -> None:
    row = session.get(DatasetRating, (dataset.id, principal.user.id))
    if row is None:
        raise AppError(404, "not_rated", f"you have not rated dataset {dataset.id!r}")
    previous = row.stars
    session.delete(row)
    session.flush()
    append(session, actor=principal.actor, action="feedback.unrate", target=f"dataset:{dataset.id}",
           details={"previous": previous}, request=request)
