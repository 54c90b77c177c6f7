"""A job's state changes in the database, shared by the runner (any process), the endpoints
and the sweeps. Every change is a conditional UPDATE on the job row, so two processes
racing (a cancel here, the last chunk there) cannot both win: whichever updates the row
first decides, the other sees zero rows and stands down.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from opendata.access import quotas
from opendata.access.models import Licence
from opendata.audit.service import NO_REQUEST, Actor, append
from opendata.compute.callers import USAGE_KIND
from opendata.compute.jobs.kinds import kind_of
from opendata.compute.jobs.models import (
    ACTIVE_STATES, CANCELLED, EXPIRED, FAILED, QUEUED, RUNNING, SUCCEEDED, ComputeJob, ComputeJobChunk,
)
from opendata.db import utcnow

JOBS = ComputeJob.__table__
LICENCES = Licence.__table__
CHUNKS = ComputeJobChunk.__table__
MONITOR = Actor("system:compute-jobs", "system")


def runner_name() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def lock_licence(session: Session, licence_id: int) -> None:
    """Hold off every other submission of ``licence_id`` until this transaction ends, so
    that what it counts (its unfinished jobs) cannot change under it. PostgreSQL: a row lock
    on the licence, FOR NO KEY UPDATE -- the submission's own inserts (probe counters, usage)
    hold KEY SHARE locks on the licence through their foreign keys, and two submissions each
    holding one and asking FOR UPDATE deadlock; SQLite: a write (of nothing) takes the
    database's single write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(LICENCES.c.id).where(LICENCES.c.id == licence_id).with_for_update(key_share=True))
    else:
        session.execute(update(LICENCES).where(LICENCES.c.id == licence_id).values(state=LICENCES.c.state))


def mark_running(session: Session, job_id: str) -> bool:
    now = utcnow()
    done = session.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == QUEUED)
                           .values(state=RUNNING, started_at=now, heartbeat_at=now)).rowcount
    return bool(done)


def record_chunk(session: Session, job_id: str, index: int, output: str) -> bool:
    """Store one chunk's output, if the job is still running (False: cancelled or failed
    meanwhile, the output is dropped). The caller commits."""
    counted = session.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == RUNNING)
                              .values(done_chunks=JOBS.c.done_chunks + 1, heartbeat_at=utcnow())).rowcount
    if not counted:
        return False
    session.execute(update(CHUNKS).where(CHUNKS.c.job_id == job_id, CHUNKS.c.index == index, CHUNKS.c.done_at.is_(None))
                    .values(output=output, done_at=utcnow()))
    return True


def mark_succeeded(session: Session, job_id: str, keep_seconds: int) -> bool:
    now = utcnow()
    return bool(session.execute(
        update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == RUNNING, JOBS.c.done_chunks == JOBS.c.total_chunks)
        .values(state=SUCCEEDED, finished_at=now, heartbeat_at=now, expires_at=now + timedelta(seconds=keep_seconds))
    ).rowcount)


def settle(session: Session, job_id: str, state: str, code: str | None, message: str | None, *,
           actor: Actor, request: Any = None) -> bool:
    """End an unfinished job as ``state`` (failed or cancelled): refund the units of the
    chunks not computed, drop partial outputs, audit. False if it had ended already."""
    ended = session.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state.in_(ACTIVE_STATES))
                            .values(state=state, finished_at=utcnow(), error_code=code,
                                    error_message=(message or "")[:500] or None)).rowcount
    if not ended:
        return False
    job = session.execute(select(JOBS.c.licence_id, JOBS.c.charged_on, JOBS.c.kind, JOBS.c.summary)
                          .where(JOBS.c.id == job_id)).one()
    left = session.scalar(select(func.coalesce(func.sum(CHUNKS.c.units), 0))
                          .where(CHUNKS.c.job_id == job_id, CHUNKS.c.done_at.is_(None))) or 0
    if left:
        usage_kind = (job.summary or {}).get("quota_kind") or USAGE_KIND  # a kind with a quota of its own
        quotas.refund(session, job.licence_id, usage_kind, int(left), job.charged_on)
    session.execute(update(JOBS).where(JOBS.c.id == job_id).values(refunded=int(left)))
    ended_hook = kind_of(job.kind).ended
    if ended_hook is not None:
        ended_hook(session, job.licence_id, job.summary or {}, state, code, actor, request or NO_REQUEST)
    session.execute(update(CHUNKS).where(CHUNKS.c.job_id == job_id).values(output=None, input=None))
    append(session, actor=actor, action=f"compute.job.{state}", target=f"job:{job_id}",
           outcome="success" if state == CANCELLED else "refused", code=code,
           details={"licence": job.licence_id, "job": job_id, "kind": job.kind, "refunded": int(left),
                    **({"message": message[:500]} if message else {})}, request=request or NO_REQUEST)
    return True


def discard_result(session: Session, job_id: str, *, actor: Actor, request: Any = None) -> bool:
    """A finished job's result, deleted now rather than at its expiry (DELETE on a done job)."""
    gone = session.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == SUCCEEDED)
                           .values(state=EXPIRED, expires_at=utcnow())).rowcount
    if gone:
        session.execute(update(CHUNKS).where(CHUNKS.c.job_id == job_id).values(output=None, input=None))
        append(session, actor=actor, action="compute.job.discard", target=f"job:{job_id}",
               details={"job": job_id}, request=request or NO_REQUEST)
    return bool(gone)


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Results past their time: outputs and inputs deleted, the job kept as ``expired``."""
    now = now or utcnow()
    ids = list(session.scalars(select(JOBS.c.id).where(JOBS.c.state == SUCCEEDED, JOBS.c.expires_at <= now)))
    for job_id in ids:
        session.execute(update(JOBS).where(JOBS.c.id == job_id, JOBS.c.state == SUCCEEDED).values(state=EXPIRED))
        session.execute(update(CHUNKS).where(CHUNKS.c.job_id == job_id).values(output=None, input=None))
    return len(ids)


def fail_lost(session: Session, stale_seconds: int, *, dead_here: bool = False, now: datetime | None = None) -> list[str]:
    """Unfinished jobs whose coordinating process is gone: no heartbeat for ``stale_seconds``,
    or (``dead_here``, at start-up) run by a process of this host that no longer exists."""
    now = now or utcnow()
    rows = session.execute(select(JOBS.c.id, JOBS.c.runner, JOBS.c.heartbeat_at)
                           .where(JOBS.c.state.in_(ACTIVE_STATES))).all()
    host = socket.gethostname()[:100]
    lost = [row.id for row in rows if row.heartbeat_at <= now - timedelta(seconds=stale_seconds)
            or (dead_here and _dead_on(host, row.runner))]
    for job_id in lost:
        settle(session, job_id, FAILED, "runner_lost",
               "the portal process running this job stopped; its uncomputed subjects were refunded: submit it again",
               actor=MONITOR)
    return lost


def _dead_on(host: str, runner: str) -> bool:
    name, _, pid = runner.rpartition(":")
    if name != host or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def heartbeat(session: Session, job_ids: list[str]) -> None:
    if job_ids:
        session.execute(update(JOBS).where(JOBS.c.id.in_(job_ids), JOBS.c.state.in_(ACTIVE_STATES))
                        .values(heartbeat_at=utcnow()))
