"""`opendata serve` bounds its connections: slow headers and slow bodies time out.

Before, a client sending its request one byte at a time held a connection for ever
(uvicorn has no header deadline; no layer had a body deadline).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import uvicorn
from sqlalchemy import select

from opendata import create_app
from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.http_limits import _header_timeout, uvicorn_options
from opendata.settings import Settings
from tests.serving import free_port


@pytest.fixture
def slow_limits(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    monkeypatch.setenv("OPENDATA_SERVE_HEADER_TIMEOUT_SECONDS", "0.5")
    _header_timeout.cache_clear()
    limited = settings.replace(serve_header_timeout_seconds=0.5, serve_body_timeout_seconds=0.5)
    port = free_port()
    config = uvicorn.Config(create_app(limited), host="127.0.0.1", port=port, log_level="warning",
                            **uvicorn_options(limited))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        _header_timeout.cache_clear()


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_headers_that_do_not_arrive_in_time_close_the_connection(slow_limits: tuple[str, int]) -> None:
    with socket.create_connection(slow_limits, timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        started = time.monotonic()
        assert read_all(sock) == b""  # closed by the server, not by our 10 s timeout
        assert time.monotonic() - started < 8
    with socket.create_connection(slow_limits, timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 200")


def test_a_body_that_does_not_arrive_in_time_is_408(slow_limits: tuple[str, int]) -> None:
    with socket.create_connection(slow_limits, timeout=10) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\nConnection: close\r\n\r\n{\"user")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b"body_timeout" in answer


def test_an_upload_that_stops_arriving_is_408_audited(slow_limits: tuple[str, int], settings: Settings) -> None:
    # Uploads are passed on as they arrive (not read whole first): the deadline still holds
    # while the form parser is reading, and the stall is an audited 408, not a 500.
    head = (b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stops.csv\"\r\n"
            b"Content-Type: text/csv\r\n\r\nstop_id,name\r\nS1,")
    with socket.create_connection(slow_limits, timeout=10) as sock:
        sock.sendall(b"POST /publisher/datasets/bus-stops/resources/stops/upload HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: 100000\r\n"
                     b"Connection: close\r\n\r\n" + head)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert _refusals(settings, "body_timeout") == 1


def _refusals(settings: Settings, code: str) -> int:
    """The audited refusals with ``code``, once written: the portal audits after answering."""
    database = Database(settings.database_url)  # type: ignore[arg-type]
    try:
        for _ in range(100):
            with database.session() as session:
                found = session.scalars(select(AuditRecord.code).where(AuditRecord.code == code)).all()
            if found:
                return len(found)
            time.sleep(0.1)
        return 0
    finally:
        database.dispose()
