"""Oversight for administrators: the audit log (search, CSV/XLSX export), users, clients.

The export links point at the API's own export endpoint (GET /api/v1/audit/export), which
accepts the portal's session cookie: the export is streamed, filtered and audited there.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.formats.limits import INT32_MAX
from opendata.access import accounts, clients, throttle
from opendata.access.models import ROLES, ApiClient, Organisation
from opendata.audit.context import request_info
from opendata.audit.search import AuditQuery, search
from opendata.audit.service import OUTCOMES
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.numbers import ascii_digits
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage, url_with
from opendata.portal.paging import PAGE_DIGITS, paged
from opendata import localtime

ADMINS = ("admin",)
AUDIT_PAGE_SIZE = 50
AUDIT_FILTERS = ("actor", "action", "target", "outcome", "since", "until")


def _day_start(text: str, name: str, tz: ZoneInfo, *, after: bool = False) -> datetime | None:
    """A YYYY-MM-DD of the form as an instant: the start of that day in the portal's time
    zone (``after``: the start of the next day, so that 'until' includes the day itself)."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise AppError(400, "invalid_time", f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None
    return localtime.start_of_day(day + timedelta(days=1 if after else 0), tz)


def audit_query(params: dict[str, str], tz: ZoneInfo, before: int | None = None) -> AuditQuery:
    return AuditQuery(
        actor=params["actor"] or None, action=params["action"] or None, target=params["target"] or None,
        outcome=params["outcome"] or None, since=_day_start(params["since"], "since", tz),
        until=_day_start(params["until"], "until", tz, after=True), before=before, page_size=AUDIT_PAGE_SIZE,
    ).check()


def export_url(query: AuditQuery, fmt: str) -> str:
    pairs = [("format", fmt)]
    for name in ("actor", "action", "target", "outcome"):
        if getattr(query, name):
            pairs.append((name, getattr(query, name)))
    for name in ("since", "until"):
        if getattr(query, name):
            pairs.append((name, getattr(query, name).isoformat()))
    return f"/api/v1/audit/export?{urlencode(pairs)}"


@get("/admin/audit", name="portal-admin-audit", sync_to_thread=True)
def audit_page(page: Page, db_session: DbSession) -> Response:
    page.require(*ADMINS, action="portal.admin.audit")
    params = {name: page.request.query_params.get(name, "").strip()[:255] for name in AUDIT_FILTERS}
    before_raw = page.request.query_params.get("before", "")
    error, records, next_before, exports = None, [], None, {}
    try:
        before = int(before_raw) if before_raw else None
        if before is not None and not 1 <= before <= INT32_MAX:
            raise ValueError(before_raw)  # no record has such an id
        query = audit_query(params, localtime.zone_of(db_session), before)
        records, next_before = search(db_session, query)
        exports = {fmt: export_url(query, fmt) for fmt in ("csv", "xlsx")}
    except ValueError:
        error = page.t("audit.bad_cursor")
    except AppError as exc:
        error = page.t.error(exc)
    kept = [(k, v) for k, v in params.items() if v]
    return page.render(
        "admin/audit.html", status=400 if error else 200, nav="admin", params=params, outcomes=OUTCOMES,
        records=records, error=error, exports=exports,
        next_url=url_with("/admin/audit", kept, before=next_before) if next_before else None,
        first_url=url_with("/admin/audit", kept) if before_raw else None,
    )


USERS_PAGE_KEPT = ("role", "page", "clients_page")  # what the users page's forms carry back


