"""The enterprise workspace: applications (create, edit, submit, close), licences with
their remaining quota, and the organisation's usage history from the audit log.

Everything goes through the access layer's services with the signed-in person as the
actor, so the pages obey exactly the rules (and leave exactly the audit trail) of the
API. A refused form shows why, keeps what was typed, and changes nothing.
"""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy.orm import Session

from opendata.access import applications, clients, licences
from opendata.access.models import Application, Licence
from opendata.access.principals import Principal
from opendata.audit.context import request_info
from opendata.compute.usage import VisibleRecord, organisation_records
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.portal import application_form as form_rules
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage
from opendata.subscriptions.service import followed

ENTERPRISE = ("enterprise",)
USAGE_ROWS = 100


def _visible(page: PortalPage, principal: Principal, application_id: int, action: str) -> Application:
    return applications.get_visible(page.session, principal, application_id, action=action,
                                    request=request_info(page.request))


def licence_rows(session: Session, organisation_id: int | None) -> list[dict[str, object]]:
    """Each licence with its status and today's remaining quota per kind."""
    return licence_rows_of(session, licences.list_licences(session, organisation_id))


def licence_rows_of(session: Session, listed: list[Licence]) -> list[dict[str, object]]:
    rows = []
    for licence in listed:
        used = licences.usage_today(session, licence.id)
        rows.append({
            "licence": licence,
            "status": licences.licence_status(licence),
            "quota": [(kind, licences.limit_for(licence, kind), used[kind],
                       max(0, licences.limit_for(licence, kind) - used[kind])) for kind in licences.USAGE_KINDS],
        })
    return rows


@get("/workspace", name="portal-workspace", sync_to_thread=True)
def workspace(page: Page, db_session: DbSession) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.workspace")
    organisation_id = principal.user.organisation_id
    return page.render(
        "workspace/overview.html",
        nav="workspace",
        organisation=principal.user.organisation,
        applications=applications.list_visible(db_session, principal),
        licences=licence_rows(db_session, organisation_id),
        api_clients=clients.list_clients(db_session, organisation_id) if organisation_id else [],
        followed=followed(db_session, principal.user),
    )


def _form_page(page: PortalPage, state: form_rules.FormState, *, application: Application | None = None,
               error: str | None = None, status: int = 200) -> Response:
    return page.render("workspace/application_form.html", status=status, nav="workspace", form=state,
                       application=application, error=error)


@get("/workspace/applications/new", name="portal-application-new", sync_to_thread=True)
def new_application(page: Page, db_session: DbSession) -> Response:
    page.require(*ENTERPRISE, action="portal.application.new")
    chosen = page.request.query_params.getall("dataset", [])
    state = form_rules.blank_form(db_session, chosen, page.request.query_params.get("operation"))
    if not state.items or page.request.query_params.get("pick"):
        return page.render("workspace/pick_datasets.html", nav="workspace", application=None,
                           choices=form_rules.licensable_datasets(db_session), chosen=chosen,
                           unknown=state.unknown)
    return _form_page(page, state)


def _save(page: PortalPage, principal: Principal, data: FormData, application: Application | None) -> Application:
    """Create or edit, and submit too when that button was pressed: one transaction."""
    info = request_info(page.request)
    spec = form_rules.application_input(data)
    if application is None:
        application = applications.create(page.session, principal, spec, info)
    else:
        applications.edit(page.session, principal, application, spec, info)
    if forms.text(data, "action", 16) == "submit":
        page.session.flush()
        applications.submit(page.session, principal, application, info)
    page.session.commit()
    return application


@post("/workspace/applications", name="portal-application-create", sync_to_thread=True)
def create_application(page: Page, db_session: DbSession, data: FormData) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.application.create")
    try:
        application = _save(page, principal, data, None)
    except AppError as error:
        db_session.rollback()
        return _form_page(page, form_rules.submitted_form(db_session, data), error=page.t.error(error), status=400)
    notice = "submitted" if application.state == "submitted" else "saved"
    return page.redirect(f"/workspace/applications/{application.id}", notice=notice)


