"""The reuse showcase (应用成果展示) on the portal: the public list and pages, the
submission form, one's own submissions, the administrators' queue and decisions, and the
dataset page's list of the showcases that use the dataset.

Every form goes through the portal's CSRF check (the router's before_request) and the
same service functions as the API, so the rules and the audit are the API's.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy import select

from opendata.access.models import ROLES
from opendata.audit.context import request_info
from opendata.catalogue.models import Dataset
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.portal import forms
from opendata.portal.admin_queue import working_days_between
from opendata.portal.feedback_pages import last_page_of, page_number
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage, url_with
from opendata.portal.visitors import SignInRequired
from opendata import localtime
from opendata.showcase import service
from opendata.showcase.models import KINDS, STATES, Showcase

PAGE_SIZE = 12
ON_DATASET_PAGE = 6
FIELDS = ("title", "kind", "url", "image_url", "description")


def dataset_showcases(page: PortalPage, dataset: Dataset) -> dict[str, Any]:
    """The dataset page's 应用成果 section (templates/showcase/section.html)."""
    found = service.list_showcases(page.session, dataset_id=dataset.id, page_size=ON_DATASET_PAGE)
    return {"entries": found.items, "total": found.total,
            "more_url": url_with("/showcase", [], dataset=dataset.id),
            "new_url": url_with("/showcase/new", [], dataset=dataset.id)}


def _choice(page: PortalPage, name: str, allowed: tuple[str, ...]) -> str | None:
    value = page.request.query_params.get(name, "")
    return value if value in allowed else None


@get("/showcase", name="portal-showcases", sync_to_thread=True)
def showcases(page: Page, db_session: DbSession) -> Response:
    kind = _choice(page, "kind", KINDS)
    wanted = page.request.query_params.get("dataset", "").strip()[:63]
    dataset = db_session.get(Dataset, wanted) if wanted else None
    found = service.list_showcases(db_session, kind=kind, dataset_id=dataset.id if dataset else None,
                                   page=page_number(page), page_size=PAGE_SIZE)
    return page.render(
        "showcase/list.html", nav="showcase", items=found.items, total=found.total, page=found.page,
        last_page=last_page_of(found.total, PAGE_SIZE), kinds=KINDS, kind=kind, dataset=dataset,
        page_url=lambda n: url_with("/showcase", page.params(), page=n),
        kind_url=lambda k: url_with("/showcase", page.params(), kind=k, page=None),
    )


@get("/showcase/{showcase_id:int}", name="portal-showcase", sync_to_thread=True)
def showcase(page: Page, db_session: DbSession, showcase_id: FromPath[int]) -> Response:
    row = service.get_showcase(db_session, showcase_id, page.principal)  # 404 page unless visible
    private = page.user is not None and (page.user.role == "admin" or page.user.id == row.submitter_id)
    return page.render("showcase/detail.html", nav="showcase", item=row, private=private)


def _dataset_choices(page: PortalPage) -> list[tuple[str, str]]:
    rows = page.session.execute(select(Dataset.id, Dataset.title_zh, Dataset.title_en).order_by(Dataset.id))
    return [(r.id, page.t.pick(r.title_zh, r.title_en)) for r in rows]


def _form(page: PortalPage, values: dict[str, Any], *, error: str | None = None, status: int = 200) -> Response:
    return page.render("showcase/new.html", status=status, nav="showcase", values=values, error=error,
                       kinds=KINDS, choices=_dataset_choices(page), title_max=service.TITLE_MAX,
                       description_max=service.DESCRIPTION_MAX, url_max=service.URL_MAX,
                       datasets_max=service.DATASETS_MAX)


def _error_text(page: PortalPage, error: AppError) -> str:
    """The error as the page says it; a Chinese "missing/too long" names its field."""
    text = page.t.error(error)
    field = error.details.get("field") if isinstance(error.details, dict) else None
    if page.lang == "zh" and field and error.code in ("missing_field", "invalid_field"):
        return f"{page.t('showcase.field.' + field, n=service.DATASETS_MAX)}：{text}"
    return text


def _signed_in(page: PortalPage, action: str) -> Any:
    if page.principal is None:
        raise SignInRequired("/showcase/new")
    return page.require(*ROLES, action=action)


@get("/showcase/new", name="portal-showcase-new", sync_to_thread=True)
def new_showcase(page: Page) -> Response:
    _signed_in(page, "portal.showcase.submit")
    preselected = page.request.query_params.get("dataset", "").strip()[:63]
    return _form(page, {**dict.fromkeys(FIELDS, ""), "kind": "app", "datasets": [preselected] if preselected else []})


