"""HTTP endpoints of the private intersection statistics (联合统计), under
``/api/v1/compute/intersection``, and the administrators' grants under
``/api/v1/compute/policies/{licence}/intersection``.

* ``POST .../intersection/sessions`` -- ``{"dataset", "resource"?, "field", "where"?, "key_id"}``:
  the offer (the resource's subjects blinded, their clamped values under the portal's
  transport key), a session id, the noise and the budget left. Nothing spent.
* ``POST .../intersection/sessions/{id}`` -- the enterprise's reply (its blinded ids, the
  offer re-blinded, re-randomised, masked and shuffled): the noised count and the encrypted
  noised sum. Spends the grant's epsilon per query.
* ``GET .../intersection/grants`` -- the token's licence's grants with the budget left.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, RawBody

from opendata.access.principals import bearer_token
from opendata.audit.context import request_info
from opendata.compute import psi, psi_grants, psi_service
from opendata.compute.api import _compute, _incoming, put_grants, read_licence
from opendata.compute.callers import Refusals, authenticate
from opendata.compute.hidden_query import _run, _slices, _workers
from opendata.compute.psi_group import encode_points
from opendata.compute.runtime import runtime_of
from opendata.deps import AppDatabase, AppSettings, DbSession


async def _offer_work(executor: Any, job: psi_service.OfferJob) -> dict[str, Any]:
    parts = _slices(len(job.subjects), _workers(executor)) if job.subjects else []
    results = await asyncio.gather(*(_run(executor, psi.offer_chunk, job.scalar, job.transport, job.subjects[a:b],
                                          job.values[a:b]) for a, b in parts))
    points = [p for part in results for p in part[0]]
    cts = [c for part in results for c in part[1]]
    points, cts = psi.shuffled(points, cts) if points else ([], [])
    return {**job.reply, "subjects": len(points), "points": encode_points(points), "values": [str(c) for c in cts]}


class IntersectionController(Controller):
    path = "/api/v1/compute"
    tags = ["compute"]

    @post("/intersection/sessions", summary="Open a private intersection (联合统计): the blinded offer",
          status_code=201)
    async def open_session(self, request: Request, database: AppDatabase, settings: AppSettings) -> dict[str, Any]:
        runtime = runtime_of(request)
        incoming = _incoming(request, await request.body())
        job = await anyio.to_thread.run_sync(partial(psi_service.offer, database, settings, runtime, incoming))
        return await _compute(request, database, job, psi_service.OFFER_ACTION, f"session:{job.session_id}",
                              lambda: _offer_work(runtime.executor, job))

    @post("/intersection/sessions/{session_id:str}", summary="Answer a private intersection: noised count and "
          "the encrypted noised sum", status_code=200, opt={"upload": True})  # a 10,000-id reply is ~25 MB
    async def answer(self, request: Request, database: AppDatabase, settings: AppSettings,
                     session_id: FromPath[str]) -> dict[str, Any]:
        runtime = runtime_of(request)
        incoming = _incoming(request, await request.body())
        job = await anyio.to_thread.run_sync(partial(psi_service.prepare_answer, database, settings, runtime,
                                                     incoming, session_id))
        started = time.perf_counter()
        executor = runtime.executor
        await anyio.to_thread.run_sync(partial(psi_service.check_reply, database, job))

        async def work() -> dict[str, Any]:
            parts = _slices(len(job.ids), _workers(executor))
            blinded = await asyncio.gather(*(_run(executor, psi.blind_chunk, job.scalar, job.ids[a:b])
                                             for a, b in parts))
            double = [p for part in blinded for p in part]
            return await anyio.to_thread.run_sync(partial(psi_service.compute, job, double))

        result = await _compute(request, database, job, psi_service.ACTION, f"dataset:{job.grant.dataset}", work)
        return await anyio.to_thread.run_sync(
            partial(psi_service.finish, database, job, result, time.perf_counter() - started))

    @get("/intersection/grants", summary="This token's licence's intersection grants and budget left",
         sync_to_thread=True)
    def my_grants(self, request: Request, db_session: DbSession, settings: AppSettings) -> dict[str, Any]:
        refusals = Refusals(db_session, request_info(request), "compute.intersection.grants.read")
        caller = authenticate(db_session, settings, bearer_token(request), refusals)
        return _grants_out(db_session, caller.licence_id)

    @get("/policies/{licence_id:int}/intersection", summary="A licence's intersection grants", sync_to_thread=True)
    def read_grants(self, request: Request, db_session: DbSession, licence_id: FromPath[int]) -> dict[str, Any]:
        read_licence(request, db_session, licence_id, "compute.intersection.grants.read")
        return _grants_out(db_session, licence_id)

    @put("/policies/{licence_id:int}/intersection", summary="Set a licence's intersection grants (administrators)",
         sync_to_thread=True)
    def set_grants(self, request: Request, db_session: DbSession, licence_id: FromPath[int],
                   body: RawBody) -> dict[str, Any]:
        put_grants(request, db_session, licence_id, body, "compute.intersection.grants", psi_grants.parse_grants, psi_grants.set_grants)
        return _grants_out(db_session, licence_id)


def _grants_out(session: DbSession, licence_id: int) -> dict[str, Any]:
    return {"licence": licence_id, "grants": [g.to_json() for g in psi_grants.grants_of(session, licence_id)]}


INTERSECTION_HANDLERS = [IntersectionController]