@get("/workspace/applications/{application_id:int}", name="portal-application", sync_to_thread=True)
def application_page(page: Page, application_id: FromPath[int]) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.application.read")
    application = _visible(page, principal, application_id, "application.read")
    return page.render("workspace/application.html", nav="workspace", application=application,
                       editable=application.state in ("draft", "returned"),
                       closable=application.state in ("draft", "returned", "approved"))


@get("/workspace/applications/{application_id:int}/edit", name="portal-application-edit", sync_to_thread=True)
def edit_application(page: Page, db_session: DbSession, application_id: FromPath[int]) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.application.edit")
    application = _visible(page, principal, application_id, "application.edit")
    if page.request.query_params.get("pick"):
        return page.render("workspace/pick_datasets.html", nav="workspace", application=application,
                           choices=form_rules.licensable_datasets(db_session),
                           chosen=[i.dataset_id for i in application.items], unknown=[])
    chosen = page.request.query_params.getall("dataset", [])
    return _form_page(page, form_rules.form_of(db_session, application, chosen), application=application)


@post("/workspace/applications/{application_id:int}", name="portal-application-save", sync_to_thread=True)
def save_application(page: Page, db_session: DbSession, application_id: FromPath[int],
                     data: FormData) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.application.edit")
    application = _visible(page, principal, application_id, "application.edit")
    try:
        _save(page, principal, data, application)
    except AppError as error:
        db_session.rollback()
        application = _visible(page, principal, application_id, "application.edit")
        return _form_page(page, form_rules.submitted_form(db_session, data), application=application,
                          error=page.t.error(error), status=400)
    notice = "submitted" if forms.text(data, "action", 16) == "submit" else "saved"
    return page.redirect(f"/workspace/applications/{application_id}", notice=notice)


def _command(page: PortalPage, application_id: int, command: str, reason: str | None = None) -> Response:
    principal = page.require(*ENTERPRISE, action=f"portal.application.{command}")
    application = _visible(page, principal, application_id, f"application.{command}")
    info = request_info(page.request)
    try:
        if command == "submit":
            applications.submit(page.session, principal, application, info)
        else:
            applications.close(page.session, principal, application, reason, info)
        page.session.commit()
    except AppError as error:
        page.session.rollback()
        application = _visible(page, principal, application_id, "application.read")
        return page.render("workspace/application.html", status=error.status, nav="workspace",
                           application=application, error=page.t.error(error),
                           editable=application.state in ("draft", "returned"),
                           closable=application.state in ("draft", "returned", "approved"))
    notice = {"submit": "submitted", "close": "closed"}[command]
    return page.redirect(f"/workspace/applications/{application_id}", notice=notice)


@post("/workspace/applications/{application_id:int}/submit", name="portal-application-submit", sync_to_thread=True)
def submit_application(page: Page, application_id: FromPath[int]) -> Response:
    return _command(page, application_id, "submit")


@post("/workspace/applications/{application_id:int}/close", name="portal-application-close", sync_to_thread=True)
def close_application(page: Page, application_id: FromPath[int], data: FormData) -> Response:
    return _command(page, application_id, "close", forms.text(data, "reason", 4000) or None)


def usage_history(session: Session, organisation_id: int, limit: int = USAGE_ROWS) -> list[VisibleRecord]:
    """The newest audit records of the organisation's people and API clients, with only
    the detail fields an enterprise may see (compute/usage.py: never found, never durations)."""
    return organisation_records(session, organisation_id, limit=limit)


@get("/workspace/usage", name="portal-usage", sync_to_thread=True)
def usage_page(page: Page, db_session: DbSession) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.usage")
    organisation_id = principal.user.organisation_id
    records = usage_history(db_session, organisation_id) if organisation_id else []
    return page.render("workspace/usage.html", nav="workspace", records=records, limit=USAGE_ROWS)


HANDLERS = [workspace, new_application, create_application, application_page, edit_application,
            save_application, submit_application, close_application, usage_page]
