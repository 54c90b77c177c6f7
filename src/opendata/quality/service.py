"""Reading measured quality: the latest measurement of each tabular resource of a dataset,
pooled into the dataset's score, with timeliness computed for the day it is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opendata.catalogue.models import Dataset
from opendata.catalogue.schemas import effective_modified
from opendata.db import utcnow
from opendata.quality import score as rules
from opendata.quality.models import QualityMeasurement
from opendata.quality.schemas import (
    FieldQualityOut, KeyQualityOut, QualityOut, QualityReportOut, ResourceQualityOut, RuleQualityOut,
    TimelinessOut,
)


@dataclass
class DatasetQuality:
    dataset: Dataset
    measurements: list[QualityMeasurement]
    timeliness: rules.Timeliness

    @property
    def shares(self) -> dict[str, float | None]:
        return rules.components(rules.pooled((m.rows, m.detail) for m in self.measurements), self.timeliness)

    @property
    def score(self) -> float | None:
        # Without measured rows (a dataset of files only) there is no score to give.
        return rules.score(self.shares) if self.measurements else None


def latest_measurements(session: Session, dataset: Dataset) -> list[QualityMeasurement]:
    """The newest measurement of each resource that has rows, in resource order."""
    found = []
    for resource in dataset.resources:
        if not resource.table_name:
            continue
        latest = session.scalars(
            select(QualityMeasurement).where(QualityMeasurement.resource_pk == resource.pk)
            .order_by(QualityMeasurement.id.desc()).limit(1)).first()
        if latest is not None:
            found.append(latest)
    return found


def last_update(dataset: Dataset, measurements: list[QualityMeasurement]) -> date | None:
    """The dataset's ``modified`` as every door shows it: the declared date, or the day its
    rows were last replaced by other rows if later (opendata.versions). A first load is not
    an update (a portal loading an old file today does not make it current), unless nothing
    else says when the data last changed."""
    found = effective_modified(dataset)
    if found is not None:
        return found
    return max((m.measured_at.date() for m in measurements), default=None)


def latest_measurements_of(session: Session, datasets: Iterable[Dataset]) -> dict[int, QualityMeasurement]:
    """The newest measurement of every resource of ``datasets`` that has rows, by resource
    pk, in one query (latest_measurements runs one per resource: a catalogue page of 50
    datasets made ~50 more queries)."""
    pks = [r.pk for d in datasets for r in d.resources if r.table_name]
    if not pks:
        return {}
    newest = (select(func.max(QualityMeasurement.id).label("id")).where(QualityMeasurement.resource_pk.in_(pks))
              .group_by(QualityMeasurement.resource_pk).subquery())
    found = session.scalars(select(QualityMeasurement).join(newest, QualityMeasurement.id == newest.c.id))
    return {m.resource_pk: m for m in found}


def measure_dataset(session: Session, dataset: Dataset, today: date | None = None,
                    latest: dict[int, QualityMeasurement] | None = None) -> DatasetQuality:
    """``latest``: from latest_measurements_of, for callers measuring many datasets."""
    if latest is None:
        measurements = latest_measurements(session, dataset)
    else:
        measurements = [latest[r.pk] for r in dataset.resources if r.table_name and r.pk in latest]
    timely = rules.timeliness(dataset.update_frequency, last_update(dataset, measurements),
                              today or utcnow().date())
    return DatasetQuality(dataset, measurements, timely)


def _timeliness_out(timely: rules.Timeliness) -> TimelinessOut:
    return TimelinessOut(timely.status, timely.frequency, timely.last_update, timely.due, timely.days_overdue)


def _percents(shares: dict[str, float | None]) -> dict[str, float | None]:
    return {name: rules.percent(share) for name, share in shares.items()}


def quality_out(quality: DatasetQuality) -> QualityOut:
    return QualityOut(
        score=quality.score, components=_percents(quality.shares), weights=dict(rules.WEIGHTS),
        timeliness=_timeliness_out(quality.timeliness), rows=sum(m.rows for m in quality.measurements),
        measured_at=max((m.measured_at for m in quality.measurements), default=None),
    )


def dataset_quality(session: Session, dataset: Dataset) -> QualityOut:
    return quality_out(measure_dataset(session, dataset))


def _rule_out(kind: str, rule: dict[str, Any]) -> RuleQualityOut:
    text = rule["rule"] if kind == "check" else f"{rule['field']} -> {rule['resource']}.{rule['key']}"
    share = None if rule.get("error") else rules.percent(
        (rule["evaluated"] - rule["failed"]) / rule["evaluated"] if rule["evaluated"] else None)
    return RuleQualityOut(kind, text, rule["evaluated"], rule["failed"], share,
                          list(rule.get("sample_rows") or []), rule.get("error"))


def resource_report(measurement: QualityMeasurement, timely: rules.Timeliness) -> ResourceQualityOut:
    detail, rows = measurement.detail, measurement.rows
    shares = rules.components(rules.pooled([(rows, detail)]), timely)
    fields = [
        FieldQualityOut(name, c["values"], rows - c["values"], rules.percent(c["values"] / rows if rows else None),
                        rules.percent((c["values"] - c["invalid"]) / c["values"] if c["values"] else None))
        for name, c in detail["fields"].items()
    ]
    keys = [
        KeyQualityOut(k["fields"], k["kind"], k["rows"], k["duplicates"],
                      rules.percent((k["rows"] - k["duplicates"]) / k["rows"] if k["rows"] else None))
        for k in detail["keys"]
    ]
    checks: Iterable[RuleQualityOut] = [_rule_out("check", c) for c in detail["checks"]]
    references = [_rule_out("reference", r) for r in detail["references"]]
    return ResourceQualityOut(
        id=measurement.resource_id, rows=rows, origin=measurement.origin, measured_at=measurement.measured_at,
        score=rules.score(shares), components=_percents(shares), fields=fields, keys=keys,
        rules=[*checks, *references],
    )


def quality_report(session: Session, dataset: Dataset) -> QualityReportOut:
    quality = measure_dataset(session, dataset)
    head = quality_out(quality)
    return QualityReportOut(
        **head.__dict__, dataset=dataset.id,
        resources=[resource_report(m, quality.timeliness) for m in quality.measurements],
    )


def quality_extras(session: Session, dataset: Dataset,
                   latest: dict[int, QualityMeasurement] | None = None) -> dict[str, str | None]:
    """The score, components and timeliness as CKAN extras (text values; None: left out)."""
    quality = measure_dataset(session, dataset, latest=latest)
    shares = quality.shares
    extras: dict[str, str | None] = {"quality_score": _text(quality.score)}
    for name in rules.WEIGHTS:
        extras[f"quality_{name}"] = _text(rules.percent(shares[name]))
    extras["quality_timeliness_status"] = quality.timeliness.status
    return extras


def _text(value: float | None) -> str | None:
    return None if value is None else f"{value:.1f}"
