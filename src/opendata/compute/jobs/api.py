"""HTTP endpoints of compute jobs, under ``/api/v1/compute/jobs`` (docs/compute.md, Jobs).

* ``POST /jobs`` -- ``{"kind": "score", "model_id", "subjects"}`` → 202, the job, ``Location``;
* ``GET /jobs[?state=]``, ``GET /jobs/{id}`` -- state and progress (done/total chunks);
* ``POST /jobs/{id}/cancel``, ``DELETE /jobs/{id}`` -- cancel (DELETE of a finished job
  also deletes its result);
* ``GET /jobs/{id}/result`` -- the encrypted result (409 until the job succeeded, 410 once
  its time is up).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from opendata.access.principals import bearer_token
from opendata.audit.context import request_info
from opendata.compute.callers import Refusals, audited
from opendata.compute.jobs import service, state
from opendata.compute.runtime import runtime_of
from opendata.compute.service import Incoming
from opendata.deps import AppDatabase, AppSettings, DbSession

PRIVATE = {"Cache-Control": "no-store"}


def _job(request: Request, session: DbSession, settings: AppSettings, job_id: str,
         action: str) -> tuple[Refusals, service.Viewer, Any]:
    refusals = Refusals(session, request_info(request), action, f"job:{job_id[:40]}")
    who = service.viewer(request, session, settings, bearer_token(request), refusals)
    return refusals, who, service.visible_job(session, refusals, who, job_id)


class JobsController(Controller):
    path = "/api/v1/compute/jobs"
    tags = ["compute"]

    @post("/", summary="Submit a long computation as a job (202 and its id; progress at Location)",
          status_code=202, opt={"upload": True})  # an intersection's reply; other kinds: service.submit's limit
    async def submit(self, request: Request, database: AppDatabase, settings: AppSettings) -> Response[dict[str, Any]]:
        incoming = Incoming(bearer_token(request), request_info(request), await request.body())
        runtime = runtime_of(request)

        def run() -> dict[str, Any]:
            with database.session() as session:
                return service.submit(session, database, settings, runtime, incoming)

        job = await anyio.to_thread.run_sync(run)
        return Response(job, status_code=202, headers={"Location": f"{request.url.path.rstrip('/')}/{job['id']}",
                                                       **PRIVATE})

    @get("/", summary="Jobs: your licence's or organisation's, or all for administrators", sync_to_thread=True)
    def list_jobs(self, request: Request, db_session: DbSession, settings: AppSettings,
                  wanted_state: Annotated[str | None, QueryParameter(name="state")] = None) -> list[dict[str, Any]]:
        refusals = Refusals(db_session, request_info(request), "compute.job.list")
        who = service.viewer(request, db_session, settings, bearer_token(request), refusals)
        with audited(refusals):
            return service.list_jobs(db_session, who, wanted_state)

    @get("/{job_id:str}", summary="A job's state and progress", sync_to_thread=True)
    def read(self, request: Request, db_session: DbSession, settings: AppSettings,
             job_id: FromPath[str]) -> dict[str, Any]:
        state.purge_expired(db_session)
        db_session.commit()
        _, _, job = _job(request, db_session, settings, job_id, "compute.job.read")
        return service.job_out(job)

    @post("/{job_id:str}/cancel", summary="Cancel a job (its uncomputed subjects are refunded)", status_code=200,
          sync_to_thread=True)
    def cancel(self, request: Request, db_session: DbSession, settings: AppSettings,
               job_id: FromPath[str]) -> dict[str, Any]:
        refusals, who, job = _job(request, db_session, settings, job_id, "compute.job.cancel")
        return service.cancel(db_session, refusals, who, job, discard=False)

    @delete("/{job_id:str}", summary="Cancel a job, or delete a finished job's result", status_code=200,
            sync_to_thread=True)
    def remove(self, request: Request, db_session: DbSession, settings: AppSettings,
               job_id: FromPath[str]) -> dict[str, Any]:
        refusals, who, job = _job(request, db_session, settings, job_id, "compute.job.cancel")
        return service.cancel(db_session, refusals, who, job, discard=True)

    @get("/{job_id:str}/result", summary="A succeeded job's encrypted result (409 until then, 410 when expired)",
         sync_to_thread=True)
    def result(self, request: Request, db_session: DbSession, database: AppDatabase, settings: AppSettings,
               job_id: FromPath[str]) -> Stream:
        state.purge_expired(db_session)
        db_session.commit()
        refusals, who, job = _job(request, db_session, settings, job_id, "compute.job.result")
        header, merged = service.result_header(db_session, refusals, who, job)
        return Stream(service.result_stream(database, job.id, job.total_chunks, header, merged),
                      media_type="application/json", headers=PRIVATE)


JOBS_HANDLERS = [JobsController]
