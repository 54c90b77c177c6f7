"""One error shape for every API: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger("opendata")


class AppError(Exception):
    """An error a client can act on: an HTTP status, a stable code and a sentence."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        # Set once the refusal has an audit record, so that it gets exactly one.
        self.audited = False


def not_found(what: str, ident: str) -> AppError:
    return AppError(404, "not_found", f"{what} {ident!r} does not exist")


def bad_request(code: str, message: str, **kw: Any) -> AppError:
    return AppError(400, code, message, **kw)


def text_field(value: object, name: str, limit: int, minimum: int = 1) -> str:
    """A submitted text, stripped, of ``minimum`` to ``limit`` characters; else a 400."""
    if value is not None and not isinstance(value, str):
        raise bad_request("invalid_field", f"{name} is text")
    text = (value or "").strip()
    if len(text) < minimum:
        raise bad_request("missing_field", f"{name} needs at least {minimum} characters")
    if len(text) > limit:
        raise bad_request("invalid_field", f"{name} has at most {limit} characters")
    return text


def only_fields(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """Refuse fields a JSON endpoint does not take: an ``author`` or ``user_id`` sent to
    write as someone else is an error, not silently ignored."""
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise bad_request("unknown_field", f"unknown field(s) {', '.join(unknown)}; send only {', '.join(names)}")
    return data


def required_field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise bad_request("missing_field", f"send {name}")
    return data[name]


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def app_error_handler(_: Request, exc: AppError) -> Response:
    return Response(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
    )


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "body_timeout",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def http_exception_handler(_: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ValidationException):
        code, details = "invalid_parameter", exc.extra or None
    elif isinstance(exc, NotFoundException):
        code, details = "not_found", None
    else:
        code, details = HTTP_CODES.get(exc.status_code, "http_error"), None
    return Response(
        error_body(code, exc.detail, details), status_code=exc.status_code, headers=exc.headers
    )


def internal_error_handler(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        error_body("internal_error", "the server failed to handle this request"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


class Busy(Exception):
    """The process is saturated by something other than the pool (the request bodies it
    holds, opendata.input_guard.BodyBudget): answered like a pool timeout."""


def saturation(exc: Exception) -> str:
    return str(exc) if isinstance(exc, Busy) else "no database connection"


def busy_handler(request: Request, exc: Exception) -> Response:
    """No database connection within the pool timeout: the process is saturated. A quick,
    honest 503 the client can retry, rather than a 500 after a long stall."""
    logger.warning("saturated: %s for %s %s", saturation(exc), request.method, request.url.path)
    return Response(error_body("busy", "the portal is busy; retry shortly"), status_code=503,
                    headers={"Retry-After": "1"})


EXCEPTION_HANDLERS = {
    AppError: app_error_handler,
    PoolTimeoutError: busy_handler,
    Busy: busy_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
