"""Private intersection statistics (联合统计) requests, from raw body to audited answer.

Two requests per statistic (compute/psi.py has the protocol):

* **offer** -- checks licence, grant, key, the day's sessions and the budget left, reads the
  resource's subjects (every one, with its value or a dummy: see read_values), opens a session (no secret stored: the
  portal's scalar is HMAC(instance secret, session id)) and hands the subjects and values
  to the workers, which blind and encrypt them. Nothing is spent.
* **answer** -- checks the session (this licence's, open, not expired), the reply's shape
  (counts, valid distinct points, ciphertexts), the total (a reply that fails it closes the
  session and spends the epsilon: check_reply), computes the intersection, the noised count
  and the noised encrypted sum, then in one transaction closes the session and spends the
  grant's epsilon; no epsilon left: 429 and nothing is released.

Every refusal depends on the request, the licence, the grant and the table as a whole,
never on which ids matched. The audit records the number of ids, epsilon, digests and the
released (noised) count; never an id, never the exact count.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from opendata import localtime
from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute import parameters, psi
from opendata.compute.callers import ComputeCaller, Refusals, audited, authenticate, require_grant
from opendata.compute.models import IntersectionSession
from opendata.compute.paillier import PrivateKey, PublicKey, generate_private_key
from opendata.compute.privacy import Release
from opendata.compute.psi_grants import Grant, grant_for, spend
from opendata.compute.psi_group import derived_scalar
from opendata.compute.public_keys import own_key
from opendata.compute.rows import SubjectSource, _filter_clauses, check_filters, require_unique, source_for
from opendata.compute.schemas import members, parse_json
from opendata.compute.service import Incoming, digest
from opendata.db import Database, utcnow
from opendata.errors import AppError, bad_request
from opendata.secrets import instance_secret
from opendata.settings import Settings

OFFER_ACTION = "compute.intersection.offer"
ACTION = "compute.intersection"
TRANSPORT = "psi_transport"
TRANSPORT_BITS = 2048
SESSION_MINUTES = 15
IN_JOB = "job"  # a session an intersection job is answering (compute/jobs/intersection.py)
# A reply carries ~2.5 KB per offered subject (a point and two 4096-bit ciphertexts): 25,000
# subjects fit the 64 MB an upload may have.
MAX_OFFER = 25_000
_lock = threading.Lock()
_transport: dict[str, tuple[PrivateKey, int]] = {}


def transport_key(session: Session) -> tuple[PrivateKey, int]:
    """The portal's transport key pair and its DJN base, created on first use and shared by
    every process (the first stored row wins). Commits."""
    url = str(session.get_bind().url)
    with _lock:
        if url in _transport:
            return _transport[url]

        def make() -> str:
            fresh = generate_private_key(TRANSPORT_BITS)
            return json.dumps({**fresh.to_dict(), "h": str(psi.transport_base(fresh))})

        data = json.loads(parameters.stored(session, TRANSPORT, make))
        _transport[url] = (PrivateKey.from_dict(data), int(data["h"]))
        return _transport[url]


def session_scalar(session: Session, session_id: str) -> bytes:
    return derived_scalar(instance_secret(session, "psi_session_scalars"), session_id)


def _licensed(session: Session, refusals: Refusals, caller: ComputeCaller, dataset: Any, resource: Any,
              field: Any, where: Any) -> tuple[SubjectSource, Grant, str, dict[str, Any]]:
    source = source_for(session, dataset, resource)
    refusals.target = f"dataset:{source.dataset_id}"
    if not isinstance(field, str) or not field:
        raise bad_request("invalid_fields", "field names the numeric field to count and sum")
    typed_where = check_filters(source, where)
    require_grant(refusals, caller, source.dataset_id, [field, *typed_where])
    grant = grant_for(session, caller.licence_id, source.dataset_id, source.resource_id)
    if grant is None:
        refusals.deny(403, "intersection_not_licensed", f"this licence grants no intersection statistics on "
                      f"{source.dataset_id}/{source.resource_id}", dataset=source.dataset_id)
    if field not in grant.fields:
        refusals.deny(403, "field_not_licensed", f"the licence's intersection statistics do not sum {field[:63]!r}",
                      dataset=source.dataset_id, fields=[field[:63]])
    return source, grant, field, typed_where


def _budget_refusal(refusals: Refusals, grant: Grant) -> None:
    if grant.queries_left < 1:
        refusals.deny(429, "privacy_budget_exhausted",
                      f"the licence's privacy budget on {grant.dataset}/{grant.resource} is spent "
                      f"({grant.epsilon_spent:g} of {grant.epsilon_total:g}; a query costs {grant.epsilon_per_query:g}): "
                      "an administrator may grant more", epsilon_left=grant.epsilon_left)


def _sessions_today(session: Session, licence_id: int, grant: Grant) -> int:
    since = localtime.start_of_day(localtime.today(session), localtime.zone_of(session))
    return int(session.scalar(select(func.count()).select_from(IntersectionSession).where(
        IntersectionSession.licence_id == licence_id, IntersectionSession.dataset_id == grant.dataset,
        IntersectionSession.resource_id == grant.resource, IntersectionSession.created_at >= since)) or 0)


def read_values(session: Session, source: SubjectSource, field: str, where: dict[str, Any], grant: Grant
                ) -> tuple[list[str | None], list[int]]:
    """One entry per subject of the whole table, in key order: the subject and its value of
    ``field`` (under the filters; clamped, fixed point), or None and 0 for a subject without
    one. Every subject is offered whatever the filters: a filter on a value column would
    otherwise tell the exact number of subjects with that value (the offer's size), outside
    the noise."""
    require_unique(session, source, list(where))
    column = source.table.c[field]
    lower, upper = grant.bounds(field)
    present = source.subject_column.is_not(None)
    everyone = [str(key) for key in session.scalars(select(source.subject_column).where(present).distinct()
                                                    .order_by(source.subject_column).limit(MAX_OFFER + 1))]
    if len(everyone) > MAX_OFFER:  # refused before a value is read
        raise bad_request("resource_too_large", f"{source.dataset_id}/{source.resource_id} has more than "
                          f"{MAX_OFFER} subjects: too many for an intersection")
    found = {str(subject): psi.fixed_point(repr(value) if isinstance(value, float) else value, lower, upper,
                                           grant.scale)
             for subject, value in session.execute(select(source.subject_column, column).where(
                 present, column.is_not(None), *_filter_clauses(source, where)))}
    return [s if s in found else None for s in everyone], [found.get(s, 0) for s in everyone]


@dataclass(frozen=True)
class OfferJob:
    caller: ComputeCaller
    session_id: str
    scalar: bytes
    transport: tuple[int, int, int]
    subjects: list[str | None]
    values: list[int]
    reply: dict[str, Any]


def offer(database: Database, settings: Settings, runtime: Any, incoming: Incoming) -> OfferJob:
    with database.session() as session:
        refusals = Refusals(session, incoming.info, OFFER_ACTION)
        caller = authenticate(session, settings, incoming.raw_token, refusals)
        with audited(refusals):
            request = members(parse_json(incoming.body), "an intersection offer", ("dataset", "field", "key_id"),
                              ("resource", "where"))
            source, grant, field, where = _licensed(session, refusals, caller, request["dataset"],
                                                    request.get("resource"), request["field"], request.get("where"))
            key_row = own_key(session, caller.organisation_id, request["key_id"])
            _budget_refusal(refusals, grant)
            if _sessions_today(session, caller.licence_id, grant) >= grant.per_day:
                refusals.deny(429, "quota_exceeded", f"at most {grant.per_day} intersection sessions a day on "
                              f"{grant.dataset}/{grant.resource}", per_day=grant.per_day)
            subjects, values = read_values(session, source, field, where, grant)
            private, h = transport_key(session)
        session_id = secrets.token_hex(16)
        now = utcnow()
        where_text = {k: str(v) for k, v in where.items()}
        session.add(IntersectionSession(
            id=session_id, licence_id=caller.licence_id, dataset_id=source.dataset_id, resource_id=source.resource_id,
            field=field, filters=where_text, key_id=key_row.kid, subjects=len(subjects), value_total=str(sum(values)),
            created_at=now, expires_at=now + timedelta(minutes=SESSION_MINUTES), state="open"))
        append(session, actor=caller.actor, action=OFFER_ACTION, target=refusals.target,
               details={"licence": caller.licence_id, "dataset": source.dataset_id, "resource": source.resource_id,
                        "field": field, "where": where_text, "key": key_row.kid, "session": session_id,
                        "subjects_offered": len(subjects)}, request=caller.request)
        scalar = session_scalar(session, session_id)
        session.commit()
    lower, upper = grant.bounds(field)
    release = Release(grant.epsilon_per_query, grant.sensitivity(field))
    reply = {"session": session_id, "dataset": source.dataset_id, "resource": source.resource_id, "field": field,
             "where": where_text, "key_id": key_row.kid, "expires_at": (now + timedelta(minutes=SESSION_MINUTES))
             .isoformat(), "transport_key": psi.TransportKey(int(private.public_key.n), h).to_json(),
             "scale": grant.scale, "bounds": {"lower": str(lower), "upper": str(upper)},
             "noise": release.to_json(grant.scale), "min_cohort": grant.min_cohort, "max_ids": grant.max_ids,
             "epsilon_left": grant.epsilon_left, "queries_left": grant.queries_left}
    transport = (int(private.public_key.n), int(private.p), int(private.q))
    return OfferJob(caller, session_id, scalar, transport, subjects, values, reply)


@dataclass
class AnswerJob:
    caller: ComputeCaller
    row_id: str
    grant: Grant
    field: str
    scalar: bytes
    transport: PrivateKey
    enterprise: PublicKey
    value_total: int
    ids: list[bytes]
    points: list[bytes]
    w: list[Any]
    z: list[Any]
    mask_total: int
    details: dict[str, Any]


def prepare_answer(database: Database, settings: Settings, runtime: Any, incoming: Incoming,
                   session_id: str) -> AnswerJob:
    with database.session() as session:
        refusals = Refusals(session, incoming.info, ACTION)
        caller = authenticate(session, settings, incoming.raw_token, refusals)
        with audited(refusals):
            return checked_answer(session, refusals, caller, runtime, session_id, parse_json(incoming.body))


def checked_answer(session: Session, refusals: Refusals, caller: ComputeCaller, runtime: Any, session_id: Any,
                   body: Any) -> AnswerJob:
    """Every check of an answer before its arithmetic (the synchronous answer's and an
    ``intersection`` job's): the session is this licence's, open and in time, the grant is
    unchanged and has a query left, the reply is well formed."""
    row = session.get(IntersectionSession, session_id) \
        if isinstance(session_id, str) and len(session_id) == 32 else None
    if row is None or row.licence_id != caller.licence_id:
        raise AppError(404, "not_found", "no such intersection session of this licence")
    refusals.target = f"dataset:{row.dataset_id}"
    if row.state == IN_JOB:
        raise AppError(409, "session_used", "a job is answering this session: follow the job, or cancel it and "
                       "start a new session")
    if row.state != "open":
        raise AppError(409, "session_used", "this session was answered already: start a new one")
    if row.expires_at <= utcnow():
        raise AppError(410, "session_expired", f"sessions last {SESSION_MINUTES} minutes: start a new one")
    _source, grant, field, _where = _licensed(session, refusals, caller, row.dataset_id, row.resource_id,
                                              row.field, row.filters or None)
    if grant.updated_at > row.created_at:  # the offer was clamped to the old bounds
        raise AppError(409, "grant_changed", "the licence's grant changed since this session's offer: "
                       "start a new session")
    _budget_refusal(refusals, grant)
    key_row = own_key(session, caller.organisation_id, row.key_id)
    enterprise = runtime.public_key(key_row.kid, key_row.n)
    private, _h = transport_key(session)
    ids, points, w, z, mask_total = psi.parse_reply(body, private.public_key, enterprise, row.subjects,
                                                    grant.max_ids)
    scalar = session_scalar(session, row.id)
    details = {"licence": caller.licence_id, "dataset": row.dataset_id, "resource": row.resource_id,
               "field": field, "where": row.filters, "key": key_row.kid, "session": row.id,
               "ids": len(ids), "subjects_offered": row.subjects,
               "inputs": digest({"ids": sorted(p.hex() for p in ids), "points": [p.hex() for p in points]})}
    return AnswerJob(caller, row.id, grant, field, scalar, private, enterprise, int(row.value_total), ids,
                     points, w, z, mask_total, details)


def check_reply(database: Database, job: AnswerJob) -> None:
    """The reply's total (psi.check_total; a thread: one multiplication per offered subject
    and a decryption). Only a reply the SDK did not build fails it, and the refusal is itself
    an exact, un-noised answer about the table (whether a linear function of the offered
    values, of the replier's choosing, takes a guessed value). So it is not retried for free:
    the session is closed and the query's epsilon spent, as an answer's would be."""
    try:
        psi.check_total(job.transport, job.w, job.mask_total, job.value_total)
        return
    except psi.ReplyError as failed:
        error = AppError(400, failed.code, f"{failed}; this session is closed and its epsilon spent")
    with database.session() as session:
        if not spend_for_refused_reply(session, job.caller.actor, job.caller.request, job.grant, job.row_id, "open",
                                       error, job.details):
            error = AppError(409, "session_used", "this session was answered already: start a new one")
            append(session, actor=job.caller.actor, action=ACTION, target=f"dataset:{job.grant.dataset}",
                   outcome="refused", code=error.code, details={**job.details, "status": error.status,
                                                                "message": error.message, "epsilon": 0.0},
                   request=job.caller.request)
        session.commit()
    error.audited = True  # type: ignore[attr-defined]
    raise error


def spend_for_refused_reply(session: Session, actor: Actor, request: RequestInfo, grant: Grant, row_id: str,
                            from_state: str, error: AppError, details: dict[str, Any]) -> bool:
    """A reply that failed check_total: the session (still ``from_state``) is closed as
    refused and the grant's epsilon spent, audited. False (nothing written) if the session
    had left ``from_state`` meanwhile. Never rolls back (an intersection job's end calls it
    inside the transaction that ends the job). The caller commits."""
    epsilon = grant.epsilon_per_query
    closed = session.execute(update(IntersectionSession).where(
        IntersectionSession.id == row_id, IntersectionSession.state == from_state).values(
        state="refused", answered_at=utcnow()))
    if closed.rowcount != 1:  # type: ignore[attr-defined]  # answered meanwhile: spend nothing more
        return False
    spent = spend(session, grant.id, epsilon)
    if spent:
        session.execute(update(IntersectionSession).where(IntersectionSession.id == row_id).values(epsilon=epsilon))
    append(session, actor=actor, action=ACTION, target=f"dataset:{grant.dataset}", outcome="refused",
           code=error.code, details={**details, "status": error.status, "message": error.message,
                                     "epsilon": epsilon if spent else 0.0}, request=request)
    return True


def compute(job: AnswerJob, double_ids: list[bytes]) -> dict[str, Any]:
    """The noised statistics (thread: a few thousand multiplications and two decryptions);
    check_reply has passed."""
    positions = psi.matches(double_ids, job.points)
    release = Release(job.grant.epsilon_per_query, job.grant.sensitivity(job.field))
    count = release.noisy_count(len(positions))
    suppressed = count < job.grant.min_cohort
    total = None if suppressed else str(psi.answer(job.transport, job.enterprise, job.w, job.z, positions,
                                                  release.sum_noise()))
    return {"count": None if suppressed else count, "suppressed": suppressed, "sum": total,
            "noise": release.to_json(job.grant.scale)}


def finish(database: Database, job: AnswerJob, result: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Close the session and spend the epsilon in one transaction; audit; answer."""
    with database.session() as session:
        answer = close_answered(session, job, result, seconds, "open")
        session.commit()
    return answer


def close_answered(session: Session, answered: AnswerJob, result: dict[str, Any], seconds: float, from_state: str,
                   **extra: Any) -> dict[str, Any]:
    """In the caller's transaction: the session (still ``from_state``) closed as answered and
    the grant's epsilon spent, audited with ``extra`` details; the answer. An audited
    refusal (rolled back, nothing spent) if the session left ``from_state`` or the budget is
    spent. The caller commits."""
    grant, caller = answered.grant, answered.caller
    epsilon = grant.epsilon_per_query
    refusals = Refusals(session, caller.request, ACTION, f"dataset:{grant.dataset}", caller.actor,
                        {"licence": caller.licence_id, "session": answered.row_id, **extra})
    closed = session.execute(update(IntersectionSession).where(
        IntersectionSession.id == answered.row_id, IntersectionSession.state == from_state).values(
        state="answered", epsilon=epsilon, answered_at=utcnow()))
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        refusals.fail(AppError(409, "session_used", "this session was answered already: start a new one"))
    if not spend(session, grant.id, epsilon):
        fresh = grant_for(session, caller.licence_id, grant.dataset, grant.resource) or grant
        session.rollback()
        _budget_refusal(refusals, fresh)
        refusals.deny(429, "privacy_budget_exhausted", "the licence's privacy budget is spent")
    left = grant_for(session, caller.licence_id, grant.dataset, grant.resource)
    reference = append(session, actor=caller.actor, action=ACTION, target=refusals.target, details={
        **answered.details, **extra, "epsilon": epsilon, "epsilon_left": left.epsilon_left if left else 0.0,
        "suppressed": result["suppressed"], "count": result["count"], "outputs": digest(result),
        "duration_ms": round(seconds * 1e3, 1)}, request=caller.request)
    return {"session": answered.row_id, "dataset": grant.dataset, "resource": grant.resource,
            "field": answered.field, "key_id": answered.enterprise.key_id, "ids": len(answered.ids), **result,
            "scale": grant.scale, "min_cohort": grant.min_cohort, "epsilon_spent": epsilon,
            "epsilon_left": left.epsilon_left if left else 0.0, "queries_left": left.queries_left if left else 0,
            "audit": reference}
