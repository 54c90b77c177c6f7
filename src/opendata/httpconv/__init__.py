"""HTTP conventions data clients expect (issue 11): HEAD, CORS, compression, validators,
ranges, Link headers and one error shape for 405. See docs/interop.md, "HTTP"."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import MethodNotAllowedException

from opendata.errors import error_body
from opendata.httpconv.compression import Compression
from opendata.httpconv.middleware import HttpConventions, allow_cors, is_head

__all__ = ["install", "allow_cors", "is_head", "method_not_allowed"]


def install(app: Any) -> None:
    """Put HEAD, CORS and compression in front of ``app``'s router (once)."""
    if isinstance(app.asgi_handler, HttpConventions):
        return
    app.asgi_handler = HttpConventions(Compression(app.asgi_handler), app)


def method_not_allowed(_: Request, exc: MethodNotAllowedException) -> Response:
    """405 in the one error shape, with Allow naming HEAD wherever GET is allowed."""
    allowed = [m.strip() for m in (exc.headers or {}).get("allow", "").split(",") if m.strip()]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return Response(error_body("method_not_allowed", "this method is not allowed here; see the Allow header"),
                    status_code=405, headers={"Allow": ", ".join(allowed)})
