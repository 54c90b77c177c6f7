"""供需对接 pages: the public list of data requests, asking, supporting, answering."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy import select

from opendata.access.models import ROLES
from opendata.audit.context import request_info
from opendata.catalogue import service as catalogue
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset
from opendata.demand import service as demand
from opendata.demand.models import STATUSES, DataRequest
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage, url_with

REQUEST_FIELDS = ("title", "description", "domain", "publisher")
ANSWER_FIELDS = ("status", "answer", "dataset")


@get("/requests", name="portal-requests", sync_to_thread=True)
def requests_page(page: Page, db_session: DbSession) -> Response:
    status = page.request.query_params.get("status") or None
    status = status if status in STATUSES else None
    sort = page.request.query_params.get("sort", "support")
    sort = sort if sort in demand.SORTS else "support"
    listed = demand.list_requests(db_session, status=status, sort=sort)
    supported = set()
    if page.user is not None:
        supported = {r.request.id for r in listed if demand.has_supported(db_session, r.request.id, page.user.id)}
    base = [("sort", sort)] if sort != "support" else []
    return page.render(
        "demand/list.html", nav="requests", listed=listed, current=status, statuses=STATUSES, sort=sort,
        supported=supported,
        status_links=[(s, url_with("/requests", base, status=s)) for s in (None, *STATUSES)],
        sort_links=[(s, url_with("/requests", [("status", status)] if status else [], sort=s)) for s in demand.SORTS],
    )


def _form_page(page: PortalPage, values: dict[str, str], error: str | None = None, status: int = 200) -> Response:
    return page.render("demand/new.html", status=status, nav="requests", values=values, error=error,
                       domains=vocab.DOMAINS, publishers=catalogue.list_publishers(page.session))


@get("/requests/new", name="portal-request-new", sync_to_thread=True)
def new_request(page: Page) -> Response:
    page.require(*ROLES, action="portal.demand.new")
    return _form_page(page, dict.fromkeys(REQUEST_FIELDS, ""))


@post("/requests", name="portal-request-create", sync_to_thread=True)
def create_request(page: Page, db_session: DbSession, data: FormData) -> Response:
    principal = page.require(*ROLES, action="portal.demand.create")
    try:
        spec = demand.RequestInput(
            title=forms.text(data, "title", 255), description=forms.text(data, "description", 4000),
            domain=forms.text(data, "domain", 32) or None, publisher_id=forms.text(data, "publisher", 63) or None,
        )
        row = demand.create_request(db_session, principal, spec, request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _form_page(page, {name: forms.echo(data, name, 4000) for name in REQUEST_FIELDS},
                          page.t.error(error), 400)
    return page.redirect(f"/requests/{row.id}", notice="request_created")


def _detail(page: PortalPage, row: DataRequest, *, error: str | None = None, answer: dict[str, Any] | None = None,
            status: int = 200) -> Response:
    session = page.session
    user = page.user
    return page.render(
        "demand/detail.html", status=status, nav="requests", item=row, error=error,
        supporters=demand.supporters(session, row.id),
        supported=user is not None and demand.has_supported(session, row.id, user.id),
        answer=answer or {"status": row.status if row.status != "open" else "planned", "answer": row.answer or "",
                          "dataset": row.dataset_id or ""},
        answer_statuses=demand.ANSWER_STATUSES,
        datasets=list(session.execute(select(Dataset.id, Dataset.title_zh, Dataset.title_en).order_by(Dataset.id)))
        if user is not None and user.role == "admin" else [],
    )


@get("/requests/{request_id:int}", name="portal-request", sync_to_thread=True)
def request_page(page: Page, db_session: DbSession, request_id: FromPath[int]) -> Response:
    return _detail(page, demand.get_request(db_session, request_id))


@post("/requests/{request_id:int}/support", name="portal-request-support", sync_to_thread=True)
def support_request(page: Page, db_session: DbSession, request_id: FromPath[int]) -> Response:
    principal = page.require(*ROLES, action="portal.demand.support")
    row = demand.get_request(db_session, request_id)
    try:
        demand.support(db_session, principal, row, request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _detail(page, demand.get_request(db_session, request_id), error=page.t.error(error),
                       status=error.status)
    return page.redirect(f"/requests/{request_id}", notice="request_supported")


@post("/requests/{request_id:int}/answer", name="portal-request-answer", sync_to_thread=True)
def answer_request(page: Page, db_session: DbSession, request_id: FromPath[int], data: FormData) -> Response:
    principal = page.require("admin", action="portal.demand.answer")
    row = demand.get_request(db_session, request_id)
    try:
        demand.answer(db_session, principal, row, forms.text(data, "status", 16), forms.text(data, "answer", 4000),
                      forms.text(data, "dataset", 63) or None, request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _detail(page, demand.get_request(db_session, request_id), error=page.t.error(error),
                       answer={name: forms.echo(data, name, 4000) for name in ANSWER_FIELDS}, status=400)
    return page.redirect(f"/requests/{request_id}", notice="request_answered")


HANDLERS = [requests_page, new_request, create_request, request_page, support_request, answer_request]
