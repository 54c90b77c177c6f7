"""What keeps the portal's pages safe: CSRF tokens on every form, and security headers.

CSRF: the portal's own double-submit token, scoped to the portal router (the JSON API
keeps its own rule: cookie-authenticated writes repeat the session's token in
X-CSRF-Token; bearer callers need none). Every page that shows a form makes sure the
browser holds a random token in an HttpOnly, SameSite=Strict cookie and puts the same
token in a hidden field; every state-changing request to the portal must bring both, and
they must match. A cross-site page can neither read the cookie nor make the browser send
it (SameSite=Strict), so it cannot forge the pair. As a second line, a request whose
Origin header names another site is refused too.

For a signed-in visitor the token is bound to the session: the form field carries
HMAC-SHA256(session token, cookie token), not the cookie token itself. Whoever manages to
plant a token cookie in the browser (a sibling subdomain can set cookies) still cannot
compute the field without the HttpOnly session token, and a (cookie, field) pair taken
from one session is worthless in another. Every refusal is audited (portal.csrf).

Headers: every HTML response of the app carries a Content-Security-Policy that allows
nothing but this origin (no inline script, no external source of any kind), and the usual
companions (nosniff, no framing, no referrer across sites).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "opendata_form_csrf"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


class CsrfRefused(Exception):
    """A state-changing portal request without a matching CSRF token (answered 403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_cookie(token: str, *, secure: bool) -> Cookie:
    return Cookie(key=CSRF_COOKIE, value=token, path="/", httponly=True, secure=secure, samesite="strict")


def bound_token(cookie_token: str, session_token: str | None) -> str:
    """What a form must send: the cookie's token, bound to the session when there is one."""
    if not session_token:
        return cookie_token
    return hmac.new(session_token.encode(), b"opendata-portal-csrf:" + cookie_token.encode(),
                    hashlib.sha256).hexdigest()


def _session_token(request: Request) -> str | None:
    from opendata.access.principals import SESSION_COOKIE  # access imports no portal code

    return request.cookies.get(SESSION_COOKIE) or None


def form_token(request: Request) -> tuple[str, Cookie | None]:
    """The token for this page's forms, and the cookie to set when the browser has none yet."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if len(existing) >= 32:
        return bound_token(existing, _session_token(request)), None
    token = new_csrf_token()
    return bound_token(token, _session_token(request)), csrf_cookie(token, secure=_secure_cookies(request))


def _secure_cookies(request: Request) -> bool:
    from opendata.access.cookies import secure_cookies  # access imports no portal code

    plugin = request.app.state.get("opendata")
    return secure_cookies(request, plugin.settings if plugin is not None else None)


def _same_origin(request: Request) -> bool:
    """False when the Origin header names another site. The host may be the one the
    request reached or the configured public address (behind a proxy that rewrites Host,
    or terminates TLS, the two differ)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # no Origin header (older browsers): the token alone decides
    sent = urlsplit(origin).netloc
    plugin = request.app.state.get("opendata")
    allowed = {urlsplit(str(request.base_url)).netloc}
    if plugin is not None:
        allowed.add(urlsplit(plugin.settings.base_url).netloc)
    return bool(sent) and sent in allowed


async def require_csrf_token(request: Request) -> None:
    """before_request hook of the portal router: refuse a write without a matching token."""
    if request.method in SAFE_METHODS:
        return None
    if not _same_origin(request):
        raise CsrfRefused("cross-origin form submission")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(sent, str) or not sent or not cookie:
        raise CsrfRefused("missing CSRF token")
    if not hmac.compare_digest(sent.encode(), bound_token(cookie, _session_token(request)).encode()):
        raise CsrfRefused("CSRF token does not match (or belongs to another session)")
    return None


def hsts_header(max_age_seconds: int, include_subdomains: bool) -> str | None:
    """The Strict-Transport-Security value for these settings; None when it is off (0).
    Off by default: the default address is plain http://127.0.0.1, where browsers ignore
    it anyway, and turning it on for a host that later loses TLS locks its users out."""
    if max_age_seconds <= 0:
        return None
    return f"max-age={max_age_seconds}" + ("; includeSubDomains" if include_subdomains else "")


def hsts_headers(request: Request) -> dict[str, str]:
    """The HSTS header for responses made outside the middleware (unrouted paths)."""
    plugin = request.app.state.get("opendata")
    value = hsts_header(plugin.settings.hsts_max_age_seconds, plugin.settings.hsts_include_subdomains) \
        if plugin is not None else None
    return {"strict-transport-security": value} if value else {}


class SecurityHeadersMiddleware:
    """Adds the CSP and its companions to every HTML (and SVG) response of the app, and
    Strict-Transport-Security (when configured) to every response."""

    def __init__(self, app: ASGIApp, hsts: str | None = None) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                content_type = (headers.get("content-type") or "").lower()
                if content_type.startswith(("text/html", "image/svg+xml")) or not content_type:
                    for name, value in SECURITY_HEADERS.items():
                        headers[name] = value
                if self.hsts:
                    headers["strict-transport-security"] = self.hsts
            await send(message)

        await self.app(scope, receive, send_with_headers)
