"""HTTP endpoints of the hidden query (匿踪查询), under ``/api/v1/compute/hidden-query``, and
the administrators' grants under ``/api/v1/compute/policies/{licence}/hidden-query``.

* ``GET .../hidden-query/layout?dataset=&resource=&fields=&key_id=`` -- the directory (the
  resource's subject keys in order), the grid and the record format; an access token of a
  licence with a hidden-query grant on the resource (no quota spent).
* ``POST .../hidden-query`` -- the encrypted, proven selection; answers ciphertexts only the
  key holder can read. One unit of the grant's day, charged only on success.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, QueryParameter, RawBody

from opendata.compute import hidden_grants, hidden_query, hidden_service
from opendata.compute.api import _compute, _incoming, put_grants, read_licence
from opendata.compute.runtime import runtime_of
from opendata.deps import AppDatabase, AppSettings, DbSession


class HiddenQueryController(Controller):
    path = "/api/v1/compute"
    tags = ["compute"]

    @get("/hidden-query/layout", summary="The directory, grid and record format a hidden query selects in",
         status_code=200)
    async def layout(self, request: Request, database: AppDatabase, settings: AppSettings,
                     dataset: Annotated[str | None, QueryParameter(name="dataset")] = None,
                     resource: Annotated[str | None, QueryParameter(name="resource")] = None,
                     fields: Annotated[str | None, QueryParameter(name="fields")] = None,
                     key_id: Annotated[str | None, QueryParameter(name="key_id")] = None) -> dict[str, Any]:
        """Filters: ``where.<field>=<value>`` query parameters (e.g. ``where.month=2023-11-01``)."""
        incoming = _incoming(request, b"")
        where = {name[len("where."):]: value for name, value in request.query_params.items()
                 if name.startswith("where.")} or None
        return await anyio.to_thread.run_sync(partial(
            hidden_service.layout, database, settings, runtime_of(request), incoming, dataset, resource, fields,
            key_id, where))

    @post("/hidden-query", summary="Read one subject's fields without the portal learning which (匿踪查询)",
          status_code=200)
    async def query(self, request: Request, database: AppDatabase, settings: AppSettings) -> dict[str, Any]:
        runtime = runtime_of(request)
        incoming = _incoming(request, await request.body())
        job = await anyio.to_thread.run_sync(partial(hidden_service.prepare, database, settings, runtime, incoming))
        started = time.perf_counter()
        table = job.table
        pool = runtime.pool_for(job.public_key)
        per_chunk = 1 if table.layout.rows == 1 else 3
        ready = pool.take_available(per_chunk * table.format.chunks)

        async def work() -> list[list[str]]:
            return await hidden_query.answer_async(
                job.public_key, table.layout, job.selection, table.chunks, table.format.exponent_bits, job.contexts,
                ready, runtime.executor)

        answer = await _compute(request, database, job, hidden_service.ACTION, f"dataset:{table.source.dataset_id}",
                                work)
        return await anyio.to_thread.run_sync(
            partial(hidden_service.finish, database, job, answer, time.perf_counter() - started))

    @get("/policies/{licence_id:int}/hidden-query", summary="A licence's hidden-query grants", sync_to_thread=True)
    def read_grants(self, request: Request, db_session: DbSession, licence_id: FromPath[int]) -> dict[str, Any]:
        read_licence(request, db_session, licence_id, "compute.hidden_query.grants.read")
        return _grants_out(db_session, licence_id)

    @put("/policies/{licence_id:int}/hidden-query", summary="Set a licence's hidden-query grants (administrators)",
         sync_to_thread=True)
    def set_grants(self, request: Request, db_session: DbSession, licence_id: FromPath[int],
                   body: RawBody) -> dict[str, Any]:
        put_grants(request, db_session, licence_id, body, "compute.hidden_query.grants", hidden_grants.parse_grants,
                   hidden_grants.set_grants)
        return _grants_out(db_session, licence_id)


def _grants_out(session: DbSession, licence_id: int) -> dict[str, Any]:
    return {"licence": licence_id, "grants": [g.to_json() for g in hidden_grants.grants_of(session, licence_id)]}


HIDDEN_QUERY_HANDLERS = [HiddenQueryController]
