"""One check of every request's raw input before any handler sees it.

Handlers validate what they mean (a field name, a licence state); this layer refuses what
no handler should have to think about, for the API and the portal alike:

- a body larger than the limit (``413 body_too_large``; uploads have their own, larger
  limit, and are passed on as they arrive instead of held in memory), or one that arrives
  too slowly (``408 body_timeout``: a slow client cannot hold a worker);
- JSON nested deeper than ``json_max_depth`` (``400 json_too_deep``), before any parser
  recurses into it: 1,000 levels made Python's json raise RecursionError (a 500);
- a NUL character in the path, the query string, a form or a JSON string
  (``400 invalid_character``): PostgreSQL cannot store one in text, so it failed deep in
  a query;
- an integer path parameter outside the range of the ids it names (``400
  value_out_of_range``; ids are 32-bit on PostgreSQL, 64-bit on SQLite).

Every refusal is audited (``request.refused``) and answered in the shape of its door: JSON
under the API, an HTML page in the portal. ``database_refused_input`` is the safety net
behind it: a value the database itself rejects as data (out of range, bad text) is a 400
and an audit record too, never a 500.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
import anyio.to_thread
from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import ValidationException
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from opendata.errors import AppError, Busy, app_error_handler, http_exception_handler
from opendata.formats.limits import INT32_MAX, INT32_MIN
from opendata.httpconv.middleware import scope_method

logger = logging.getLogger("opendata")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, strings left out (whatever
    brackets they contain). Linear, no recursion: safe on any input."""
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_JSON_STRING.sub(b"", body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"\x00" in unquote_to_bytes(raw.replace(b"+", b" "))


def _refusal(status: int, code: str, message: str) -> AppError:
    return AppError(status, code, message)


class BodyBudget:
    """The bytes of request bodies a process holds in memory at once, over all its requests.

    A JSON or form body is read whole before it is checked (JSON depth, NUL), so each one in
    flight costs its size (about twice while it is joined and parsed) until its request
    ends. Bounded one by one (``request_body_max_bytes``) that was still concurrency x 8 MiB
    in all, from anyone, before any sign-in. A request whose body would take the total past
    ``bodies_in_flight_max_bytes`` is answered 503 ``busy`` with Retry-After at once, like
    a saturated connection pool (not audited: nothing about it was refused)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._lock = threading.Lock()  # one event loop per process, but an embedding host may run more

    def take(self, size: int, own: int = 0) -> None:
        """Take ``size`` more bytes for a request already holding ``own``; Busy if too many."""
        with self._lock:
            # A body alone is always let in (it has its own limit): a budget below
            # request_body_max_bytes slows a busy process down, it never locks a request out.
            if self.held > own and self.held + size > self.limit:
                raise Busy(f"request bodies in flight would pass {self.limit:,} bytes")
            self.held += size

    def give(self, size: int) -> None:
        with self._lock:
            self.held -= size

    def __deepcopy__(self, memo: dict[int, Any]) -> "BodyBudget":
        # Litestar deep-copies a router, with its middleware's arguments, when it registers
        # it: the API's and the portal's guards must still count into the process's one budget.
        return self


# The first bytes of each body are not taken from the budget. Slow large bodies can hold
# the whole budget for as long as each keeps up the per-part deadline; charged from the
# first byte, a sign-in form or any small JSON body was then 503 with them, so a few
# connections trickling 8 MiB each locked everyone out. Small bodies are bounded anyway,
# by serve_limit_concurrency x this (1,000 x 64 KiB).
SMALL_BODY_BYTES = 64 * 1024


class _Holding:
    """What one request has taken from the budget, given back when the request ends."""

    def __init__(self, budget: BodyBudget) -> None:
        self.budget, self.size, self.charged = budget, 0, 0

    def take(self, size: int) -> None:
        self.size += size
        charge = max(0, self.size - SMALL_BODY_BYTES) - self.charged
        if charge:
            self.budget.take(charge, self.charged)
            self.charged += charge

    def release(self) -> None:
        self.budget.give(self.charged)
        self.size = self.charged = 0


class InputGuardMiddleware:
    """ASGI middleware of the API and portal routers; ``plugin`` is the OpenDataPlugin."""

    def __init__(self, app: Any, plugin: Any) -> None:
        self.app = app
        self.plugin = plugin

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holding = _Holding(self.plugin.body_budget)
        try:
            try:
                self._check_target(scope)
                if scope["method"] in BODY_METHODS:
                    receive = await self._checked_body(scope, receive, holding)
            except AppError as error:
                await audit_refusal(self.plugin.database, scope, error)
                error.audited = True
                raise
            await self.app(scope, receive, send)
        finally:
            holding.release()

    def _check_target(self, scope: Any) -> None:
        path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if "\x00" in scope["path"] or _has_nul(path) or _has_nul(scope.get("query_string") or b""):
            raise _refusal(400, "invalid_character", "the address contains a NUL character")
        for name, value in (scope.get("path_params") or {}).items():
            if isinstance(value, int) and not isinstance(value, bool) and not INT32_MIN <= value <= INT32_MAX:
                raise _refusal(400, "value_out_of_range", f"{name} {value} is not an id that can exist")

    async def _checked_body(self, scope: Any, receive: Any, holding: _Holding) -> Any:
        settings = self.plugin.settings
        handler = scope.get("route_handler")
        upload = bool(handler is not None and handler.opt.get("upload"))
        limit = settings.upload_max_bytes if upload else settings.request_body_max_bytes
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if upload and content_type == b"multipart/form-data":
            # Passed on as it arrives, counted: the form parser writes the file to disk as it
            # comes. Held here, every upload in flight cost its size in memory (twice while
            # joined) before anyone knew who sent it: an anonymous body reaches the CSRF check
            # only through the parser, so N clients sending 64 MiB each took N x 128 MiB.
            fields = _FormFields(headers.get(b"content-type", b""), settings.request_body_max_bytes, holding)
            return _counted(receive, limit, settings.serve_body_timeout_seconds, fields)
        body = await _read_body(receive, limit, settings.serve_body_timeout_seconds, holding)
        if content_type == b"multipart/form-data":
            pass  # file contents are the importers' business (they refuse NUL in cells)
        elif content_type == b"application/x-www-form-urlencoded":
            if _has_nul(body):
                raise _refusal(400, "invalid_character", "a form value contains a NUL character")
        elif body.lstrip()[:1] in (b"{", b"["):
            # Whatever the declared type: some handlers parse their body as JSON themselves.
            if json_depth(body) > settings.json_max_depth:
                raise _refusal(400, "json_too_deep", f"the JSON body nests deeper than {settings.json_max_depth} levels")
            if b"\x00" in body or _ESCAPED_NUL.search(body):
                raise _refusal(400, "invalid_character", "a JSON string contains a NUL character")
        return _replay(body, receive)


def _too_large(limit: int) -> AppError:
    return _refusal(413, "body_too_large", f"the request body is larger than {limit:,} bytes")


async def _next_part(receive: Any, timeout: float) -> dict[str, Any]:
    """The next message of a body still arriving: 408 if it takes longer than ``timeout``
    (each part, so a slow but steady upload is not cut off), 400 if the client left."""
    try:
        with anyio.fail_after(timeout):
            message = await receive()
    except TimeoutError:
        raise _refusal(408, "body_timeout", f"the request body did not arrive within {timeout:g} s") from None
    if message["type"] == "http.disconnect":
        raise _refusal(400, "body_incomplete", "the client went away before sending the whole body")
    return message


class _FormFields:
    """The form fields (parts without a filename) of a multipart upload, counted as they pass.

    The form parser writes a file part to disk but keeps every other part in memory, whole,
    and decodes it: without this a 60 MiB "title" beside (or instead of) the file was held
    twice over, from anyone, outside the body budget. Together they are bounded like any
    form body (``request_body_max_bytes``, 413) and taken from the process's budget (503).
    The same parser as the form parser's (python-multipart), with its defaults, so both
    see the same parts; a body it cannot parse is left to the form parser's own 400."""

    def __init__(self, content_type: bytes, limit: int, holding: _Holding) -> None:
        boundary = parse_options_header(content_type.decode("latin-1"))[1].get("boundary")
        self._parser = PushMultipartParser(boundary) if boundary else None
        self._limit, self._holding = limit, holding
        self._in_field, self._size = False, 0

    def feed(self, chunk: bytes) -> None:
        if self._parser is None or not chunk:
            return
        try:
            for event in self._parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    self._in_field = not event.filename
                elif event and self._in_field:
                    self._size += len(event)
                    if self._size > self._limit:
                        raise _refusal(413, "body_too_large",
                                       f"the form fields of the upload are larger than {self._limit:,} bytes")
                    self._holding.take(len(event))  # Busy (503) when the process holds too much
        except MultipartError:
            self._parser = None  # malformed: the form parser refuses it (400)


def _counted(receive: Any, limit: int, timeout: float, fields: _FormFields) -> Any:
    """``receive`` passing the body on part by part, refusing it (413, 408, 400) as soon as
    it is too large, too slow or broken off, or its form fields are (``_FormFields``); the
    handler's exception handlers answer and audit the refusal. After the body, messages (a
    disconnect) pass through untouched."""
    size = 0
    done = False

    async def counted() -> dict[str, Any]:
        nonlocal size, done
        if done:
            return await receive()
        message = await _next_part(receive, timeout)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        fields.feed(chunk)
        done = not message.get("more_body", False)
        return message

    return counted


async def _read_body(receive: Any, limit: int, timeout: float, holding: _Holding) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await _next_part(receive, timeout)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        holding.take(len(chunk))  # Busy (503) when the process holds too much already
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _printable(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text.replace("\x00", "\\x00")[:limit]


def _record(database: Any, info: dict[str, Any], error: AppError) -> None:
    from opendata.audit.service import ANONYMOUS, RequestInfo, append

    with database.session() as session:
        append(session, actor=ANONYMOUS, action="request.refused", target=info["path"], outcome="refused",
               code=error.code, details={"status": error.status, "message": _printable(error.message, 500)},
               request=RequestInfo(method=info["method"], path=info["path"], client_ip=info["client"],
                                   user_agent=info["agent"]))
        session.commit()


def _scope_info(scope: Any) -> dict[str, Any]:
    headers = dict(scope.get("headers") or ())
    client = scope.get("client")
    return {
        "method": scope_method(scope), "path": _printable(scope.get("path"), 1024),
        "client": client[0] if client else None,
        "agent": _printable(headers.get(b"user-agent", b"").decode("latin-1") or None, 255),
    }


def record_refusal(database: Any, scope: Any, error: AppError) -> None:
    """Record a refused request in the audit trail, in its own transaction (blocking)."""
    info = _scope_info(scope)
    try:
        _record(database, info, error)
    except Exception:  # the refusal is still answered if the audit cannot be written
        logger.exception("could not audit a refused request to %s", info["path"])


async def audit_refusal(database: Any, scope: Any, error: AppError) -> None:
    await anyio.to_thread.run_sync(record_refusal, database, scope, error)


def _refusal_for_database(request: Request, exc: Exception) -> AppError:
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
    logger.warning("the database refused a value on %s %s: %s", request.method, request.url.path, reason)
    return AppError(400, "invalid_value", f"a value in the request is out of range or cannot be stored ({reason})")


# Bad input (400), too slow or too large: audited here unless the service already did.
AUDITED_STATUSES = frozenset({400, 408, 413})


def audited(request: Request, error: AppError, response: Response) -> Response:
    """``response`` to ``error``, auditing the refusal (after the response is sent: exception
    handlers run on the event loop, which must not wait for the database)."""
    if error.status in AUDITED_STATUSES and not error.audited:
        error.audited = True
        response.background = BackgroundTask(audit_refusal, request.app.state["opendata"].database,
                                             request.scope, error)
    return response


def database_refused_input(request: Request, exc: Exception, render: Any) -> Response:
    """The database (or its driver) refused a value as data: a 400, audited, never a 500."""
    error = _refusal_for_database(request, exc)
    return audited(request, error, render(request, error))


def invalid_parameter(request: Request, exc: ValidationException, render: Any) -> Response:
    """Parameters and bodies refused by their declared types are audited refusals too."""
    error = AppError(400, "invalid_parameter", str(exc.detail))
    return audited(request, error, render(request, exc))


def _refused_by_database() -> tuple[type[Exception], ...]:
    from sqlalchemy.exc import DataError

    # OverflowError: sqlite3 binding an integer beyond 64 bits; DataError: PostgreSQL
    # refusing a value (numeric out of range, NUL in text, ...).
    return (DataError, OverflowError)


REFUSED_BY_DATABASE = _refused_by_database()
API_EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: lambda request, exc: audited(request, exc, app_error_handler(request, exc)),
    ValidationException: lambda request, exc: invalid_parameter(request, exc, http_exception_handler),
    **{kind: (lambda request, exc: database_refused_input(request, exc, app_error_handler))
       for kind in REFUSED_BY_DATABASE},
}
