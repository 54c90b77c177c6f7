"""The quality score: five components from the stored counts and the calendar, weighted.

Pure functions (no database): docs/quality.md states the same rules, and a test
recomputes them from the served rows without calling this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable

WEIGHTS: dict[str, int] = {
    "completeness": 30, "validity": 20, "uniqueness": 15, "consistency": 20, "timeliness": 15,
}
# Days a dataset may go without an update under its declared frequency (有效期).
PERIOD_DAYS: dict[str, int] = {
    "realtime": 1, "daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "semiannual": 183, "yearly": 366,
}


@dataclass
class Timeliness:
    # on_time | overdue | unknown (no update date) | not_applicable (irregular, static)
    status: str
    frequency: str
    last_update: date | None = None
    due: date | None = None
    days_overdue: int = 0
    share: float | None = None


def timeliness(frequency: str, last_update: date | None, today: date) -> Timeliness:
    """On time until the period after the last update ends; then the share falls linearly
    to 0 over one more period (a monthly dataset 31 days late scores 0)."""
    period = PERIOD_DAYS.get(frequency)
    if period is None:
        return Timeliness("not_applicable", frequency, last_update)
    if last_update is None:
        return Timeliness("unknown", frequency)
    due = last_update + timedelta(days=period)
    if today <= due:
        return Timeliness("on_time", frequency, last_update, due, 0, 1.0)
    late = (today - due).days
    return Timeliness("overdue", frequency, last_update, due, late, max(0.0, 1 - late / period))


@dataclass
class Counts:
    """The pooled counts of one or more measurements."""

    cells: int = 0
    values: int = 0
    invalid: int = 0
    key_rows: int = 0
    duplicates: int = 0
    evaluated: int = 0
    failed: int = 0

    def add(self, rows: int, detail: dict[str, Any]) -> "Counts":
        fields = detail.get("fields") or {}
        self.cells += rows * len(fields)
        for counts in fields.values():
            self.values += counts["values"]
            self.invalid += counts["invalid"]
        for key in detail.get("keys") or []:
            self.key_rows += key["rows"]
            self.duplicates += key["duplicates"]
        for rule in [*(detail.get("checks") or []), *(detail.get("references") or [])]:
            if not rule.get("error"):
                self.evaluated += rule["evaluated"]
                self.failed += rule["failed"]
        return self


def _share(good: int, total: int) -> float | None:
    return good / total if total else None


def components(counts: Counts, timely: Timeliness) -> dict[str, float | None]:
    """Each component as a share 0–1, or None where nothing is declared to measure."""
    return {
        "completeness": _share(counts.values, counts.cells),
        "validity": _share(counts.values - counts.invalid, counts.values),
        "uniqueness": _share(counts.key_rows - counts.duplicates, counts.key_rows),
        "consistency": _share(counts.evaluated - counts.failed, counts.evaluated),
        "timeliness": timely.share,
    }


def score(shares: dict[str, float | None]) -> float | None:
    """The weighted mean of the measured components, 0–100 with one decimal; the weights
    of components not measured are left out (not counted as 0 or as 100)."""
    measured = {name: share for name, share in shares.items() if share is not None}
    if not measured:
        return None
    weight = sum(WEIGHTS[name] for name in measured)
    return round(100 * sum(WEIGHTS[name] * share for name, share in measured.items()) / weight, 1)


def percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def pooled(measurements: Iterable[tuple[int, dict[str, Any]]]) -> Counts:
    counts = Counts()
    for rows, detail in measurements:
        counts.add(rows, detail)
    return counts
