"""Compute jobs in the workspaces (docs/compute.md, Jobs).

* ``/workspace/compute/jobs``: the organisation's jobs with their progress (the page
  reloads itself while one runs), cancel, and the encrypted result's download -- ciphertexts
  only the organisation's key decrypts (``opendata compute job wait ID`` or the SDK).
* ``/admin/compute/jobs``: every job, its organisation, licence, progress and outcome;
  never a result.

The pages call the jobs service (compute/jobs/service.py): the same ownership rule (another
organisation's job is 404), the same cancel and refund, the same audit records as the API.
"""

from __future__ import annotations

from datetime import datetime

from litestar import Response, get, post
from litestar.params import FromPath
from litestar.response import Stream
from sqlalchemy import select

from opendata.access.models import Organisation
from opendata.audit.context import request_info
from opendata.compute.callers import Refusals
from opendata.compute.jobs import service, state
from opendata.compute.jobs.models import ACTIVE_STATES, JOB_STATES
from opendata.deps import AppDatabase, DbSession
from opendata.portal.page import Page, PortalPage
from opendata.portal.paging import paged


def _owner(page: PortalPage, action: str, target: str | None = None) -> tuple[Refusals, service.Viewer]:
    principal = page.require("enterprise", action=action)
    info = request_info(page.request)
    refusals = Refusals(page.session, info, action, target, principal.actor)
    return refusals, service.Viewer(principal.user.organisation_id or -1, None, principal.actor, info, True)


def _jobs_page(page: PortalPage, template: str, who: service.Viewer, nav: str, **extra: object) -> Response:
    state.purge_expired(page.session)
    page.session.commit()
    wanted = page.request.query_params.get("state")
    listed = paged(page, page.session, service.jobs_query(who, wanted if wanted in JOB_STATES else None))
    jobs = [service.job_out(job) for job in listed.items]
    for job in jobs:  # the API's ISO times, as the pages' time filter takes them
        for name in ("created_at", "expires_at"):
            job[name] = datetime.fromisoformat(job[name]) if job[name] else None
    served = {licence_id for licence_id in {job["licence_id"] for job in jobs}
              if service.licence_serves_results(page.session, licence_id)}
    for job in jobs:
        job["result_served"] = job["licence_id"] in served
    running = any(job["state"] in ACTIVE_STATES for job in jobs)
    return page.render(template, nav=nav, jobs=jobs, listed=listed, running=running, states=JOB_STATES,
                       wanted=wanted if wanted in JOB_STATES else None, **extra)


@get("/workspace/compute/jobs", name="portal-compute-jobs", sync_to_thread=True)
def jobs_page(page: Page) -> Response:
    _, who = _owner(page, "portal.compute.jobs")
    return _jobs_page(page, "workspace/compute_jobs.html", who, "workspace")


@post("/workspace/compute/jobs/{job_id:str}/cancel", name="portal-compute-job-cancel", sync_to_thread=True)
def cancel_job(page: Page, db_session: DbSession, job_id: FromPath[str]) -> Response:
    refusals, who = _owner(page, "compute.job.cancel", f"job:{job_id[:40]}")
    job = service.visible_job(db_session, refusals, who, job_id)
    service.cancel(db_session, refusals, who, job, discard=False)
    return page.redirect("/workspace/compute/jobs", notice="job_cancelled")


@get("/workspace/compute/jobs/{job_id:str}/result", name="portal-compute-job-result", sync_to_thread=True)
def job_result(page: Page, db_session: DbSession, database: AppDatabase, job_id: FromPath[str]) -> Stream:
    refusals, who = _owner(page, "compute.job.result", f"job:{job_id[:40]}")
    state.purge_expired(db_session)
    db_session.commit()
    job = service.visible_job(db_session, refusals, who, job_id)
    header, merged = service.result_header(db_session, refusals, who, job)
    return Stream(service.result_stream(database, job.id, job.total_chunks, header, merged),
                  media_type="application/json",
                  headers={"Content-Disposition": f'attachment; filename="{job.id}.json"', "Cache-Control": "no-store"})


@get("/admin/compute/jobs", name="portal-admin-compute-jobs", sync_to_thread=True)
def admin_jobs_page(page: Page) -> Response:
    principal = page.require("admin", action="portal.admin.compute.jobs")
    who = service.Viewer(None, None, principal.actor, request_info(page.request), False)
    names = dict(page.session.execute(select(Organisation.id, Organisation.name)).all())
    return _jobs_page(page, "admin/compute_jobs.html", who, "admin", organisations=names)


HANDLERS = [jobs_page, cancel_job, job_result, admin_jobs_page]
