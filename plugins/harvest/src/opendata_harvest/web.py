"""The harvest log over HTTP, for administrators: ``GET /api/v1/harvest/runs`` (the latest
runs, ``?source=&limit=``), ``GET /api/v1/harvest/runs/{id}`` (one run with its log), and the
portal page ``/admin/harvest`` (sources, schedules, runs; ``?run=ID`` shows a log)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access.principals import require_user
from opendata.deps import DbSession
from opendata.errors import AppError, bad_request
from opendata.portal.page import Page
from opendata.portal.paging import paged

from opendata_harvest import service, sources
from opendata_harvest.models import HarvestRun, ensure_tables

ADMIN = ("admin",)
_ready: set[str] = set()


def _tables(session: Session) -> None:
    """Create the harvester's tables on first use in this process (per database)."""
    engine = session.get_bind()
    key = str(engine.url)
    if key not in _ready:
        ensure_tables(engine)
        _ready.add(key)


def _runs(session: Session, source: str | None, limit: int) -> list[dict[str, Any]]:
    if not 1 <= limit <= 200:
        raise bad_request("invalid_limit", "limit is between 1 and 200")
    _tables(session)
    if source:
        try:
            sources.get_source(session, source)
        except sources.SourceError as exc:
            raise AppError(404, exc.code, exc.message) from None
    return [r.as_dict() for r in service.runs(session, source, limit)]


@get("/api/v1/harvest/runs", summary="The latest harvest runs (administrators)", tags=["harvest"],
     sync_to_thread=True)
def runs_api(request: Request, db_session: DbSession, source: FromQuery[str | None] = None,
             limit: FromQuery[int] = 20) -> dict[str, Any]:
    require_user(request, db_session, action="harvest.read", roles=ADMIN)
    return {"items": _runs(db_session, source, limit)}


@get("/api/v1/harvest/runs/{run_id:int}", summary="One harvest run and its log (administrators)",
     tags=["harvest"], sync_to_thread=True)
def run_api(request: Request, db_session: DbSession, run_id: FromPath[int]) -> dict[str, Any]:
    require_user(request, db_session, action="harvest.read", roles=ADMIN, target=f"harvest-run:{run_id}")
    _tables(db_session)
    run = db_session.get(HarvestRun, run_id) if 0 < run_id < 2**31 else None
    if run is None:
        raise AppError(404, "not_found", f"no harvest run {run_id}")
    return {**run.as_dict(), "log": [e.as_dict() for e in service.run_log(db_session, run.id)]}


@get("/admin/harvest", name="harvest-admin", sync_to_thread=True)
def admin_page(page: Page, db_session: DbSession, run: FromQuery[int | None] = None) -> Response:
    page.require(*ADMIN, action="harvest.view")
    _tables(db_session)
    shown = db_session.get(HarvestRun, run) if run and 0 < run < 2**31 else None
    listed = sources.list_sources(db_session)
    # Every run is reachable, newest first, a page at a time (a scheduled source adds one per interval).
    recent = paged(page, db_session, select(HarvestRun).order_by(HarvestRun.id.desc()), path="/admin/harvest")
    if shown is None and recent.items:
        shown = recent.items[0]
    return page.render(
        "harvest/admin.html", nav="admin",
        sources=[{**s.as_dict(), "next_due": sources.next_due(s)} for s in listed],
        runs=recent.items, runs_paged=recent, shown=shown,
        log=service.run_log(db_session, shown.id) if shown else [])