@post("/showcase", name="portal-showcase-submit", sync_to_thread=True)
def submit(page: Page, db_session: DbSession, data: FormData) -> Response:
    principal = _signed_in(page, "portal.showcase.submit")
    values: dict[str, Any] = {name: forms.echo(data, name, service.DESCRIPTION_MAX) for name in FIELDS}
    values["datasets"] = forms.values(data, "datasets")[:service.DATASETS_MAX + 1]
    try:
        spec = service.ShowcaseInput(
            title=forms.text(data, "title", service.TITLE_MAX), kind=forms.text(data, "kind", 16) or "app",
            url=forms.text(data, "url", service.URL_MAX), image_url=forms.text(data, "image_url", service.URL_MAX),
            description=forms.text(data, "description", service.DESCRIPTION_MAX), datasets=values["datasets"])
        row = service.submit(db_session, principal, spec, request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _form(page, values, error=_error_text(page, error), status=error.status)
    return page.redirect(f"/showcase/{row.id}", notice="showcase_submitted")


@get("/showcase/mine", name="portal-showcase-mine", sync_to_thread=True)
def mine(page: Page, db_session: DbSession) -> Response:
    if page.principal is None:
        raise SignInRequired("/showcase/mine")
    principal = page.require(*ROLES, action="portal.showcase.mine")
    found = service.list_showcases(db_session, state=None, submitter_id=principal.user.id,
                                   page=page_number(page), page_size=PAGE_SIZE)
    return page.render("showcase/mine.html", nav="showcase", items=found.items, total=found.total,
                       page=found.page, last_page=last_page_of(found.total, PAGE_SIZE),
                       page_url=lambda n: url_with("/showcase/mine", page.params(), page=n))


def _waiting(session: Any, items: list[Showcase]) -> dict[int, tuple[int, int]]:
    """Days and working days each submitted showcase has waited, in the portal's time zone."""
    tz = localtime.zone_of(session)
    today = localtime.local_day(tz)
    result = {}
    for item in items:
        if item.state == "submitted":
            since = localtime.local_day(tz, item.created_at)
            result[item.id] = ((today - since).days, working_days_between(since, today))
    return result


def _queue(page: PortalPage, state: str, *, error: str | None = None, failed: int | None = None,
           reason: str = "", status: int = 200) -> Response:
    found = service.list_showcases(page.session, state=state, page=page_number(page), page_size=PAGE_SIZE)
    return page.render(
        "showcase/admin.html", status=status, nav="admin", items=found.items, total=found.total,
        page=found.page, last_page=last_page_of(found.total, PAGE_SIZE), state=state, states=STATES,
        counts=service.state_counts(page.session), waiting=_waiting(page.session, found.items),
        error=error, failed=failed, reason=reason, reason_max=service.REASON_MAX,
        state_url=lambda s: url_with("/admin/showcases", [], state=s),
        page_url=lambda n: url_with("/admin/showcases", page.params(), page=n),
    )


@get("/admin/showcases", name="portal-admin-showcases", sync_to_thread=True)
def queue(page: Page) -> Response:
    page.require("admin", action="portal.showcase.moderate")
    return _queue(page, _choice(page, "state", STATES) or "submitted")


@post("/admin/showcases/{showcase_id:int}/decide", name="portal-showcase-decide", sync_to_thread=True)
def decide(page: Page, db_session: DbSession, showcase_id: FromPath[int], data: FormData) -> Response:
    principal = page.require("admin", action="portal.showcase.decide")
    row = service.get_showcase(db_session, showcase_id, principal)
    state = row.state
    decision = forms.text(data, "decision", 16)
    try:
        if decision == "reject":  # a rejection (or a take-down) also needs its box ticked
            reason = forms.confirmed_reason(data, "reject this showcase")
        else:
            reason = forms.required_reason(data, "decide on this showcase")
        service.decide(db_session, principal, row, decision or None, reason, request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _queue(page, state, error=page.t.error(error), failed=showcase_id,
                      reason=forms.echo(data, "reason", service.REASON_MAX), status=error.status)
    return page.redirect(url_with("/admin/showcases", [], state=state),
                         notice="showcase_approved" if decision == "approve" else "showcase_rejected")


HANDLERS = [showcases, showcase, new_showcase, submit, mine, queue, decide]
