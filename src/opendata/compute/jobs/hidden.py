"""The ``hidden_query`` job kind: several hidden queries (匿踪查询) on one resource's layout,
one chunk each -- over a large resource each query is seconds of server work, and a job
spreads them over the engine's workers.

The checks are the synchronous query's (hidden_service: grant, fields, key, layout digest,
the selections' shapes), for every selection, before the 202; the grant's day is charged
one query per selection at submission (refunded for the queries not answered). Each
selection's one-hot proofs are verified in its chunk, before anything is computed on it:
a selection that is not one-hot fails the job there (its query is refunded). Each chunk is
audited like a synchronous hidden query: count, fields, digests -- never a subject.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from opendata import localtime
from opendata.access import quotas
from opendata.compute import hidden_service, parameters
from opendata.compute.hidden_query import COLS_PURPOSE, ROWS_PURPOSE, Layout, Selection, answer_async, check_selection
from opendata.compute.jobs.kinds import ChunkOutput, ChunkTask, JobKind, PlanRequest, register
from opendata.compute.paillier import PublicKey
from opendata.compute.public_keys import own_key
from opendata.compute.service import digest
from opendata.errors import AppError, bad_request

MAX_QUERIES = 1_000


def answer_one(n: int, layout: Layout, selection: Selection, chunks: list[list[int]], exponent_bits: int,
               contexts: tuple[bytes, bytes]) -> list[list[str]]:
    """One hidden query, proofs first, in one worker (module level: it pickles)."""
    return asyncio.run(answer_async(PublicKey(n), layout, selection, chunks, exponent_bits, contexts, [], None))


@dataclass
class HiddenQueryPlan:
    public_key: PublicKey
    table: Any  # hidden_service.Table
    selections: list[Selection]
    contexts: tuple[bytes, bytes]
    quota: tuple[str, int]
    units: int
    chunks: list[tuple[Any, int]]
    summary: dict[str, Any]
    audit: dict[str, Any] = field(default_factory=dict)

    def task(self, session: Session, index: int, chunk_input: Any) -> ChunkTask:
        selection = self.selections[int(chunk_input)]
        table = self.table
        return ChunkTask(answer_one, (int(self.public_key.n), table.layout, selection, table.chunks,
                                      table.format.exponent_bits, self.contexts), selection)

    def output(self, task: ChunkTask, result: Any, seconds: float) -> ChunkOutput:
        selection = task.context
        table = self.table
        audit = {"dataset": table.source.dataset_id, "resource": table.source.resource_id, "fields": table.fields,
                 "where": table.where, "key": self.public_key.key_id, "layout": table.digest,
                 "subjects_in_layout": table.layout.subjects, "queries": 1,
                 "inputs": digest({"rows": selection.rows, "cols": selection.cols}), "outputs": digest(result),
                 "duration_ms": round(seconds * 1e3, 1)}
        return ChunkOutput({"answers": [result]}, audit)


def _plan(request: PlanRequest) -> HiddenQueryPlan:
    body, session, caller, refusals, runtime = (request.body, request.session, request.caller, request.refusals,
                                                request.runtime)
    source, grant, fields, where = hidden_service._licensed(session, refusals, caller, body["dataset"],
                                                            body.get("resource"), body["fields"], body.get("where"))
    raw = body["selections"]
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_QUERIES:
        raise bad_request("selection_invalid", f"selections is a list of 1 to {MAX_QUERIES} selections")
    selections = [hidden_service._selection(item) for item in raw]
    key_row = own_key(session, caller.organisation_id, body["key_id"])
    public_key = runtime.public_key(key_row.kid, key_row.n)
    table = hidden_service.read_table(session, source, fields, where, public_key.bits,
                                      runtime.settings.hidden_query_linear_max)
    if body["layout"] != table.digest:
        raise AppError(409, "layout_changed", "the resource's layout changed since you read it: read it again "
                       "(GET /api/v1/compute/hidden-query/layout) and rebuild the selections")
    for selection in selections:
        check_selection(public_key, table.layout, selection)
    used = hidden_service._used_today(session, caller.licence_id, grant.quota_kind)
    if used + len(selections) > grant.per_day:
        refusals.fail(quotas.quota_exceeded("hidden queries", grant.per_day, localtime.zone_of(session)),
                      used_today=used, units=len(selections))
    contexts = tuple(parameters.context(request.settings, caller.organisation_id, key_row.kid, purpose)
                     for purpose in (ROWS_PURPOSE, COLS_PURPOSE))
    summary = {"dataset": source.dataset_id, "resource": source.resource_id, "fields": fields, "where": table.where,
               "key_id": key_row.kid, "layout": table.digest, "queries": len(selections),
               "quota_kind": grant.quota_kind}
    audit = {"dataset": source.dataset_id, "resource": source.resource_id, "fields": fields, "queries": len(selections),
             "layout": table.digest}
    return HiddenQueryPlan(public_key, table, selections, contexts, (grant.quota_kind, grant.per_day),  # type: ignore[arg-type]
                           len(selections), [(i, 1) for i in range(len(selections))], summary, audit)


HIDDEN_QUERY = register(JobKind("hidden_query", "compute.hidden_query", _plan, lambda summary: [("answers", "array")],
                                ("dataset", "fields", "key_id", "layout", "selections"), ("resource", "where")))
