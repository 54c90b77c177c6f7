"""It keeps serving (issue 10, item 0): more requests in flight than database connections
must neither stall a process nor end in 500s; a saturated process answers 503 at once.

v1: `wrk -c50` on search completed 0 requests in 15 s and a plain GET afterwards took 44 s
(sync session cleanups queued behind handler threads that waited for connections). The
load test here is bounded (10 s, loopback) and asserts outcomes, never latencies; the
latencies are recorded by benchmarks/load.py.
"""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from opendata import create_app
from opendata.settings import Settings
from tests.access.helpers import licensed_enterprise
from tests.conftest import postgres_schema_url
from tests.serving import free_port

CLIENTS = 100
SECONDS = 10.0
PATHS = ("/api/v1/datasets?q=公交", "/api/v1/datasets?q=credit&facets=true",
         "/api/v1/datasets/bus-stops/resources/stops/rows?limit=100", "/api/v1/datasets/bus-stops",
         "/api/v1/datasets")
# Every third client reads licensed rows with its bearer token between open requests: the
# guard, the licence and quota checks and the usage counting all run under the load.
LICENSED_ROWS = "/api/v1/datasets/social-insurance-headcounts/resources/headcounts/rows?limit=50"
LICENSED_EVERY = 3
LICENCE = {"items": [{"dataset": "social-insurance-headcounts", "operations": ["query"],
                      "fields": ["credit_code", "month", "headcount"]}]}
NO_QUOTA_LIMIT = {"quotas": {"rows_per_day": 1_000_000_000}}


def _start(tmp_path: Path, database_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "OPENDATA_DATA_DIR": str(tmp_path / "data"), "OPENDATA_DATABASE_URL": database_url,
           "OPENDATA_SECURE_COOKIES": "false", "OPENDATA_TOKEN_ISSUER": "http://load.test"}
    command = [sys.executable, "-m", "opendata", "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    log = open(tmp_path / "server.log", "w")  # read when a test fails
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # start-up is not what is tested; the machine may be loaded
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            log.flush()
            tail = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the portal did not start:\n{tail}")
        time.sleep(0.3)


def _licensed_token(base: str, database_url: str) -> str:
    with httpx.Client(base_url=base, timeout=60) as http:
        licensed = licensed_enterprise(http, database_url, approval=NO_QUOTA_LIMIT,  # type: ignore[arg-type]
                                       **LICENCE)
        return licensed.token(http)  # type: ignore[arg-type]


async def _load(base: str, token: str) -> collections.Counter:
    outcomes: collections.Counter = collections.Counter()
    # Clients first (each builds an SSL context, slow on a loaded machine), then the clock.
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in range(CLIENTS)]  # keep-alive
    licensed = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + SECONDS

    async def run(index: int, http: httpx.AsyncClient) -> None:
        turn = index
        while True:
            for attempt in (1, 2):
                try:
                    if index % LICENSED_EVERY == 0 and turn % 2 == 0:
                        response = await http.get(LICENSED_ROWS, headers=licensed)
                        outcomes[f"licensed {response.status_code}"] += 1
                    else:
                        response = await http.get(PATHS[turn % len(PATHS)])
                        outcomes[response.status_code] += 1
                except httpx.RemoteProtocolError:
                    # A reused keep-alive connection closed before any byte of the answer: a
                    # client may retry an idempotent GET once (RFC 9110 §9.2.2), as browsers
                    # do. Counted, bounded below, and the retry itself must be answered.
                    if attempt == 1:
                        outcomes["retried"] += 1
                        continue
                    outcomes["RemoteProtocolError"] += 1
                except httpx.HTTPError as error:  # a stall shows up as a 60 s read timeout
                    outcomes[type(error).__name__] += 1
                break
            turn += 1
            if time.monotonic() >= deadline:
                return

    try:
        await asyncio.gather(*(run(i, http) for i, http in enumerate(clients)))
    finally:
        for http in clients:
            await http.aclose()
    return outcomes


def _survives_load(tmp_path: Path, database_url: str, workers: int) -> None:
    server, base = _start(tmp_path, database_url, workers)
    try:
        outcomes = asyncio.run(_load(base, _licensed_token(base, database_url)))
        # No 5xx, no timeouts, no refusals; the licensed reads were served, not refused.
        retried = outcomes.pop("retried", 0)
        assert set(outcomes) == {200, "licensed 200"}, dict(outcomes)
        assert retried <= sum(outcomes.values()) / 100, (retried, dict(outcomes))  # rare, never the rule
        assert sum(outcomes.values()) >= CLIENTS  # every client got answers, not one
        after = httpx.get(f"{base}/api/v1/datasets?q=公交", timeout=10)  # and it still answers at once
        assert after.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_hundred_keep_alive_clients_on_sqlite(tmp_path: Path) -> None:
    _survives_load(tmp_path, f"sqlite:///{tmp_path / 'load.db'}", workers=1)


@pytest.mark.postgres
def test_a_hundred_keep_alive_clients_on_postgresql_with_two_processes(tmp_path: Path) -> None:
    with postgres_schema_url() as url:
        _survives_load(tmp_path, url, workers=2)


def test_a_saturated_process_answers_503_with_retry_after_at_once(tmp_path: Path) -> None:
    """Every connection taken (here by a long transaction of the test): a request waits at most
    db_pool_timeout_seconds, then gets 503 busy -- for the API and the portal alike."""
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'busy.db'}",
                        load_catalogues_on_startup=False, secure_cookies=False, db_pool_size=1,
                        db_pool_timeout_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        database = client.app.state["opendata"].database
        database.engine.dispose()
        hold = threading.Event()
        taken = threading.Event()

        def occupy() -> None:
            with database.engine.connect():
                connections = [database.engine.connect() for _ in range(4)]  # the overflow too
                taken.set()
                hold.wait(30)
                for connection in connections:
                    connection.close()

        holder = threading.Thread(target=occupy)
        holder.start()
        try:
            assert taken.wait(10)
            assert database.engine.pool.checkedout() == 5, database.engine.pool.status()
            api = client.get("/api/v1/datasets?q=公交")
            assert api.status_code == 503 and api.headers["retry-after"] == "1"
            assert api.json()["error"]["code"] == "busy"
            page = client.get("/")
            assert page.status_code == 503 and page.headers["retry-after"] == "1"
        finally:
            hold.set()
            holder.join()
        assert client.get("/api/v1/datasets?q=公交").status_code == 200  # and serves again at once
