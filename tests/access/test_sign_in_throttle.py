"""Sign-in throttling over HTTP: back-off, lockout, administrator unlock, all audited,
per account and per client address, shared by every process on the database."""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from opendata import create_app
from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.settings import Settings
from tests.access.helpers import CREDIT_A, PASSWORD, make_staff, register_enterprise, sign_in

LOGIN = "/api/v1/auth/login"
WRONG = "not the password!"


def _login(client: TestClient, username: str, password: str = WRONG):  # noqa: ANN202
    return client.post(LOGIN, json={"username": username, "password": password})


def _records(database_url: str, action: str) -> list[AuditRecord]:
    database = Database(database_url)
    with database.session() as session:
        rows = list(session.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)))
    database.dispose()
    return rows


@pytest.fixture
def fast_settings(portal_settings: Settings) -> Settings:
    """No back-off delays, so that lockouts are reached at once."""
    return portal_settings.replace(signin_backoff_base_seconds=0.0)


@pytest.fixture
def fast_client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as test_client:
        yield test_client


def test_back_off_after_five_failures_refuses_even_the_right_password(client: TestClient,
                                                                       database_url: str) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    for _ in range(5):
        assert _login(client, "acme").status_code == 401
    throttled = _login(client, "acme", PASSWORD)
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["error"]["code"] == "sign_in_throttled"
    assert int(throttled.headers["retry-after"]) >= 1
    assert "acme" not in throttled.text  # the answer names no account
    refused = _records(database_url, "auth.login")[-1]
    assert (refused.outcome, refused.code, refused.target) == ("refused", "sign_in_throttled", "user:acme")
    time.sleep(1.2)  # the first back-off step is one second
    assert _login(client, "acme", PASSWORD).status_code == 200
    # a success starts the account afresh: five more failures before any wait
    for _ in range(5):
        assert _login(client, "acme").status_code == 401


def test_unknown_names_are_throttled_like_real_ones(client: TestClient) -> None:
    register_enterprise(client, "acme", CREDIT_A)
    answers = {}
    for name in ("acme", "nobody"):
        codes = [_login(client, name).status_code for _ in range(6)]
        answers[name] = codes
    assert answers["acme"] == answers["nobody"] == [401] * 5 + [429]


def test_lockout_and_administrator_unlock(fast_client: TestClient, database_url: str) -> None:
    client = fast_client
    register_enterprise(client, "acme", CREDIT_A)
    make_staff(database_url, "admin", "admin")
    admin = sign_in(client, "admin")
    enterprise = sign_in(client, "acme")
    for _ in range(10):
        assert _login(client, "acme@example.com").status_code == 401  # by e-mail: the same account
    locked = _login(client, "acme", PASSWORD)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "sign_in_locked"
    assert "administrator" in locked.json()["error"]["message"]
    assert 800 <= int(locked.headers["retry-after"]) <= 900
    lockout = _records(database_url, "auth.lockout")
    assert [r.target for r in lockout] == ["account:acme"]
    listed = client.get("/api/v1/admin/sign-in-locks", headers=admin).json()
    assert [(x["subject"], x["failures"]) for x in listed] == [("account:acme", 10)]
    assert listed[0]["locked_until"] is not None
    # only administrators unlock, and refusals are audited
    forbidden = client.post("/api/v1/admin/sign-in-locks/unlock", json={"subject": "account:acme"}, headers=enterprise)
    assert forbidden.status_code == 403
    assert _records(database_url, "auth.unlock")[-1].outcome == "refused"
    bad = client.post("/api/v1/admin/sign-in-locks/unlock", json={"subject": "acme"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_subject"
    unlocked = client.post("/api/v1/admin/sign-in-locks/unlock", json={"subject": "account:ACME"}, headers=admin)
    assert unlocked.status_code == 200, unlocked.text
    record = _records(database_url, "auth.unlock")[-1]
    assert (record.outcome, record.actor, record.target) == ("success", "user:admin", "account:acme")
    assert _login(client, "acme", PASSWORD).status_code == 200
    again = client.post("/api/v1/admin/sign-in-locks/unlock", json={"subject": "account:acme"}, headers=admin)
    assert again.status_code == 404


def test_an_address_is_throttled_across_accounts(fast_settings: Settings, database_url: str) -> None:
    settings = fast_settings.replace(signin_address_free_failures=3, signin_address_lockout_failures=6)
    with TestClient(create_app(settings)) as client:
        make_staff(database_url, "admin", "admin")
        admin = sign_in(client, "admin")
        for number in range(6):  # six names, one failure each: only the address adds up
            assert _login(client, f"guess{number}").status_code == 401
        locked = _login(client, "admin", PASSWORD)
        assert locked.status_code == 429 and locked.json()["error"]["code"] == "sign_in_locked"
        assert "network address" in locked.json()["error"]["message"]
        assert [r.target for r in _records(database_url, "auth.lockout")] == ["address:testclient"]
        unlocked = client.post("/api/v1/admin/sign-in-locks/unlock", json={"subject": "address:testclient"},
                               headers=admin)
        assert unlocked.status_code == 200
        assert _login(client, "admin", PASSWORD).status_code == 200


def test_processes_share_the_throttle(portal_settings: Settings) -> None:
    """Two portals on one database (as behind a load balancer): failures add up."""
    with TestClient(create_app(portal_settings)) as first, TestClient(create_app(portal_settings)) as second:
        register_enterprise(first, "acme", CREDIT_A)
        for number in range(5):
            assert _login(first if number % 2 else second, "acme").status_code == 401
        assert _login(second, "acme", PASSWORD).status_code == 429
        assert _login(first, "acme", PASSWORD).status_code == 429


def test_a_locked_account_is_not_told_apart_by_its_password(fast_client: TestClient) -> None:
    """During a lockout the password is not even checked: right and wrong look alike."""
    register_enterprise(fast_client, "acme", CREDIT_A)
    for _ in range(10):
        _login(fast_client, "acme")
    right, wrong = _login(fast_client, "acme", PASSWORD), _login(fast_client, "acme")
    assert (right.status_code, right.json()["error"]["code"]) == (wrong.status_code, wrong.json()["error"]["code"])


def test_a_burst_of_parallel_guesses_gets_no_more_than_the_free_failures(portal_settings: Settings) -> None:
    """Twelve guesses at the same instant through two portals: each attempt is claimed
    before its password is checked, so exactly five are checked and the rest wait."""
    from tests.access.test_concurrency import _together

    settings = portal_settings.replace(signin_backoff_base_seconds=60.0)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        register_enterprise(first, "acme", CREDIT_A)
        responses = _together(*[(lambda c=(first if n % 2 else second): _login(c, "acme")) for n in range(12)])
        codes = sorted(r.status_code for r in responses)
        assert codes == [401] * 5 + [429] * 7, codes
