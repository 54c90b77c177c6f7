"""Signing in and out, and registering (developers and enterprises register themselves).

Sign-in opens the access layer's server-side session and sets its cookie (HttpOnly,
SameSite=Lax, Secure over https unless Settings.secure_cookies forces it, see
opendata.access.cookies), and gives the browser a
fresh form token, so a token planted before sign-in is worthless after it.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.datastructures import Cookie

from opendata.access import accounts
from opendata.access.accounts import AccountInput, OrganisationInput
from opendata.access.cookies import secure_cookies
from opendata.access.principals import CSRF_COOKIE as API_CSRF_COOKIE
from opendata.access.principals import SESSION_COOKIE
from opendata.access.throttle import ThrottlePolicy
from opendata.audit.context import request_info
from opendata.deps import AppSettings, DbSession
from opendata.errors import AppError
from opendata.portal import forms, security
from opendata.portal.forms import FormData, FormError
from opendata.portal.page import Page, PortalPage
from opendata.portal.visitors import safe_next

ROLE_HOMES = {"enterprise": "/workspace", "admin": "/admin", "publisher": "/publisher", "developer": "/account"}
REGISTER_FIELDS = ("role", "username", "email", "display_name", "organisation_name", "credit_code",
                   "contact_name", "contact_phone", "contact_email")


def role_home(role: str) -> str:
    return ROLE_HOMES.get(role, "/")


@get("/login", name="portal-login", sync_to_thread=True)
def login_form(page: Page) -> Response:
    if page.user is not None:
        return page.redirect(safe_next(page.request.query_params.get("next"), role_home(page.user.role)))
    return page.render("login.html", nav="login", next=safe_next(page.request.query_params.get("next"), ""),
                       identifier="", error=None)


def _signed_in_response(page: PortalPage, settings: AppSettings, token: str, target: str,
                        notice: str | None = None) -> Response:
    lifetime = settings.session_lifetime_seconds
    secure = secure_cookies(page.request, settings)
    page.cookies = [c for c in page.cookies if c.key != security.CSRF_COOKIE]
    page.cookies += [
        Cookie(key=SESSION_COOKIE, value=token, path="/", max_age=lifetime, httponly=True,
               secure=secure, samesite="lax"),
        security.csrf_cookie(security.new_csrf_token(), secure=secure),
    ]
    return page.redirect(target, notice=notice)


@post("/login", name="portal-login-submit", sync_to_thread=True)
def login(page: Page, db_session: DbSession, settings: AppSettings, data: FormData) -> Response:
    identifier = forms.text(data, "username", 255)
    next_url = safe_next(forms.text(data, "next", 2000), "")
    try:
        if not identifier or not forms.text(data, "password", 300):
            raise FormError("missing_credentials", "enter your user name (or e-mail) and password")
        row, token = accounts.login(db_session, identifier, forms.text(data, "password", 300),
                                    request_info(page.request), settings.session_lifetime_seconds,
                                    ThrottlePolicy.from_settings(settings))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return page.render("login.html", status=error.status if error.status != 401 else 400, nav="login",
                           next=next_url, identifier=identifier, error=page.t.error(error))
    return _signed_in_response(page, settings, token, next_url or role_home(row.user.role))


@post("/logout", name="portal-logout", sync_to_thread=True)
def logout(page: Page, db_session: DbSession) -> Response:
    if page.principal is not None:
        accounts.logout(db_session, page.principal, request_info(page.request))
        db_session.commit()
    response = page.redirect("/", notice="signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(API_CSRF_COOKIE, path="/")
    return response


@get("/register", name="portal-register", sync_to_thread=True)
def register_form(page: Page) -> Response:
    role = page.request.query_params.get("role", "developer")
    values = dict.fromkeys(REGISTER_FIELDS, "")
    values["role"] = role if role in accounts.SELF_REGISTERED_ROLES else "developer"
    return page.render("register.html", nav="login", values=values, error=None)


def _account_input(data: dict[str, Any]) -> AccountInput:
    role = forms.text(data, "role", 16)
    password = forms.text(data, "password", 300)
    if password != forms.text(data, "password_again", 300):
        raise FormError("password_mismatch", "the two passwords differ")
    organisation = None
    if role == "enterprise":
        organisation = OrganisationInput(
            name=forms.text(data, "organisation_name", 255), credit_code=forms.text(data, "credit_code", 64),
            contact_name=forms.text(data, "contact_name", 63), contact_phone=forms.text(data, "contact_phone", 32),
            contact_email=forms.text(data, "contact_email", 255) or None,
        )
    return AccountInput(username=forms.text(data, "username", 63), email=forms.text(data, "email", 255),
                        password=password, role=role, display_name=forms.text(data, "display_name", 255) or None,
                        organisation=organisation)


@post("/register", name="portal-register-submit", sync_to_thread=True)
def register(page: Page, db_session: DbSession, data: FormData) -> Response:
    """New or taken identifiers get the same answer (a redirect to sign in with a neutral
    notice): registering does not sign in, since that would tell the two apart."""
    try:
        spec = _account_input(data)
        accounts.register(db_session, spec, request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        values = {name: forms.echo(data, name) for name in REGISTER_FIELDS}
        if values["role"] not in accounts.SELF_REGISTERED_ROLES:
            values["role"] = "developer"
        return page.render("register.html", status=400, nav="login", values=values, error=page.t.error(error))
    return page.redirect("/login", notice="registration_received")


HANDLERS = [login_form, login, logout, register_form, register]
