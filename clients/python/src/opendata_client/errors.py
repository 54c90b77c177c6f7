"""The SDK's errors: every failure a caller can meet is an OpenDataError."""

from __future__ import annotations

from typing import Any


class OpenDataError(Exception):
    """An error answered by the portal: HTTP status, stable code and message.

    ``retry_after`` is the wait the portal asked for (seconds), when it named one."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" if status else f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class QuotaExceeded(OpenDataError):
    """The licence's daily quota is spent (429 ``quota_exceeded``); never retried, since it
    resets only at the start of the next day.

    Raised by the ``rows()`` iterator after it has yielded every row it fetched:
    ``fetched`` counts them and ``cursor`` resumes right after the last one
    (``rows(..., cursor=error.cursor)`` tomorrow). ``fetch_rows()`` does not raise it: it
    returns the rows it kept with ``stopped_by == "quota"``."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: float | None = None,
                 fetched: int = 0, cursor: str | None = None) -> None:
        super().__init__(status, code, message, retry_after=retry_after)
        self.fetched = fetched
        self.cursor = cursor


class PortalUnreachable(OpenDataError):
    """No answer from the portal after the retries: refused, timed out, DNS, TLS, cut off.
    ``status`` is 0 (no HTTP answer); the httpx error is the ``__cause__``."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(0, "unreachable", f"cannot reach the portal at {url} ({reason})")
        self.url = url


class MissingDependency(OpenDataError, ImportError):
    """An optional integration (pandas, pyarrow) is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(0, "missing_dependency",
                         f"{package} is not installed: pip install 'opendata-client[{extra}]' (or pip install {package})")
        self.package = package


def error_from_body(status: int, body: Any, fallback: str, retry_after: float | None) -> OpenDataError:
    """The portal's ``{"error": {"code", "message"}}``, or OAuth's ``{"error", "error_description"}``
    (the token endpoint), or the start of whatever else came back."""
    code, message = "http_error", fallback
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "code" in error:
            code, message = str(error["code"]), str(error.get("message", ""))
        elif isinstance(error, str):
            code, message = error, str(body.get("error_description", ""))
    kind = QuotaExceeded if code == "quota_exceeded" else OpenDataError
    return kind(status, code, message, retry_after=retry_after)
