"""What the audit trail records about an HTTP request."""

from __future__ import annotations

from litestar import Request

from opendata.audit.service import RequestInfo
from opendata.httpconv.middleware import scope_method


def request_info(request: Request, token_jti: str | None = None) -> RequestInfo:
    """Method, path, client address and user agent of ``request``.

    The client address is the ASGI peer: behind a reverse proxy, run the server with
    trusted proxy headers (uvicorn --proxy-headers --forwarded-allow-ips) so that it is the
    real client, rather than trusting an X-Forwarded-For header any client could forge.
    """
    return RequestInfo(
        method=scope_method(request.scope),  # a HEAD is audited as HEAD, not as its GET
        path=request.url.path,
        client_ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        token_jti=token_jti,
    )
