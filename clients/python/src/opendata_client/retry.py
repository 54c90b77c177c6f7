"""When to try a request again, and how long to wait first: shared by both clients.

Retried: connection errors (refused, reset, timed out), 429 and the 5xx that mean "later"
(500, 502, 503, 504). A ``Retry-After`` the portal sends is obeyed; without one the wait
doubles from ``backoff`` up to ``max_backoff``, with jitter so that many clients do not
come back in step. Never retried: the daily quota (it resets tomorrow), a Retry-After
longer than ``max_retry_after``, and every other answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from opendata_client.errors import OpenDataError, PortalUnreachable, error_from_body

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5             # tries in all, the first one included
    backoff: float = 0.5          # seconds before the second try; doubles after each
    max_backoff: float = 30.0
    max_retry_after: float = 120.0

    def backoff_delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1, 2, ...): exponential, with up to 25 %
        jitter below the nominal value (never above, so max_backoff holds)."""
        nominal = min(self.max_backoff, self.backoff * 2 ** (retry - 1))
        return nominal * random.uniform(0.75, 1.0)


NO_RETRY = RetryPolicy(attempts=1)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def portal_error(response: httpx.Response) -> OpenDataError:
    """The OpenDataError for an unsuccessful answer (its body must have been read)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    fallback = response.text[:200] or response.reason_phrase
    return error_from_body(response.status_code, body, fallback, retry_after_seconds(response))


def _quota_spent(response: httpx.Response) -> bool:
    try:
        return response.json()["error"]["code"] == "quota_exceeded"
    except (ValueError, KeyError, TypeError):
        return False


class Attempts:
    """The retry bookkeeping of one request, without I/O: the client sends, then asks."""

    def __init__(self, policy: RetryPolicy, url: str) -> None:
        self.policy = policy
        self.url = url
        self.tries = 0

    def after_response(self, response: httpx.Response) -> float | None:
        """The wait before trying again, or None: take this answer (good or bad) as final.
        The body must have been read (a streamed response: read it before asking)."""
        self.tries += 1
        if response.status_code not in RETRY_STATUSES or self.tries >= self.policy.attempts:
            return None
        if response.status_code == 429 and _quota_spent(response):
            return None
        asked = retry_after_seconds(response)
        if asked is not None:
            return asked if asked <= self.policy.max_retry_after else None
        return self.policy.backoff_delay(self.tries)

    def after_error(self, error: httpx.TransportError) -> float:
        """The wait before trying again after a connection error; past the last try it
        raises PortalUnreachable from that error."""
        self.tries += 1
        if self.tries >= self.policy.attempts:
            reason = str(error) or type(error).__name__
            raise PortalUnreachable(self.url, reason) from error
        return self.policy.backoff_delay(self.tries)