def _users_page(page: PortalPage, session: Session, *, error: str | None = None, failed: str | None = None,
                status: int = 200) -> Response:
    role = page.request.query_params.get("role") or None
    role = role if role in ROLES else None
    users = paged(page, session, accounts.users_query(role), path="/admin/users")
    api_clients = paged(page, session, select(ApiClient).order_by(ApiClient.created_at.desc(), ApiClient.client_id),
                        name="clients_page", path="/admin/users")
    shown = {u.organisation_id for u in users.items} | {c.organisation_id for c in api_clients.items}
    kept = url_with("", _kept(page, role))
    return page.render("admin/users.html", status=status, nav="admin", role=role, roles=ROLES,
                       users=users.items, users_paged=users, api_clients=api_clients.items, clients_paged=api_clients,
                       error=error, failed=failed, organisations=_organisation_names(session, shown),
                       locks=throttle.list_throttled(session), kept=kept)


def _kept(page: PortalPage, role: str | None = None) -> list[tuple[str, str]]:
    """The role filter and page numbers, so that an action returns to the list it came from."""
    params = page.request.query_params
    values = {"role": role if role is not None else params.get("role") if params.get("role") in ROLES else None,
              "page": params.get("page"), "clients_page": params.get("clients_page")}
    return [(name, value) for name, value in values.items()
            if value and (name == "role" or (ascii_digits(value, PAGE_DIGITS) or 0) > 1)]


@get("/admin/users", name="portal-admin-users", sync_to_thread=True)
def users_page(page: Page, db_session: DbSession) -> Response:
    page.require(*ADMINS, action="portal.admin.users")
    return _users_page(page, db_session)


def _account_action(page: PortalPage, session: Session, failed: str, action: Callable[[], None],
                    notice: str) -> Response:
    """Run an administrator's account action; a refusal shows the users page with why."""
    try:
        action()
        session.commit()
    except AppError as error:
        session.rollback()
        return _users_page(page, session, error=page.t.error(error), failed=failed,
                           status=error.status if error.status != 404 else 400)
    return page.redirect(url_with("/admin/users", _kept(page)), notice=notice)


def _organisation_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))).all())


@post("/admin/users/{username:str}/disable", name="portal-admin-disable-user", sync_to_thread=True)
def disable_user(page: Page, db_session: DbSession, username: FromPath[str], data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.disable_user")

    def disable() -> None:
        if username.strip().lower() == principal.user.username:
            raise AppError(409, "own_account", "you cannot disable your own account")
        reason = forms.confirmed_reason(data, "disable this account")
        accounts.disable_user(db_session, username, principal.actor, request_info(page.request), reason)

    return _account_action(page, db_session, f"user:{username}", disable, "user_disabled")


@post("/admin/users/{username:str}/enable", name="portal-admin-enable-user", sync_to_thread=True)
def enable_user(page: Page, db_session: DbSession, username: FromPath[str], data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.enable_user")

    def enable() -> None:
        reason = forms.required_reason(data, "re-enable this account")
        accounts.enable_user(db_session, username, principal.actor, request_info(page.request), reason)

    return _account_action(page, db_session, f"user:{username}", enable, "user_enabled")


@post("/admin/clients/{client_id:str}/revoke", name="portal-admin-revoke-client", sync_to_thread=True)
def revoke_client(page: Page, db_session: DbSession, client_id: FromPath[str], data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.revoke_client")

    def revoke() -> None:
        client = clients.get_client(db_session, client_id)
        reason = forms.confirmed_reason(data, "revoke this API client")
        clients.revoke_client(db_session, client, actor=principal.actor, request=request_info(page.request),
                              reason=reason)

    return _account_action(page, db_session, f"client:{client_id}", revoke, "client_revoked")


@post("/admin/sign-in-locks/unlock", name="portal-admin-unlock", sync_to_thread=True)
def unlock_sign_in(page: Page, db_session: DbSession, data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.unlock")
    accounts.unlock_sign_in(db_session, forms.text(data, "subject", 300), principal.actor, request_info(page.request))
    db_session.commit()
    return page.redirect(url_with("/admin/users", _kept(page)), notice="sign_in_unlocked")


HANDLERS = [audit_page, users_page, disable_user, enable_user, revoke_client, unlock_sign_in]
