"""Helpers shared by the benchmarks: a portal in its own process, and its memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def portal_process(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Start `uvicorn opendata.app:create_app` in a subprocess; yield (base_url, pid)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "opendata.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, f"{base}/healthz", "the portal did not start")
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(process: subprocess.Popen, url: str, failure: str, seconds: float = 600) -> None:
    """Poll ``url`` until it answers 200; raise RuntimeError(failure) if the process exits
    or the time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """``url`` with its search path set to a fresh schema, dropped afterwards: a benchmark
    never creates its tables in the shared ``public`` schema. A URL that already sets
    options (its own search path) is used as it is."""
    if not url.startswith("postgresql") or "options=" in url:
        yield url
        return
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema},public')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
