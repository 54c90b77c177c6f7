"""One deployment, several processes: one token issuer whatever the port, one signing key.

Before: processes on different ports rejected each other's tokens unless they shared
OPENDATA_BASE_URL (the issuer was derived per port, undocumented), and the first token
requests arriving at several processes at once created one "active" key per process.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import httpx
import jwt
from litestar.testing import TestClient
from sqlalchemy import func, select

from opendata import create_app
from opendata.access.models import SigningKey
from opendata.db import Database
from opendata.settings import Settings
from tests.access.helpers import ROWS, Licensed, basic, bearer, licensed_enterprise
from tests.processes import serve_env, serving


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _token_request(client: TestClient, licensed: Licensed) -> Callable[[], Any]:
    return lambda: client.post("/api/v1/token", data={"grant_type": "client_credentials"},
                               headers=basic(licensed.client_id, licensed.client_secret))


def _active_keys(database_url: str) -> int:
    database = Database(database_url)
    with database.session() as session:
        count = session.scalar(select(func.count()).select_from(SigningKey).where(SigningKey.retired_at.is_(None)))
    database.dispose()
    return int(count or 0)


def test_first_token_requests_at_several_processes_make_one_active_key(
    client: TestClient, licensed: Licensed, portal_settings: Settings, database_url: str,
) -> None:
    assert _active_keys(database_url) == 0
    # Two more portal processes on the same database (each its own engine and key cache).
    with TestClient(create_app(portal_settings)) as second, TestClient(create_app(portal_settings)) as third:
        portals = [client, second, third]
        responses = _together([_token_request(portal, licensed) for portal in portals for _ in range(2)])
        assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
        assert _active_keys(database_url) == 1
        tokens = [r.json()["access_token"] for r in responses]
        assert len({jwt.get_unverified_header(t)["kid"] for t in tokens}) == 1
        for portal in portals:
            for token in tokens:
                assert portal.get(ROWS, headers=bearer(token)).status_code == 200


def test_processes_on_other_ports_accept_tokens_when_they_share_the_issuer(
    portal_settings: Settings, database_url: str,
) -> None:
    first = portal_settings.replace(base_url="http://127.0.0.1:8001", token_issuer="https://data.example.gov.cn")
    other = portal_settings.replace(base_url="http://127.0.0.1:8002", token_issuer="https://data.example.gov.cn")
    alone = portal_settings.replace(base_url="http://127.0.0.1:8003")
    with TestClient(create_app(first)) as a, TestClient(create_app(other)) as b, TestClient(create_app(alone)) as c:
        licensed = licensed_enterprise(a, database_url)
        token = licensed.token(a)
        assert jwt.decode(token, options={"verify_signature": False})["iss"] == "https://data.example.gov.cn"
        assert b.get(ROWS, headers=bearer(token)).status_code == 200
        # Without the shared setting the issuer is the process's own base URL.
        refused = c.get(ROWS, headers=bearer(token))
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"


def test_serve_processes_on_two_ports_share_the_configured_issuer(tmp_path: Path, database_url: str,
                                                                  catalogue_dir: Path) -> None:
    env = serve_env(database_url, tmp_path / "data", catalogues=str(catalogue_dir),
                    token_issuer="https://data.example.gov.cn")
    with serving(env, tmp_path / "a.log") as a, serving(env, tmp_path / "b.log") as b:
        with httpx.Client(base_url=a.url, timeout=30) as http_a, httpx.Client(base_url=b.url, timeout=30) as http_b:
            licensed = licensed_enterprise(http_a, database_url)  # type: ignore[arg-type]
            token = licensed.token(http_a)  # type: ignore[arg-type]
            assert http_b.get(ROWS, headers=bearer(token)).status_code == 200
            assert http_a.get(ROWS, headers=bearer(licensed.token(http_b))).status_code == 200  # type: ignore[arg-type]


def test_the_migration_keeps_one_of_the_active_keys_a_race_left_behind(empty_database_url: str) -> None:
    from opendata.access.keys import new_signing_key
    from opendata.db import upgrade

    database = Database(empty_database_url)
    upgrade(database.engine, "0007")
    with database.session() as session:  # what concurrent first token requests used to leave
        made = [new_signing_key(None) for _ in range(3)]
        session.add_all(made)
        session.commit()
    newest = max(made, key=lambda key: key.created_at).kid
    upgrade(database.engine)
    with database.session() as session:
        active = session.scalars(select(SigningKey.kid).where(SigningKey.retired_at.is_(None))).all()
        assert active == [newest]
        assert session.scalar(select(func.count()).select_from(SigningKey)) == 3  # the others stay published
    database.dispose()
