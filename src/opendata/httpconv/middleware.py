"""The ASGI layer in front of Litestar's router: HEAD, CORS and compression.

It wraps ``app.asgi_handler`` (see ``install``), i.e. it runs before routing, because a
HEAD request must be routed as the GET it mirrors (Litestar answers HEAD with 405 on a
GET route) and a CORS preflight must be answered for the GET route it asks about.

HEAD: the request is routed and handled as a GET with ``scope["opendata.head"]`` set (a
handler may use ``is_head`` to skip work whose only product is the body, e.g. a download's
stream, or to avoid charging a licence); every body byte is dropped, the status and
headers (Content-Length included) are the GET's.

CORS: only for GET/HEAD routes that declare ``opt={"cors": "open"}`` (public, anonymous
documents: catalogue metadata, DCAT, Data Packages) or ``"open-data"`` when the handler
also called ``allow_cors`` for this response (rows and downloads of unconditionally open
data). Those responses get ``Access-Control-Allow-Origin: *`` (or the caller's origin,
when ``Settings.cors_origins`` lists origins; nothing when it is empty) and never
``Access-Control-Allow-Credentials``: a browser therefore neither sends cookies nor reads
a credentialed answer. Preflights allow the conditional and range headers but not
``Authorization``, so no cross-origin page can spend a licence's token through a visitor's
browser. Session (cookie) routes and licensed data never get any CORS header.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils import normalize_path

HEAD_KEY = "opendata.head"
CORS_KEY = "opendata.cors"
CORS_OPT = "cors"
EXPOSED_HEADERS = ("ETag, Last-Modified, Link, Content-Length, Content-Range, Accept-Ranges, "
                   "Content-Disposition, Retry-After")
PREFLIGHT_HEADERS = "Accept, Accept-Language, If-None-Match, If-Modified-Since, If-Range, Range"
PREFLIGHT_MAX_AGE = "600"


def is_head(request: Request) -> bool:
    return bool(request.scope.get(HEAD_KEY))


def scope_method(scope: Scope) -> str | None:
    """The method the client sent: HEAD for a HEAD routed as its GET (audit records it)."""
    return "HEAD" if scope.get(HEAD_KEY) else scope.get("method")


def allow_cors(request: Request) -> None:
    """Let this response of an ``"open-data"`` route be read cross-origin."""
    request.scope[CORS_KEY] = True  # type: ignore[literal-required]


def _cors_allowed(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    mode = handler.opt.get(CORS_OPT) if handler is not None else None
    return mode == "open" or (mode == "open-data" and bool(scope.get(CORS_KEY)))


def allowed_origin(origins: tuple[str, ...], origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for a request from ``origin``, or None."""
    if "*" in origins:
        return "*"
    return origin if origin is not None and origin in origins else None


class HttpConventions:
    """HEAD as GET without a body, CORS on open routes, preflights for them."""

    def __init__(self, app: ASGIApp, litestar_app: Any) -> None:
        self.app = app
        self.litestar_app = litestar_app
        plugin = litestar_app.state.get("opendata")
        self.origins: tuple[str, ...] = tuple(plugin.settings.cors_origins) if plugin is not None else ("*",)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        headers = dict(scope.get("headers") or [])
        if method == "OPTIONS" and b"origin" in headers and b"access-control-request-method" in headers:
            if await self._preflight(scope, headers, send):
                return
        origin = headers.get(b"origin")
        allow = allowed_origin(self.origins, origin.decode("latin-1") if origin else None)
        head = method == "HEAD"
        if head:
            # A copy: the server keeps its own scope saying HEAD (uvicorn then sends no
            # body and no chunked framing); only the application sees a GET.
            scope = {**scope, "method": "GET", HEAD_KEY: True}  # type: ignore[misc]

        async def wrapped(message: Message) -> None:
            # Always, not only when an Origin header came: the value never varies, so a
            # shared cache can hand the same copy to any page.
            if message["type"] == "http.response.start" and self.origins and _cors_allowed(scope):
                out = MutableScopeHeaders.from_message(message)
                if allow:
                    out["access-control-allow-origin"] = allow
                    out["access-control-expose-headers"] = EXPOSED_HEADERS
                if allow != "*":
                    out.extend_header_value("vary", "Origin")  # the answer depends on it
            elif message["type"] == "http.response.body" and head:
                if message.get("more_body"):
                    return  # drop the chunk; the final (empty) message ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, wrapped)

    async def _preflight(self, scope: Scope, headers: dict[bytes, bytes], send: Send) -> bool:
        """Answer a CORS preflight for an open GET route; False: not ours to answer."""
        asked = headers.get(b"access-control-request-method", b"").decode("latin-1").upper()
        allow = allowed_origin(self.origins, headers.get(b"origin", b"").decode("latin-1"))
        if asked not in ("GET", "HEAD") or allow is None:
            return False
        try:
            _, handler, *_ = self.litestar_app.asgi_router.handle_routing(
                path=normalize_path(scope["path"]), method="GET")
        except Exception:  # no such route: let the router answer as it would
            return False
        if handler.opt.get(CORS_OPT) not in ("open", "open-data"):
            return False
        await send({"type": "http.response.start", "status": 204, "headers": [
            (b"access-control-allow-origin", allow.encode("latin-1")),
            (b"access-control-allow-methods", b"GET, HEAD"),
            (b"access-control-allow-headers", PREFLIGHT_HEADERS.encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            (b"vary", b"Origin, Access-Control-Request-Headers"),
        ]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True
