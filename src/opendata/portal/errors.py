"""Errors on portal pages are pages: a sign-in redirect, or an explanation in HTML.

The JSON API keeps its own handlers (opendata.errors) on its own router; these apply to
the portal router only, plus a 404 for paths that match no route at all (HTML unless
the path is under /api, where the API's JSON shape is kept).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Redirect

from opendata.errors import AppError, Busy, error_body, saturation
from opendata import input_guard
from opendata.portal.i18n import Translator, language_of
from opendata.portal.page import page_for, url_with
from opendata.portal.security import CSRF_COOKIE, SECURITY_HEADERS, CsrfRefused, hsts_headers
from opendata.access.cookies import SETTING as COOKIE_SETTING, cookies_lost_over_http
from opendata.audit.context import request_info
from opendata.audit.service import ANONYMOUS, append
from opendata.portal.visitors import SignInRequired, signed_in

logger = logging.getLogger("opendata.portal")

STATUS_KEYS = {400: "error.400", 401: "error.401", 403: "error.403", 404: "error.404", 405: "error.405",
               409: "error.409", 413: "error.413", 429: "error.429"}


def _error_page(request: Request, status: int, message: str | None, *, title_key: str | None = None) -> Response:
    try:
        with request.app.state["opendata"].database.session() as session:
            page = page_for(request, session)
            context = page.context(title=page.t(title_key or STATUS_KEYS.get(status, "error.500")),
                                   message=message, status_code=status)
            html = request.app.template_engine.get_template("error.html").render(**context)
    except Exception:  # the database itself may be what failed: still answer
        logger.exception("could not render the error page for %s %s", request.method, request.url.path)
        return Response(f"{status}", status_code=status, media_type="text/plain")
    # Unrouted paths never reach the security middleware (it wraps routes): add the headers here.
    return Response(html, status_code=status, media_type="text/html", cookies=page.cookies,
                    headers={"Cache-Control": "no-store", **SECURITY_HEADERS, **hsts_headers(request)})


def sign_in_redirect(request: Request, exc: SignInRequired) -> Response:
    return Redirect(url_with("/login", [], next=exc.next_url), status_code=303)


def _audit_csrf(request: Request, reason: str) -> None:
    """A refused form is an attack or a stale page: either way it goes in the audit trail,
    under the signed-in visitor when the session cookie is a live one."""
    try:
        with request.app.state["opendata"].database.session() as session:
            visitor = signed_in(request, session)
            append(session, actor=visitor.actor if visitor else ANONYMOUS, action="portal.csrf",
                   target=request.url.path[:255], outcome="refused", code="csrf_failed",
                   details={"status": 403, "reason": reason}, request=request_info(request))
            session.commit()
    except Exception:  # the refusal is still answered if the audit cannot be written
        logger.exception("could not audit a CSRF refusal on %s", request.url.path)


def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
    """A stale form says to reload it; a form whose cookie never came back says why (over
    plain http with Secure cookies forced, naming the setting), since reloading cannot help."""
    logger.warning("refused a portal form without a valid CSRF token: %s %s (%s)",
                   request.method, request.url.path, exc.reason)
    _audit_csrf(request, exc.reason)
    if request.cookies.get(CSRF_COOKIE):
        return _error_page(request, 403, None, title_key="error.csrf")
    t = Translator(language_of(request))
    plugin = request.app.state.get("opendata")
    if cookies_lost_over_http(request, plugin.settings if plugin is not None else None):
        return _error_page(request, 403, t("error.cookies_over_http", setting=COOKIE_SETTING),
                           title_key="error.cookies_title")
    return _error_page(request, 403, t("error.cookies_missing"), title_key="error.cookies_title")


def _plain_app_error(request: Request, exc: AppError) -> Response:
    return _error_page(request, exc.status, Translator(language_of(request)).error(exc))


def app_error(request: Request, exc: AppError) -> Response:
    return input_guard.audited(request, exc, _plain_app_error(request, exc))


def http_error(request: Request, exc: HTTPException) -> Response:
    return _error_page(request, exc.status_code, None)


def database_refused(request: Request, exc: Exception) -> Response:
    return input_guard.database_refused_input(request, exc, _plain_app_error)


def invalid_parameter(request: Request, exc: ValidationException) -> Response:
    return input_guard.invalid_parameter(request, exc, http_error)


def internal_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on portal page %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, None)


def unrouted_not_found(request: Request, exc: NotFoundException) -> Response:
    """App-level 404 (no route matched): JSON under /api, a page elsewhere."""
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return Response(error_body("not_found", exc.detail), status_code=404, headers=hsts_headers(request))
    return _error_page(request, 404, None)


def busy(request: Request, exc: Exception) -> Response:
    """Saturated (no database connection in time): a page that needs no database."""
    logger.warning("saturated: %s for %s %s", saturation(exc), request.method, request.url.path)
    html = ('<!doctype html><html lang="zh"><meta charset="utf-8"><title>503</title>'
            "<p>服务繁忙，请稍后重试。 The portal is busy; please retry shortly.</p></html>")
    return Response(html, status_code=503, media_type="text/html",
                    headers={"Retry-After": "1", "Cache-Control": "no-store", **SECURITY_HEADERS})


PORTAL_EXCEPTION_HANDLERS = {
    SignInRequired: sign_in_redirect,
    PoolTimeoutError: busy,
    Busy: busy,
    CsrfRefused: csrf_refused,
    AppError: app_error,
    ValidationException: invalid_parameter,
    HTTPException: http_error,
    **{kind: database_refused for kind in input_guard.REFUSED_BY_DATABASE},
    Exception: internal_error,
}
