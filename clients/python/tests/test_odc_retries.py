"""Retries with back-off, Retry-After, and connection errors, against httpx.MockTransport."""

from __future__ import annotations

from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from odc_support import FakePortal, Sleeps, error
from opendata_client import NO_RETRY, OpenDataError, PortalUnreachable, QuotaExceeded, RetryPolicy

ROWS = ("d", "r")


def test_5xx_is_retried_with_doubling_back_off(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.script = [error(503, "busy"), error(502, "bad_gateway"), error(500, "internal_error")]
    od = mock_client(retry=RetryPolicy(attempts=5, backoff=0.5))
    page = od.rows_page(*ROWS, limit=2)
    assert [r["n"] for r in page.items] == [1, 2]
    assert len(fake.requests) == 4 and len(sleeps) == 3
    # exponential: 0.5, 1, 2 nominal, each with up to 25 % jitter below
    for wait, nominal in zip(sleeps, [0.5, 1.0, 2.0]):
        assert 0.75 * nominal <= wait <= nominal


def test_retry_after_is_obeyed_in_seconds_and_as_a_date(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    fake.script = [error(429, "rate_limited", headers={"Retry-After": "7"}),
                   error(503, "busy", headers={"Retry-After": soon})]
    od = mock_client()
    assert len(od.rows_page(*ROWS).items) == 10
    assert sleeps[0] == 7.0
    assert 25 <= sleeps[1] <= 30


def test_a_retry_after_too_long_is_raised_not_waited(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.script = [error(503, "maintenance", headers={"Retry-After": "3600"})]
    od = mock_client(retry=RetryPolicy(max_retry_after=120))
    with pytest.raises(OpenDataError) as caught:
        od.rows_page(*ROWS)
    assert caught.value.status == 503 and caught.value.retry_after == 3600.0
    assert sleeps == [] and len(fake.requests) == 1


def test_the_daily_quota_is_never_retried(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.script = [error(429, "quota_exceeded", headers={"Retry-After": "60"})]
    with pytest.raises(QuotaExceeded):
        mock_client().rows_page(*ROWS)
    assert sleeps == [] and len(fake.requests) == 1


def test_errors_that_will_not_change_are_not_retried(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.script = [error(404, "not_found", "no dataset 'd'")]
    with pytest.raises(OpenDataError) as caught:
        mock_client().dataset("d")
    assert (caught.value.status, caught.value.code, caught.value.message) == (404, "not_found", "no dataset 'd'")
    assert sleeps == []


def test_retries_end_with_the_last_answer(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.script = [error(503, "busy")] * 3
    with pytest.raises(OpenDataError, match="503 busy"):
        mock_client(retry=RetryPolicy(attempts=3)).rows_page(*ROWS)
    assert len(fake.requests) == 3 and len(sleeps) == 2


def test_connection_errors_are_retried_then_become_portal_unreachable(
        fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.script = [httpx.ConnectError("connection refused"), httpx.ReadTimeout("timed out")]
    assert len(mock_client().rows_page(*ROWS).items) == 10
    assert len(sleeps) == 2

    fake.script = [httpx.ConnectError("connection refused")] * 3
    with pytest.raises(PortalUnreachable) as caught:
        mock_client(retry=RetryPolicy(attempts=3)).search("x")
    assert isinstance(caught.value, OpenDataError) and caught.value.status == 0
    assert "http://portal.test" in str(caught.value) and "connection refused" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_no_retry_policy_sends_once(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.script = [error(503, "busy")]
    with pytest.raises(OpenDataError):
        mock_client(retry=NO_RETRY).rows_page(*ROWS)
    assert len(fake.requests) == 1 and sleeps == []


def test_client_credentials_token_is_fetched_once_and_renewed_after_a_token_401(
        fake: FakePortal, mock_client) -> None:
    tokens = iter(["t1", "t2"])
    answers = {"token": 0}

    def portal(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/token":
            answers["token"] += 1
            assert request.headers["Authorization"].startswith("Basic ")
            return httpx.Response(200, json={"access_token": next(tokens), "expires_in": 300, "token_type": "Bearer"})
        if request.headers.get("Authorization") == "Bearer t1" and fake.requests:  # t1 worked once
            return error(401, "token_revoked")
        return fake(request)

    fake.script = []
    from opendata_client import Client

    with Client("http://portal.test", client_id="odc_1", client_secret="s", transport=httpx.MockTransport(portal)) as od:
        assert len(od.rows_page(*ROWS).items) == 10          # with t1
        assert len(od.rows_page(*ROWS).items) == 10          # t1 refused: renewed to t2, sent again
    assert answers["token"] == 2
    assert fake.requests[-1].headers["Authorization"] == "Bearer t2"


def test_token_endpoint_errors_keep_the_oauth_code(mock_client) -> None:
    def portal(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client", "error_description": "unknown client"})

    from opendata_client import Client

    with Client("http://portal.test", client_id="odc_1", client_secret="bad",
                transport=httpx.MockTransport(portal)) as od, pytest.raises(OpenDataError) as caught:
        od.search()
    assert (caught.value.status, caught.value.code, caught.value.message) == (401, "invalid_client", "unknown client")
    with pytest.raises(ValueError, match="both"):
        Client("http://portal.test", client_id="odc_1")
