"""Counting use, and reporting it per dataset and per publisher department."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from opendata.catalogue.models import Dataset, Publisher
from opendata import localtime
from opendata.stats import batch
from opendata.stats.models import UsageCounter

METRICS = ("view", "download", "rows_query")


def count_use(engine: Engine, dataset_id: str, metric: str, fmt: str = "") -> None:
    """Add one to today's counter after the request's work has committed: counting never
    holds up (or rolls back with) the request counted.

    API row queries are counted in memory and written in batches when the engine batches
    them (opendata.stats.batch: within ``usage_flush_seconds``, before a report, at
    shutdown); views and downloads, and every count of an engine that does not batch, are
    written at once in a short transaction of their own (stats.batch.write_counts).

    Never inside a request's session: on SQLite a transaction that has read cannot upgrade
    to a write once another writer has committed (SQLITE_BUSY_SNAPSHOT, "database is
    locked" at once, no busy wait), which under concurrent requests was a 500; and a count
    in the request's transaction held the write lock for the rest of the request.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    today = localtime.local_day(localtime.zone_of_engine(engine))  # a day where the portal runs
    key = (dataset_id, today, metric, fmt)
    if not batch.add(engine, key):
        batch.write_counts(engine, {key: 1})


@dataclass
class Usage:
    views: int = 0
    rows_queries: int = 0
    downloads: int = 0
    downloads_by_format: dict[str, int] = field(default_factory=dict)

    def add(self, metric: str, fmt: str, count: int) -> None:
        if metric == "view":
            self.views += count
        elif metric == "rows_query":
            self.rows_queries += count
        elif metric == "download":
            self.downloads += count
            self.downloads_by_format[fmt] = self.downloads_by_format.get(fmt, 0) + count


@dataclass
class DatasetUsage(Usage):
    dataset_id: str = ""
    title_zh: str = ""
    publisher_id: str = ""
    open_level: str = ""


@dataclass
class PublisherUsage(Usage):
    publisher_id: str = ""
    name_zh: str = ""
    datasets: int = 0


@dataclass
class DailyUsage(Usage):
    day: date | None = None


@dataclass
class StatsReport:
    since: date | None
    until: date | None
    totals: Usage
    datasets: list[DatasetUsage]
    publishers: list[PublisherUsage]
    daily: list[DailyUsage]


def usage_report(session: Session, since: date | None = None, until: date | None = None) -> StatsReport:
    batch.flush_usage(session.get_bind())  # this process's counts not yet written
    where = []
    if since:
        where.append(UsageCounter.day >= since)
    if until:
        where.append(UsageCounter.day <= until)
    rows = session.execute(
        select(UsageCounter.dataset_id, UsageCounter.day, UsageCounter.metric, UsageCounter.format,
               func.sum(UsageCounter.count))
        .where(*where)
        .group_by(UsageCounter.dataset_id, UsageCounter.day, UsageCounter.metric, UsageCounter.format)
    ).all()
    datasets = {
        d.id: DatasetUsage(dataset_id=d.id, title_zh=d.title_zh, publisher_id=d.publisher_id, open_level=d.open_level)
        for d in session.scalars(select(Dataset).order_by(Dataset.id))
    }
    publishers = {
        p.id: PublisherUsage(publisher_id=p.id, name_zh=p.name_zh)
        for p in session.scalars(select(Publisher).order_by(Publisher.id))
    }
    for usage in datasets.values():
        publishers[usage.publisher_id].datasets += 1
    totals, daily = Usage(), {}
    for dataset_id, day, metric, fmt, count in rows:
        count = int(count)
        totals.add(metric, fmt, count)
        daily.setdefault(day, DailyUsage(day=day)).add(metric, fmt, count)
        if dataset_id in datasets:
            datasets[dataset_id].add(metric, fmt, count)
            publishers[datasets[dataset_id].publisher_id].add(metric, fmt, count)
    return StatsReport(
        since=since, until=until, totals=totals,
        datasets=sorted(datasets.values(), key=lambda u: (-u.downloads, -u.views, u.dataset_id)),
        publishers=list(publishers.values()),
        daily=[daily[d] for d in sorted(daily)],
    )
