"""Races that must have exactly one winner, on SQLite and (really racing) on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from litestar.testing import TestClient
from sqlalchemy import func, select

from opendata import create_app, localtime
from opendata.access import applications, quotas
from opendata.access.applications import Approval
from opendata.access.models import Licence, User
from opendata.access.principals import Principal
from opendata.audit.chain import verify_chain
from opendata.audit.service import NO_REQUEST
from opendata.db import Database
from opendata.errors import AppError
from opendata.settings import Settings
from tests.access.helpers import (
    CREDIT_A, licensed_enterprise, make_staff, register_enterprise, sign_in, submitted_application,
)


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls on their own threads, released at the same instant."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except AppError as error:
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_admins_approving_at_once_make_one_licence(client: TestClient, portal_settings: Settings,
                                                       database_url: str) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    enterprise = sign_in(client, "acme")
    make_staff(database_url, "admin1", "admin")
    make_staff(database_url, "admin2", "admin")
    first, second = sign_in(client, "admin1"), sign_in(client, "admin2")
    # A second portal process on the same database, as behind a load balancer.
    with TestClient(create_app(portal_settings)) as other:
        for _ in range(3):
            application_id = submitted_application(client, enterprise)
            url = f"/api/v1/applications/{application_id}/approve"
            responses = _together(lambda: client.post(url, json={}, headers=first),
                                  lambda: other.post(url, json={}, headers=second))
            assert sorted(r.status_code for r in responses) == [200, 409]
            loser = next(r for r in responses if r.status_code == 409)
            assert loser.json()["error"]["code"] == "invalid_transition"
            events = client.get(f"/api/v1/applications/{application_id}", headers=enterprise).json()["events"]
            assert [e["command"] for e in events].count("approve") == 1
            database = Database(database_url)
            with database.session() as session:
                assert session.scalar(select(func.count()).where(Licence.application_id == application_id)) == 1
            database.dispose()


def _principal(session: Any, username: str) -> Principal:
    user = session.scalars(select(User).where(User.username == username)).one()
    return Principal(user, None, "test")  # type: ignore[arg-type]


def test_stale_reads_cannot_both_approve(client: TestClient, database_url: str) -> None:
    """Both deciders have read the application as submitted before either writes: the
    compare-and-set on the state column still lets only one through."""
    register_enterprise(client, "acme", CREDIT_A)
    application_id = submitted_application(client, sign_in(client, "acme"))
    make_staff(database_url, "admin1", "admin")
    make_staff(database_url, "admin2", "admin")
    database = Database(database_url)
    sessions = [database.sessions(), database.sessions()]
    seen = [applications.load(s, application_id) for s in sessions]
    assert [a.state for a in seen] == ["submitted", "submitted"]  # type: ignore[union-attr]

    def approve(index: int) -> Any:
        session = sessions[index]
        licence = applications.decide(session, _principal(session, f"admin{index + 1}"), seen[index],  # type: ignore[arg-type]
                                      "approve", None, NO_REQUEST, Approval())
        session.commit()
        return licence

    results = _together(lambda: approve(0), lambda: approve(1))
    winners = [r for r in results if isinstance(r, Licence)]
    losers = [r for r in results if isinstance(r, AppError)]
    assert len(winners) == 1 and len(losers) == 1 and losers[0].code == "invalid_transition"
    for session in sessions:
        session.close()
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Licence)) == 1
        assert verify_chain(session).intact
    database.dispose()


def test_concurrent_quota_charges_never_pass_the_limit(client: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(client, database_url)
    limit = 7
    database = Database(database_url)
    day = localtime.local_day(localtime.zone())

    def charge() -> int | None:
        with database.session() as session:
            used = quotas.charge(session, licensed.licence_id, "downloads", 1, limit, day)
            session.commit()
            return used

    results = _together(*[charge for _ in range(20)])
    charged = sorted(r for r in results if r is not None)
    assert charged == list(range(1, limit + 1))
    assert results.count(None) == 20 - limit
    database.dispose()
