"""The open-data index (数据开放指数): the figures, per department and per domain.

- datasets and their open-level mix (分级开放);
- use: downloads and API row queries in a period, and per day (from the daily stats);
- measured data quality: the mean quality score of the datasets measured (docs/quality.md);
- metadata completeness: the share of a dataset's optional metadata that is filled in,
  averaged per department and per domain (a dataset with a full description of its
  coverage, source and quality is worth more to its users than a bare title).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue.models import Dataset, Publisher
from opendata import localtime
from opendata.quality.service import measure_dataset
from opendata.stats.service import usage_report

OPEN_LEVELS = ("unconditional", "conditional", "closed")
# The manifest's optional dataset metadata (docs/catalogue-format.md), plus tags.
OPTIONAL_METADATA = (
    "title_en", "description_en", "industry_code", "contact", "spatial_coverage", "temporal_start",
    "temporal_end", "issued", "modified", "source_system", "update_mechanism", "quality_standard",
    "usage_notes", "tags",
)
PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90


def completeness(dataset: Dataset) -> float:
    """Share (0..1) of the optional metadata fields that are filled in."""
    filled = 0
    for name in OPTIONAL_METADATA:
        value = dataset.tag_names if name == "tags" else getattr(dataset, name)
        if value not in (None, "", []):
            filled += 1
    return filled / len(OPTIONAL_METADATA)


@dataclass
class Group:
    """One department or one domain: its datasets and their use in the period."""

    key: str
    name_zh: str
    name_en: str | None
    levels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPEN_LEVELS, 0))
    downloads: int = 0
    api_calls: int = 0
    views: int = 0
    completeness_sum: float = 0.0
    # Measured quality scores (docs/quality.md) of the datasets that have one.
    quality_scores: list[float] = field(default_factory=list)

    @property
    def quality(self) -> float | None:
        return sum(self.quality_scores) / len(self.quality_scores) if self.quality_scores else None

    @property
    def datasets(self) -> int:
        return sum(self.levels.values())

    @property
    def completeness(self) -> float:
        return 100 * self.completeness_sum / self.datasets if self.datasets else 0.0


@dataclass
class OpenIndex:
    since: date
    until: date
    publishers: list[Group]
    domains: list[Group]
    days: list[tuple[date, int, int]]  # (day, downloads, API calls), every day of the period
    totals: dict[str, float]


def build_index(session: Session, days: int, domain_names: dict[str, tuple[str, str]]) -> OpenIndex:
    until = localtime.today(session)
    since = until - timedelta(days=days - 1)
    report = usage_report(session, since, until)
    use = {u.dataset_id: u for u in report.datasets}
    publishers = {p.id: Group(p.id, p.name_zh, p.name_en) for p in session.scalars(select(Publisher))}
    domains: dict[str, Group] = {}
    datasets = list(session.scalars(select(Dataset).options(selectinload(Dataset.tags))))
    for dataset in datasets:
        score = measure_dataset(session, dataset).score
        zh, en = domain_names.get(dataset.domain, (dataset.domain, dataset.domain))
        domain = domains.setdefault(dataset.domain, Group(dataset.domain, zh, en))
        for group in (publishers[dataset.publisher_id], domain):
            group.levels[dataset.open_level] = group.levels.get(dataset.open_level, 0) + 1
            group.completeness_sum += completeness(dataset)
            if score is not None:
                group.quality_scores.append(score)
            if dataset.id in use:
                group.downloads += use[dataset.id].downloads
                group.api_calls += use[dataset.id].rows_queries
                group.views += use[dataset.id].views
    daily = {d.day: d for d in report.daily}
    series = []
    for offset in range(days):
        day = since + timedelta(days=offset)
        entry = daily.get(day)
        series.append((day, entry.downloads if entry else 0, entry.rows_queries if entry else 0))
    ranked_publishers = sorted((g for g in publishers.values() if g.datasets), key=lambda g: (-g.datasets, g.key))
    ranked_domains = sorted(domains.values(), key=lambda g: (-g.datasets, g.key))
    filled = [completeness(d) for d in datasets]
    totals = {
        "datasets": len(datasets), "downloads": report.totals.downloads, "api_calls": report.totals.rows_queries,
        "views": report.totals.views,
        "completeness": 100 * sum(filled) / len(filled) if filled else 0.0,
        "open_share": 100 * sum(1 for d in datasets if d.open_level == "unconditional") / len(datasets) if datasets else 0.0,
    }
    return OpenIndex(since, until, ranked_publishers, ranked_domains, series, totals)
