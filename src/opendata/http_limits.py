"""What ``opendata serve`` bounds at the connection level (uvicorn options and protocol).

uvicorn closes idle keep-alive connections but has no deadline for a request's headers: a
client sending one header byte every few seconds held its connection (and, repeated, every
connection) for ever. ``TimedH11Protocol`` closes a connection whose request headers are
not complete within ``serve_header_timeout_seconds``; the request *body* has its deadline
in the input guard (``408 body_timeout``), and the number of concurrent connections is
uvicorn's ``limit_concurrency`` (beyond it, new requests get 503 at once).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from opendata.settings import Settings


@lru_cache(maxsize=1)
def _header_timeout() -> float:
    # Read in the worker process itself: `serve --workers N` passes settings by environment.
    return Settings.from_env().serve_header_timeout_seconds


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for receiving each request's headers."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()  # the headers are in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(_header_timeout(), self._headers_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closed a connection whose request headers did not arrive in time")
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn.run / uvicorn.Config options that bound connections."""
    return {
        "http": TimedH11Protocol,
        "limit_concurrency": settings.serve_limit_concurrency,
        "timeout_keep_alive": settings.serve_keep_alive_seconds,
    }
