"""Each licence's compute policy, and the subject digests that go into the audit trail.

* ``reveal_not_found`` (default false): a verification of a subject without a matching row
  answers 404 ``subject_not_found`` and a scoring lists such subjects, instead of results
  indistinguishable from a mismatch. For licences whose purpose is existence checks.
* authorised subjects (default: **none**): only these subject key values may be computed
  on under the licence -- e.g. the loan applicants who consented. A licence without a
  list computes on nobody (deny by default); "every subject" is an explicit
  administrator choice (``all_subjects: true``), shown with a warning in the portal and
  the API, because it lets the licensee compute on anyone in the licensed datasets.

Only an administrator sets a policy (PUT replaces it whole, audited).

Subjects are never written to the audit trail in the clear: a person's citizen id would
otherwise spread to every export and backup of the trail. Each is recorded as a keyed
digest (HMAC-SHA256 with a per-installation secret, first 16 hex digits): stable, so an
administrator can find every computation on one person (``opendata compute
subject-digest <id>``), and useless for enumerating ids without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from opendata.access.models import Licence
from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute.models import LicenceAuthorisedSubject, LicenceComputePolicy
from opendata.compute.rows import IN_CHUNK, SUBJECT_PATTERN
from opendata.db import utcnow
from opendata.errors import AppError, bad_request

SUBJECT_DIGEST_CHARS = 16
INSERT_BATCH = 1000
ALL_SUBJECTS_WARNING = ("every subject of the licensed datasets may be computed on under this licence: "
                        "prefer a list of the subjects who consented")


@dataclass(frozen=True)
class Policy:
    licence_id: int
    reveal_not_found: bool = False
    all_subjects: bool = False


def subject_digest(secret: bytes, subject: str) -> str:
    return hmac.new(secret, subject.encode("utf-8"), hashlib.sha256).hexdigest()[:SUBJECT_DIGEST_CHARS]


def policy_of(session: Session, licence_id: int) -> Policy:
    row = session.get(LicenceComputePolicy, licence_id)
    if row is None:
        return Policy(licence_id)
    return Policy(licence_id, row.reveal_not_found, row.all_subjects)


def unauthorised(session: Session, policy: Policy, subjects: Sequence[str]) -> list[str]:
    """The subjects the licence may not compute on (all of them without a list; none when
    the administrator chose every subject)."""
    if policy.all_subjects:
        return []
    allowed: set[str] = set()
    for start in range(0, len(subjects), IN_CHUNK):
        chunk = list(subjects[start:start + IN_CHUNK])
        allowed.update(session.scalars(
            select(LicenceAuthorisedSubject.subject).where(
                LicenceAuthorisedSubject.licence_id == policy.licence_id,
                LicenceAuthorisedSubject.subject.in_(chunk))
        ))
    return [s for s in subjects if s not in allowed]


def authorised_subjects(session: Session, licence_id: int) -> list[str]:
    return list(session.scalars(
        select(LicenceAuthorisedSubject.subject).where(LicenceAuthorisedSubject.licence_id == licence_id)
        .order_by(LicenceAuthorisedSubject.subject)
    ))


def check_subject_list(subjects: object, maximum: int, all_subjects: bool = False) -> list[str]:
    """A list of distinct, well-formed subject key values (``null``: none). With
    ``all_subjects`` the list must be left out: the two choices exclude each other."""
    if all_subjects:
        if subjects not in (None, []):
            raise bad_request("conflicting_fields", "all_subjects: true takes no authorised_subjects list")
        return []
    if subjects is None:
        return []
    if not isinstance(subjects, list) or len(subjects) > maximum:
        raise bad_request("invalid_subjects", f"authorised_subjects is a list of at most {maximum} subjects")
    bad = [s for s in subjects if not isinstance(s, str) or not SUBJECT_PATTERN.fullmatch(s)]
    if bad:
        raise bad_request("invalid_subject", f"not a subject key value: {str(bad[0])[:70]!r}")
    return sorted(set(subjects))


def set_policy(session: Session, licence_id: int, reveal_not_found: bool, subjects: list[str], *,
               actor: Actor, request: RequestInfo, all_subjects: bool = False) -> Policy:
    """Replace the licence's policy (in the caller's transaction, audited)."""
    if session.get(Licence, licence_id) is None:
        raise AppError(404, "not_found", f"licence {licence_id} does not exist")
    row = session.get(LicenceComputePolicy, licence_id)
    if row is None:
        row = LicenceComputePolicy(licence_id=licence_id, updated_by=actor.name)
        session.add(row)
    row.reveal_not_found = reveal_not_found
    row.all_subjects = all_subjects
    row.updated_at, row.updated_by = utcnow(), actor.name
    session.flush()
    session.execute(delete(LicenceAuthorisedSubject).where(LicenceAuthorisedSubject.licence_id == licence_id))
    for start in range(0, len(subjects), INSERT_BATCH):
        session.execute(insert(LicenceAuthorisedSubject), [
            {"licence_id": licence_id, "subject": s} for s in subjects[start:start + INSERT_BATCH]
        ])
    append(session, actor=actor, action="compute.policy.update", target=f"licence:{licence_id}",
           details={"reveal_not_found": reveal_not_found, "all_subjects": all_subjects,
                    "authorised_subjects": len(subjects)},
           request=request)
    return Policy(licence_id, reveal_not_found, all_subjects)
