"""Response shapes of the quality block and the per-field quality report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class TimelinessOut:
    status: str  # on_time | overdue | unknown | not_applicable
    frequency: str
    last_update: date | None = None
    due: date | None = None
    days_overdue: int = 0


@dataclass
class QualityOut:
    """Score 0–100 and its components in percent (null: nothing declared to measure)."""

    score: float | None
    components: dict[str, float | None]
    weights: dict[str, int]
    timeliness: TimelinessOut
    rows: int = 0
    measured_at: datetime | None = None


@dataclass
class FieldQualityOut:
    name: str
    values: int
    missing: int
    completeness: float | None
    validity: float | None


@dataclass
class KeyQualityOut:
    fields: list[str]
    kind: str  # primary_key | unique | declared
    rows: int
    duplicates: int
    uniqueness: float | None


@dataclass
class RuleQualityOut:
    kind: str  # check | reference
    rule: str
    evaluated: int
    failed: int
    consistency: float | None
    sample_rows: list[int] = field(default_factory=list)
    error: str | None = None


@dataclass
class ResourceQualityOut:
    id: str
    rows: int
    origin: str
    measured_at: datetime
    score: float | None
    components: dict[str, float | None]
    fields: list[FieldQualityOut]
    keys: list[KeyQualityOut]
    rules: list[RuleQualityOut]


@dataclass
class QualityReportOut(QualityOut):
    dataset: str = ""
    resources: list[ResourceQualityOut] = field(default_factory=list)
