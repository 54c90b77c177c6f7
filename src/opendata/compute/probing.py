"""Per-subject and per-field daily caps of a licence, and the alerts on probing.

Even with proven keys and range-proved claims, each verification answers one guess
("is the contribution base 4,614.00?") and each decision one comparison. What bounds a
licensee that guesses over and over is how often it may ask about *one* subject:

* at most ``max_subject_computations_per_day`` computations (verifications and scorings)
  of one subject per licence and local day (the ``timezone`` setting), and at most ``max_field_guesses_per_day``
  verifications of one field of one subject (each is one guess at its value);
* an alert -- an audit record ``compute.alert`` the administrators' workspace lists --
  the first time in a day a licence passes ``probe_alert_subject`` computations of one
  subject, or ``probe_alert_field`` guesses at one field of one subject ("tries many
  distinct values of one field": under range proofs every verification is exactly one
  value tried).

Subjects are counted by their keyed digest (policy.subject_digest), never in the clear.
The caps are checked before any work (prepare) from the licensee's *own* history, so a
refusal says nothing about the data; the counters are charged with the computation's
audit record (finish). Two concurrent requests may both pass the check: a batch is
charged without re-checking, so a cap can be overshot by the requests in flight at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute.models import ComputeSubjectUsage
from opendata.compute.rows import IN_CHUNK
from opendata import localtime
from opendata.errors import AppError

WHOLE_SUBJECT = ""
ALERT_ACTION = "compute.alert"
# Alerts are the portal's, not the licensee's: the enterprise's usage views (which list its
# own actors' records) do not show it which of its requests raised one.
MONITOR = Actor("system:compute-monitor", "system")
_USAGE = ComputeSubjectUsage.__table__


@dataclass(frozen=True)
class Caps:
    per_subject: int
    per_field: int
    alert_subject: int
    alert_field: int


def _upsert(insert: object) -> object:
    statement = insert(_USAGE).values(  # type: ignore[operator]
        licence_id=bindparam("licence_id"), day=bindparam("day"), subject=bindparam("subject"),
        field=bindparam("field"), used=bindparam("amount"))
    return statement.on_conflict_do_update(
        index_elements=[_USAGE.c.licence_id, _USAGE.c.day, _USAGE.c.subject, _USAGE.c.field],
        set_={"used": _USAGE.c.used + statement.excluded.used})


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def used_today(session: Session, licence_id: int, keys: Sequence[tuple[str, str]],
               day: date | None = None) -> dict[tuple[str, str], int]:
    """Today's counts of (subject digest, field) pairs (missing: 0)."""
    day = day or localtime.today(session)
    counts: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), IN_CHUNK // 2):
        chunk = list(keys[start:start + IN_CHUNK // 2])
        rows = session.execute(
            select(_USAGE.c.subject, _USAGE.c.field, _USAGE.c.used).where(
                _USAGE.c.licence_id == licence_id, _USAGE.c.day == day,
                tuple_(_USAGE.c.subject, _USAGE.c.field).in_(chunk)))
        counts.update({(subject, field): used for subject, field, used in rows})
    return counts


def _keys(subjects: Sequence[str], fields: Sequence[str]) -> list[tuple[str, str]]:
    return [(s, WHOLE_SUBJECT) for s in subjects] + [(s, f) for s in subjects for f in fields]


def check(session: Session, caps: Caps, licence_id: int, subjects: Sequence[str],
          fields: Sequence[str] = ()) -> dict[tuple[str, str], int]:
    """Refuse (429) before any work if one more computation would pass a cap; returns the
    counts read, for ``charge``. ``subjects`` are digests; ``fields`` are verified fields."""
    counts = used_today(session, licence_id, _keys(subjects, fields))
    for (subject, field), used in counts.items():
        limit = caps.per_subject if field == WHOLE_SUBJECT else caps.per_field
        if used + 1 > limit:
            what = "computations of one subject" if field == WHOLE_SUBJECT else f"guesses at {field} of one subject"
            raise AppError(429, "subject_cap_exceeded" if field == WHOLE_SUBJECT else "field_cap_exceeded",
                           f"this licence has reached its daily cap of {limit} {what} (subject {subject}); "
                           f"it resets at 00:00 {localtime.zone_of(session).key}")
    return counts


def charge(session: Session, caps: Caps, licence_id: int, subjects: Sequence[str], fields: Sequence[str],
           before: dict[tuple[str, str], int], *, actor: Actor, request: RequestInfo, action: str) -> int:
    """Count one computation per subject (and per verified field) in the caller's
    transaction; append a ``compute.alert`` record for each threshold crossed now.
    Returns how many alerts were raised."""
    day = localtime.today(session)
    keys = _keys(subjects, fields)
    session.execute(_UPSERT[session.get_bind().dialect.name], [
        {"licence_id": licence_id, "day": day, "subject": s, "field": f, "amount": 1} for s, f in keys])
    alerts = 0
    for subject, field in keys:
        threshold = caps.alert_subject if field == WHOLE_SUBJECT else caps.alert_field
        if before.get((subject, field), 0) == threshold:  # this computation is the one past it
            kind = "subject_probed" if field == WHOLE_SUBJECT else "field_values_tried"
            append(session, actor=MONITOR, action=ALERT_ACTION, target=f"licence:{licence_id}", outcome="success",
                   details={"licence": licence_id, "alert": kind, "subject": subject, "field": field or None,
                            "count": threshold + 1, "threshold": threshold, "day": day.isoformat(),
                            "during": action, "by": actor.name},
                   request=request)
            alerts += 1
    return alerts
