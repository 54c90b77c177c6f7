"""The ``intersection`` job kind: the answer of a private intersection (联合统计) session,
the step whose cost grows with the enterprise's list, run as a job.

``{"kind": "intersection", "session": <id>, "reply": <the reply the synchronous answer
takes>}``. The session was opened by the synchronous offer (POST
/api/v1/compute/intersection/sessions); the job advances it. The checks are the
synchronous answer's (psi_service.checked_answer: this licence's session, open, in time,
grant unchanged with a query left, reply well formed), all before the 202, and the session
goes from ``open`` to ``job`` in the submission's transaction: a second job or a synchronous
answer on it is 409 ``session_used``.

Chunks: one checks the reply's total (psi.check_total), the others blind slices of the
enterprise's ids with the portal's scalar (the engine's workers). Their outputs stay in the
coordinator's memory -- double-blinded ids are never stored, nor served. When every chunk is
done the coordinator matches and noises (conclude), and ``record`` closes the session as
answered, spends the epsilon and stores the noised statistics in the transaction that marks
the job succeeded: a cancel lands either before it (nothing released, nothing spent) or
after it (the job has finished: 409). Never both, never twice.

When the job ends otherwise (``ended``, in the transaction that ends it): a reply whose total
failed the check closes the session as refused and spends the epsilon, as the synchronous
answer does (the refusal is itself an exact answer about the table); any other end --
cancelled, the budget spent meanwhile, a worker lost -- closes it as ``cancelled`` with
nothing spent and nothing released. Either way the enterprise starts a new session.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from opendata.compute import psi, psi_service
from opendata.compute.jobs.kinds import ChunkOutput, ChunkTask, JobKind, PlanRequest, register
from opendata.compute.jobs.models import ComputeJobChunk
from opendata.compute.models import IntersectionSession
from opendata.compute.psi_grants import grant_for
from opendata.db import utcnow
from opendata.errors import AppError

CHECK = "check"
REPLY_REFUSED = "reply_inconsistent"  # psi.check_total's code: the one end that spends epsilon
CHUNKS = ComputeJobChunk.__table__


def check_chunk(transport: tuple[int, int, int], w: list[Any], mask_total: int, value_total: int
                ) -> tuple[str, str] | None:
    """psi.check_total in a worker (module level: it pickles); the refusal as data."""
    try:
        psi.check_total(psi._private(*transport), w, mask_total, value_total)
    except psi.ReplyError as failed:
        return failed.code, str(failed)
    return None


@dataclass
class IntersectionPlan:
    answer: psi_service.AnswerJob
    units: int
    chunks: list[tuple[Any, int]]
    summary: dict[str, Any]
    audit: dict[str, Any]
    double: dict[int, list[bytes]] = field(default_factory=dict)  # chunk -> its ids blinded twice (memory only)
    began: float = field(default_factory=time.perf_counter)

    def task(self, session: Session, index: int, chunk_input: Any) -> ChunkTask:
        job = self.answer
        if chunk_input == CHECK:
            transport = (int(job.transport.public_key.n), int(job.transport.p), int(job.transport.q))
            return ChunkTask(check_chunk, (transport, job.w, job.mask_total, job.value_total), CHECK)
        start, stop = chunk_input
        return ChunkTask(psi.blind_chunk, (job.scalar, job.ids[start:stop]), index)

    def output(self, task: ChunkTask, result: Any, seconds: float) -> ChunkOutput:
        from opendata.compute.jobs.runner import Stop  # the runner imports the kinds

        timing = {"duration_ms": round(seconds * 1e3, 1)}
        if task.context == CHECK:
            if result is not None:  # ended (and the epsilon spent) by _ended, with the job
                raise Stop(result[0], f"{result[1]}; this session is closed and its epsilon spent")
            return ChunkOutput({}, {"step": "check", "session": self.answer.row_id, **timing})
        self.double[int(task.context)] = list(result)
        return ChunkOutput({}, {"step": "blind", "session": self.answer.row_id, "ids": len(result), **timing})

    def conclude(self) -> dict[str, Any]:
        double = [point for index in sorted(self.double) for point in self.double[index]]
        return psi_service.compute(self.answer, double)

    def record(self, session: Session, job_id: str, concluded: dict[str, Any]) -> None:
        answer = psi_service.close_answered(session, self.answer, concluded, time.perf_counter() - self.began,
                                            psi_service.IN_JOB, job=job_id)
        session.execute(update(CHUNKS).where(CHUNKS.c.job_id == job_id, CHUNKS.c.index == 0).values(
            output=json.dumps({"statistics": answer}, separators=(",", ":"))))


def _plan(request: PlanRequest) -> IntersectionPlan:
    session, caller, refusals = request.session, request.caller, request.refusals
    answer = psi_service.checked_answer(session, refusals, caller, request.runtime, request.body["session"],
                                        request.body["reply"])
    taken = session.execute(update(IntersectionSession).where(
        IntersectionSession.id == answer.row_id, IntersectionSession.state == "open").values(state=psi_service.IN_JOB))
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # answered meanwhile
        raise AppError(409, "session_used", "this session was answered already: start a new one")
    size = request.runtime.settings.job_chunk_subjects
    slices = [[start, min(len(answer.ids), start + size)] for start in range(0, len(answer.ids), size)]
    grant = answer.grant
    summary = {"session": answer.row_id, "dataset": grant.dataset, "resource": grant.resource, "field": answer.field,
               "key_id": answer.enterprise.key_id, "ids": len(answer.ids),
               "subjects_offered": answer.details["subjects_offered"], "epsilon": grant.epsilon_per_query}
    audit = {"session": answer.row_id, "dataset": grant.dataset, "resource": grant.resource, "field": answer.field,
             "ids": len(answer.ids), "inputs": answer.details["inputs"]}
    chunks: list[tuple[Any, int]] = [(CHECK, 0), *((part, 0) for part in slices)]
    return IntersectionPlan(answer, 0, chunks, summary, audit)


def _ended(session: Session, licence_id: int, summary: dict[str, Any], state: str, code: str | None,
           actor: Any, request: Any) -> None:
    row = session.get(IntersectionSession, summary.get("session"))
    if row is None or row.state != psi_service.IN_JOB:
        return
    grant = grant_for(session, licence_id, row.dataset_id, row.resource_id) if code == REPLY_REFUSED else None
    if grant is not None:
        error = AppError(400, code or REPLY_REFUSED, "the reply's values do not add up to what was offered; this "
                         "session is closed and its epsilon spent")
        if psi_service.spend_for_refused_reply(session, actor, request, grant, row.id, psi_service.IN_JOB, error,
                                               {"licence": licence_id, "session": row.id, "job": True}):
            return
    session.execute(update(IntersectionSession).where(
        IntersectionSession.id == row.id, IntersectionSession.state == psi_service.IN_JOB).values(
        state="cancelled", answered_at=utcnow()))


INTERSECTION = register(JobKind("intersection", "compute.intersection.step", _plan,
                                lambda summary: [("statistics", "object")], ("session", "reply"),
                                ended=_ended, large_body=True))

