"""Whether the cookies of a response carry ``Secure``.

Browsers refuse to store a ``Secure`` cookie sent over plain http (localhost aside), so a
portal at http://10.0.0.5:8000 with secure cookies forced on can never sign anyone in:
the session and form cookies are dropped and every form is refused. The default,
``secure_cookies`` unset ("auto"), marks cookies Secure exactly when the browser reached
the portal over https: the request's own scheme, a proxy that terminated TLS and says so
(``X-Forwarded-Proto: https`` or ``Forwarded: proto=https``), or a configured public
address (``base_url``) that is https. ``OPENDATA_SECURE_COOKIES=true`` or ``false`` forces it.

Trusting the proxy headers here is safe: they can only add ``Secure``, and a client that
sends them over http only loses its own cookies.
"""

from __future__ import annotations

from litestar import Request

from opendata.settings import Settings

SETTING = "OPENDATA_SECURE_COOKIES"


def reached_over_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    forwarded_proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if forwarded_proto == "https":
        return True
    forwarded = request.headers.get("forwarded", "").split(",")[0]
    return any(part.strip().lower() == "proto=https" for part in forwarded.split(";"))


def secure_cookies(request: Request, settings: Settings | None) -> bool:
    """``Secure`` for this response's cookies (settings None: outside a portal, always)."""
    if settings is None:
        return True
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return settings.base_url.startswith("https://") or reached_over_https(request)


def cookies_lost_over_http(request: Request, settings: Settings | None) -> bool:
    """True when this request came over plain http to a portal that forces Secure cookies:
    the browser dropped them, so nothing that needs a cookie can work."""
    return settings is not None and secure_cookies(request, settings) and not reached_over_https(request)


def startup_warning(settings: Settings) -> str | None:
    """What to tell the operator at start-up about these settings, if anything."""
    plain = settings.base_url.startswith("http://")
    if settings.secure_cookies is True and plain:
        return (f"{SETTING}=true but the portal's address is {settings.base_url}: browsers drop Secure cookies "
                "sent over plain http, so nobody can sign in there. Serve it over https (and set "
                f"OPENDATA_BASE_URL=https://...), or unset {SETTING} (auto: Secure only over https).")
    return None
