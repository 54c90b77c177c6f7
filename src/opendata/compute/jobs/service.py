"""Jobs from request to result: submit (every check of the kind's synchronous endpoint, the
whole quota charged at once), read, cancel, download, list. Knows no HTTP beyond AppError.

Who sees a job: an access token of the job's licence; an enterprise user of its
organisation; an administrator (status only: results go to their owner). Anyone else gets
404, as for a job that does not exist: a job id is no oracle.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from opendata import localtime
from opendata.access import quotas
from opendata.access.licences import licence_status
from opendata.access.models import Licence
from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute.callers import ComputeCaller, Refusals, audited, authenticate, charge
from opendata.compute.jobs import state
from opendata.compute.jobs.kinds import PlanRequest, kind_of
from opendata.compute.jobs.models import (
    ACTIVE_STATES, CANCELLED, EXPIRED, FAILED, JOB_STATES, QUEUED, SUCCEEDED, ComputeJob, ComputeJobChunk,
)
from opendata.compute.schemas import members, parse_json
from opendata.compute.service import Incoming
from opendata.errors import bad_request

SUBMIT = "compute.job.submit"
LIST_LIMIT = 200


@dataclass(frozen=True)
class Viewer:
    organisation_id: int | None  # None: an administrator
    licence_id: int | None  # an access token's licence
    actor: Actor
    request: RequestInfo
    owner: bool  # may download results and cancel


def submit(session: Session, database: Any, settings: Any, runtime: Any, incoming: Incoming) -> dict[str, Any]:
    refusals = Refusals(session, incoming.info, SUBMIT)
    caller = authenticate(session, settings, incoming.raw_token, refusals)
    with audited(refusals):
        body = parse_json(incoming.body)
        kind = kind_of(body.get("kind") if isinstance(body, dict) else None)
        if len(incoming.body) > settings.request_body_max_bytes and not kind.large_body:
            # The door lets a job's body reach upload_max_bytes for the kinds that need it.
            refusals.deny(413, "body_too_large", f"a {kind.name} job's body is larger than "
                          f"{settings.request_body_max_bytes:,} bytes")
        members(body, f"a {kind.name} job", ("kind", *kind.members), kind.optional)
        refusals.details["kind"] = kind.name
        limit = runtime.settings.max_active_jobs_per_licence
        _refuse_past_the_cap(session, refusals, caller.licence_id, limit)  # before the plan's work
        engine = runtime.jobs.engine()
        plan = kind.plan(PlanRequest(session, database, settings, runtime, caller, refusals, body))
        # Counted again under the licence's lock: two submissions racing past the first
        # count would otherwise both be accepted (the second now waits for the first's commit).
        state.lock_licence(session, caller.licence_id)
        _refuse_past_the_cap(session, refusals, caller.licence_id, limit)
        own_quota = getattr(plan, "quota", None)
        if own_quota is None:
            charge(refusals, caller, plan.units)
        elif quotas.charge(session, caller.licence_id, own_quota[0], plan.units, own_quota[1]) is None:
            refusals.fail(quotas.quota_exceeded(kind.name, own_quota[1], localtime.zone_of(session)), units=plan.units)
        job = ComputeJob(id="job_" + secrets.token_hex(12), kind=kind.name, licence_id=caller.licence_id,
                         organisation_id=caller.organisation_id, created_by=caller.actor.name, state=QUEUED,
                         summary=plan.summary, total_chunks=len(plan.chunks), done_chunks=0, units=plan.units,
                         refunded=0, charged_on=localtime.today(session), engine=engine.name,
                         runner=runtime.jobs.name)
        session.add(job)
        session.flush()
        session.add_all(ComputeJobChunk(job_id=job.id, index=i, units=units, input=data)
                        for i, (data, units) in enumerate(plan.chunks))
        append(session, actor=caller.actor, action=SUBMIT, target=f"job:{job.id}",
               details={"licence": caller.licence_id, "job": job.id, "kind": kind.name, "units": plan.units,
                        "chunks": len(plan.chunks), "engine": engine.name, **plan.audit}, request=caller.request)
    session.commit()
    out = job_out(job)
    runtime.jobs.start(database, job.id, kind, plan, caller, engine)
    return out


def _refuse_past_the_cap(session: Session, refusals: Refusals, licence_id: int, limit: int) -> None:
    active = session.scalar(select(func.count()).select_from(ComputeJob).where(
        ComputeJob.licence_id == licence_id, ComputeJob.state.in_(ACTIVE_STATES))) or 0
    if active >= limit:
        refusals.deny(429, "too_many_jobs", f"this licence has {active} unfinished job(s), at most {limit}: "
                      "wait for one to finish or cancel one", headers={"Retry-After": "60"})


def viewer(request: Any, session: Session, settings: Any, raw_token: str | None, refusals: Refusals) -> Viewer:
    from opendata.access.principals import SESSION_TOKEN_PREFIX, require_user

    if raw_token is not None and not raw_token.startswith(SESSION_TOKEN_PREFIX):
        caller: ComputeCaller = authenticate(session, settings, raw_token, refusals)
        return Viewer(caller.organisation_id, caller.licence_id, caller.actor, caller.request, True)
    principal = require_user(request, session, action=refusals.action, roles=("enterprise", "admin"),
                             target=refusals.target)
    refusals.actor = principal.actor
    if principal.user.role == "admin":
        return Viewer(None, None, principal.actor, refusals.request, False)
    return Viewer(principal.user.organisation_id or -1, None, principal.actor, refusals.request, True)


def visible_job(session: Session, refusals: Refusals, who: Viewer, job_id: str) -> ComputeJob:
    job = session.get(ComputeJob, job_id[:32])
    if job is None or (who.organisation_id is not None and job.organisation_id != who.organisation_id) \
            or (who.licence_id is not None and job.licence_id != who.licence_id):
        refusals.deny(404, "job_not_found", f"no job {job_id[:40]!r} of yours")
    return job


def list_jobs(session: Session, who: Viewer, wanted_state: str | None) -> list[dict[str, Any]]:
    return [job_out(job) for job in session.scalars(jobs_query(who, wanted_state).limit(LIST_LIMIT))]


def jobs_query(who: Viewer, wanted_state: str | None) -> Select[tuple[ComputeJob]]:
    """The jobs ``who`` may list (its organisation's, or all for an administrator), newest first."""
    if wanted_state is not None and wanted_state not in JOB_STATES:
        raise bad_request("invalid_state", f"state is one of {', '.join(JOB_STATES)}")
    query = select(ComputeJob).order_by(ComputeJob.created_at.desc(), ComputeJob.id)
    if who.organisation_id is not None:
        query = query.where(ComputeJob.organisation_id == who.organisation_id)
    if who.licence_id is not None:
        query = query.where(ComputeJob.licence_id == who.licence_id)
    if wanted_state is not None:
        query = query.where(ComputeJob.state == wanted_state)
    return query


def cancel(session: Session, refusals: Refusals, who: Viewer, job: ComputeJob, *, discard: bool) -> dict[str, Any]:
    """Cancel an unfinished job (its uncomputed units refunded); with ``discard`` (DELETE) a
    finished job's result is deleted instead. 409 for a job already ended otherwise."""
    if not who.owner:
        refusals.deny(403, "forbidden_role", "only the job's organisation cancels it")
    if job.state in ACTIVE_STATES:
        state.settle(session, job.id, CANCELLED, "cancelled", None, actor=who.actor, request=who.request)
    elif discard and job.state == SUCCEEDED:
        state.discard_result(session, job.id, actor=who.actor, request=who.request)
    elif not discard or job.state not in (EXPIRED, FAILED, CANCELLED):
        refusals.deny(409, "job_finished", f"job {job.id} is {job.state}: there is nothing to cancel")
    session.commit()
    session.refresh(job)
    return job_out(job)


def result_header(session: Session, refusals: Refusals, who: Viewer, job: ComputeJob) -> tuple[dict[str, Any],
                                                                                              list[tuple[str, str]]]:
    """What the result starts with and which members it merges; refuses unless it is ready."""
    if not who.owner:
        refusals.deny(403, "forbidden_role", "a job's result goes to its organisation only")
    if not licence_serves_results(session, job.licence_id):
        # The licence's token is refused at authentication already; this is the
        # organisation's users' door: a result computed under a licence that was revoked,
        # closed or has run out is not handed over after its end, as its rows would not be.
        refusals.deny(403, "licence_inactive", f"licence {job.licence_id} has ended: results computed under it "
                      "are no longer served")
    if job.state == EXPIRED:
        refusals.deny(410, "job_expired", f"job {job.id}'s result was kept until {_iso(job.expires_at)} and is deleted")
    if job.state in (FAILED, CANCELLED):
        refusals.deny(409, f"job_{job.state}", f"job {job.id} is {job.state}"
                      + (f": {job.error_message}" if job.error_message else "") + "; it has no result")
    if job.state != SUCCEEDED:
        refusals.deny(409, "job_not_finished", f"job {job.id} is {job.state} ({job.done_chunks} of "
                      f"{job.total_chunks} chunks done): ask again when it has succeeded",
                      headers={"Retry-After": "5"})
    append(session, actor=who.actor, action="compute.job.result", target=f"job:{job.id}",
           details={"licence": job.licence_id, "job": job.id, "kind": job.kind}, request=who.request)
    session.commit()
    header = {"job": job.id, "kind": job.kind, **{k: v for k, v in job.summary.items() if k != "reveal_not_found"}}
    return header, kind_of(job.kind).merged(job.summary)


def licence_serves_results(session: Session, licence_id: int) -> bool:
    licence = session.get(Licence, licence_id)
    return licence is not None and licence_status(licence) == "active"


def result_stream(database: Any, job_id: str, chunks: int, header: dict[str, Any],
                  merged: list[tuple[str, str]]) -> Iterator[bytes]:
    """The result as one JSON document, one chunk's output read at a time."""
    yield json.dumps(header, separators=(",", ":"))[:-1].encode()
    for member, shape in merged:
        yield f',{json.dumps(member)}:{"{" if shape == "object" else "["}'.encode()
        first = True
        for index in range(chunks):
            with database.session() as session:
                text = session.scalar(select(ComputeJobChunk.output).where(
                    ComputeJobChunk.job_id == job_id, ComputeJobChunk.index == index))
            if text is None:
                raise RuntimeError(f"job {job_id}: chunk {index} was purged while its result was being sent")
            part = json.loads(text).get(member)
            inner = json.dumps(part, separators=(",", ":"))[1:-1] if part else ""
            if inner:
                yield (("" if first else ",") + inner).encode()
                first = False
        yield b"}" if shape == "object" else b"]"
    yield b"}"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def job_out(job: ComputeJob) -> dict[str, Any]:
    total = job.total_chunks or 1
    return {
        "id": job.id, "kind": job.kind, "state": job.state, "licence_id": job.licence_id,
        "organisation_id": job.organisation_id, "created_by": job.created_by, "engine": job.engine,
        "progress": {"done": job.done_chunks, "total": job.total_chunks, "fraction": round(job.done_chunks / total, 4)},
        "summary": job.summary, "units": job.units, "refunded": job.refunded,
        "error": None if job.error_code is None else {"code": job.error_code, "message": job.error_message},
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at), "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at),
    }
