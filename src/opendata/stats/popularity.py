"""How popular a dataset is: its views and downloads over all time.

The totals come from the daily usage counters, summed per dataset. Search sorts by
them through ``popularity_subquery`` (an outer join, so a dataset never used counts 0),
and the dataset metadata (API, CKAN, DCAT) shows them through ``usage_totals``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Subquery, case, func, select
from sqlalchemy.orm import Session

from opendata.stats.models import UsageCounter


@dataclass(frozen=True)
class UsageTotals:
    views: int = 0
    downloads: int = 0


def popularity_subquery() -> Subquery:
    """dataset_id, views, downloads: one row per dataset that was ever used."""
    return (
        select(
            UsageCounter.dataset_id.label("dataset_id"),
            func.sum(case((UsageCounter.metric == "view", UsageCounter.count), else_=0)).label("views"),
            func.sum(case((UsageCounter.metric == "download", UsageCounter.count), else_=0)).label("downloads"),
        )
        .group_by(UsageCounter.dataset_id)
        .subquery("popularity")
    )


def usage_totals(session: Session, dataset_ids: Iterable[str]) -> dict[str, UsageTotals]:
    """Totals for the given datasets; a dataset never viewed nor downloaded is absent."""
    ids = list(dict.fromkeys(dataset_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(UsageCounter.dataset_id, UsageCounter.metric, func.sum(UsageCounter.count))
        .where(UsageCounter.dataset_id.in_(ids), UsageCounter.metric.in_(("view", "download")))
        .group_by(UsageCounter.dataset_id, UsageCounter.metric)
    ).all()
    totals: dict[str, dict[str, int]] = {}
    for dataset_id, metric, count in rows:
        totals.setdefault(dataset_id, {})[metric] = int(count or 0)
    return {k: UsageTotals(v.get("view", 0), v.get("download", 0)) for k, v in totals.items()}
