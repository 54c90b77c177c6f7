"""The figures pages show: catalogue counts and use totals (small, indexed queries)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue.models import Dataset
from opendata.stats.batch import flush_usage
from opendata.stats.models import UsageCounter

OPEN_LEVEL_ORDER = ("unconditional", "conditional", "closed")


@dataclass(frozen=True)
class Headline:
    datasets: int
    by_level: dict[str, int]
    views: int
    downloads: int
    api_calls: int


def _use_totals(session: Session, dataset_id: str | None = None) -> dict[str, int]:
    flush_usage(session.get_bind())  # API row queries this process has not written yet
    statement = select(UsageCounter.metric, func.sum(UsageCounter.count)).group_by(UsageCounter.metric)
    if dataset_id is not None:
        statement = statement.where(UsageCounter.dataset_id == dataset_id)
    return {metric: int(total or 0) for metric, total in session.execute(statement)}


def headline(session: Session) -> Headline:
    by_level = dict.fromkeys(OPEN_LEVEL_ORDER, 0)
    for level, count in session.execute(select(Dataset.open_level, func.count()).group_by(Dataset.open_level)):
        by_level[level] = count
    use = _use_totals(session)
    return Headline(sum(by_level.values()), by_level, use.get("view", 0), use.get("download", 0),
                    use.get("rows_query", 0))


def dataset_use(session: Session, dataset_id: str) -> dict[str, int]:
    """Views, downloads and API row queries of one dataset, all time."""
    use = _use_totals(session, dataset_id)
    return {"views": use.get("view", 0), "downloads": use.get("download", 0), "api_calls": use.get("rows_query", 0)}


def most_downloaded(session: Session, limit: int = 6) -> list[tuple[Dataset, int]]:
    downloads = func.sum(UsageCounter.count).label("downloads")
    ranked = session.execute(
        select(UsageCounter.dataset_id, downloads).where(UsageCounter.metric == "download")
        .group_by(UsageCounter.dataset_id).order_by(downloads.desc(), UsageCounter.dataset_id).limit(limit)
    ).all()
    datasets = {
        d.id: d for d in session.scalars(
            select(Dataset).where(Dataset.id.in_([r.dataset_id for r in ranked]))
            .options(selectinload(Dataset.publisher))
        )
    }
    return [(datasets[r.dataset_id], int(r.downloads)) for r in ranked if r.dataset_id in datasets]


def newest(session: Session, limit: int = 6) -> list[Dataset]:
    return list(session.scalars(
        select(Dataset).options(selectinload(Dataset.publisher))
        .order_by(func.coalesce(Dataset.modified, func.date(Dataset.updated_at)).desc(), Dataset.updated_at.desc(),
                  Dataset.id)
        .limit(limit)
    ))
