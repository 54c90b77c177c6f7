"""The administrators' review desk: the queue of applications, decisions, licences.

Every decision needs a reason here, approval included (the service asks a reason only
of return, reject and revoke; the portal asks it of all, so every decision the
applicant sees is explained). Approval may narrow fields, period and quotas.
"""

from __future__ import annotations

from typing import Any, Mapping

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy.orm import Session

from opendata.access import applications, licences
from opendata.access.applications import Approval
from opendata.access.models import Application
from opendata.audit.context import request_info
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.portal import admin_queue, forms
from opendata.portal.enterprise import licence_rows_of
from opendata.portal.forms import FormData, FormError
from opendata.portal.page import Page, PortalPage, url_with
from opendata.portal.paging import paged, requested_page

ADMINS = ("admin",)
DECISIONS = ("approve", "return", "reject")
QUEUE_STATES = ("submitted", "returned", "approved", "rejected", "draft", "closed", "revoked")
QUOTA_FIELDS = ("rows_per_day", "downloads_per_day", "compute_calls_per_day")


@get("/admin", name="portal-admin", sync_to_thread=True)
def review_queue(page: Page, db_session: DbSession) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.queue")
    state = page.request.query_params.get("state", "submitted")
    if state not in QUEUE_STATES and state != "all":
        state = "submitted"
    listed = paged(page, db_session, applications.visible_query(principal, None if state == "all" else state))
    return page.render("admin/queue.html", nav="admin", state=state, states=QUEUE_STATES, listed=listed,
                       applications=listed.items, counts=admin_queue.state_counts(db_session),
                       ages=admin_queue.waiting(db_session, listed.items), summary=admin_queue.queue_summary(db_session),
                       target_days=admin_queue.TARGET_WORKING_DAYS)


def _decision_defaults(application: Application) -> dict[str, Any]:
    quotas = licences.DEFAULT_QUOTAS
    return {
        # No decision is chosen for the reviewer: approving by accident must not be one click.
        "decision": "", "reason": "",
        "fields": {item.dataset_id: list(item.fields) for item in application.items},
        "start_date": application.start_date.isoformat(), "end_date": application.end_date.isoformat(),
        **{name: getattr(quotas, name) for name in QUOTA_FIELDS},
    }


def _decision_submitted(application: Application, data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "decision": forms.echo(data, "decision", 16), "reason": forms.echo(data, "reason", 4000),
        "fields": {item.dataset_id: forms.values(data, f"fields.{item.dataset_id}") for item in application.items},
        "start_date": forms.echo(data, "start_date", 32), "end_date": forms.echo(data, "end_date", 32),
        **{name: forms.echo(data, name, 32) for name in QUOTA_FIELDS},
    }


def _review_page(page: PortalPage, application: Application, decision: dict[str, Any], *,
                 error: str | None = None, status: int = 200) -> Response:
    return page.render("admin/review.html", status=status, nav="admin", application=application,
                       decision=decision, decisions=DECISIONS, quota_fields=QUOTA_FIELDS, error=error,
                       field_info=admin_queue.fields_by_dataset(page.session, [i.dataset_id for i in application.items]),
                       decidable=application.state == "submitted",
                       own=application.applicant_id == page.user.id)


@get("/admin/applications/{application_id:int}", name="portal-admin-application", sync_to_thread=True)
def review_page(page: Page, application_id: FromPath[int]) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.review")
    application = applications.get_visible(page.session, principal, application_id, action="application.read",
                                           request=request_info(page.request))
    return _review_page(page, application, _decision_defaults(application))


def _approval(application: Application, data: Mapping[str, Any], reason: str) -> Approval:
    quotas = {name: forms.whole_number(data, name) for name in QUOTA_FIELDS}
    defaults = licences.DEFAULT_QUOTAS
    return Approval(
        reason=reason,
        fields={item.dataset_id: forms.values(data, f"fields.{item.dataset_id}") for item in application.items},
        start_date=forms.date_value(data, "start_date"), end_date=forms.date_value(data, "end_date"),
        quotas=licences.Quotas(**{name: getattr(defaults, name) if value is None else value
                                  for name, value in quotas.items()}),
    )


@post("/admin/applications/{application_id:int}/decide", name="portal-admin-decide", sync_to_thread=True)
def decide(page: Page, db_session: DbSession, application_id: FromPath[int], data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.decide")
    info = request_info(page.request)
    application = applications.get_visible(db_session, principal, application_id, action="application.read",
                                           request=info)
    decision = forms.text(data, "decision", 16)
    try:
        if decision not in DECISIONS:
            raise FormError("missing_decision", "choose approve, return or reject")
        reason = forms.text(data, "reason", 4000)
        if not reason:
            raise FormError("missing_reason", "every decision needs a reason the applicant will see")
        if decision == "reject":
            forms.confirmed_reason(data, "reject this application")
        approval = _approval(application, data, reason) if decision == "approve" else None
        applications.decide(db_session, principal, application, decision, reason, info, approval)
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        application = applications.get_visible(db_session, principal, application_id,
                                               action="application.read", request=info)
        return _review_page(page, application, _decision_submitted(application, data),
                            error=page.t.error(error), status=error.status if error.status != 404 else 400)
    return page.redirect(f"/admin/applications/{application_id}", notice=f"decided_{decision}")


@get("/admin/licences", name="portal-admin-licences", sync_to_thread=True)
def licences_page(page: Page, db_session: DbSession) -> Response:
    page.require(*ADMINS, action="portal.admin.licences")
    return _licences_page(page, db_session)


def _licences_page(page: PortalPage, session: Session, *, error: str | None = None, failed_id: int | None = None,
                   status: int = 200) -> Response:
    listed = paged(page, session, licences.licences_query(None), path="/admin/licences")
    return page.render("admin/licences.html", status=status, nav="admin", listed=listed,
                       licences=licence_rows_of(session, listed.items), error=error, failed_id=failed_id)


@post("/admin/licences/{licence_id:int}/revoke", name="portal-admin-revoke", sync_to_thread=True)
def revoke_licence(page: Page, db_session: DbSession, licence_id: FromPath[int], data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.revoke")
    try:
        licence = licences.get_licence(db_session, licence_id)
        application = applications.load(db_session, licence.application_id)
        assert application is not None
        applications.revoke(db_session, principal, application, forms.confirmed_reason(data, "revoke this licence"),
                            request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return _licences_page(page, db_session, error=page.t.error(error), failed_id=licence_id,
                              status=error.status if error.status != 404 else 400)
    # Back to the page the licence was revoked from (the form's action carries its number).
    number = requested_page(page)
    return page.redirect(url_with("/admin/licences", [], page=number if number > 1 else None), notice="licence_revoked")


HANDLERS = [review_queue, review_page, decide, licences_page, revoke_licence]
