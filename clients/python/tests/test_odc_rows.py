"""Row iterators, max_rows, the daily quota, typed frames and the async client, against
httpx.MockTransport."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from decimal import Decimal

import httpx
import pytest

from odc_support import FakePortal, Sleeps
from opendata_client import AsyncClient, MissingDependency, QuotaExceeded

ROWS = ("d", "r")


def test_rows_follow_the_cursor_through_every_page(fake: FakePortal, mock_client) -> None:
    assert [r["n"] for r in mock_client().rows(*ROWS, page_size=3)] == list(range(1, 11))
    assert fake.limits() == [3, 3, 3, 3]
    assert [r.url.params.get("cursor") for r in fake.requests] == [None, "3", "6", "9"]


def test_max_rows_stops_and_asks_for_no_more_than_it_keeps(fake: FakePortal, mock_client) -> None:
    od = mock_client()
    assert [r["n"] for r in od.rows(*ROWS, page_size=3, max_rows=7)] == list(range(1, 8))
    assert fake.limits() == [3, 3, 1] and fake.served == 7
    rows = od.fetch_rows(*ROWS, page_size=4, max_rows=6)
    assert len(rows) == 6 and not rows.complete and rows.stopped_by == "max_rows" and rows.next_cursor == "6"
    rest = od.fetch_rows(*ROWS, cursor=rows.next_cursor)
    assert [r["n"] for r in rest] == [7, 8, 9, 10] and rest.complete and rest.next_cursor is None
    assert list(od.rows(*ROWS, max_rows=0)) == []


def test_fetch_rows_at_the_quota_returns_what_it_fetched(fake: FakePortal, sleeps: Sleeps, mock_client) -> None:
    fake.quota = 5
    rows = mock_client().fetch_rows(*ROWS, page_size=2)
    assert [r["n"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows.stopped_by == "quota" and not rows.complete and rows.next_cursor == "5"
    assert isinstance(rows.error, QuotaExceeded) and rows.error.retry_after == 36000
    assert sleeps == []                      # the quota is not waited for
    assert fake.limits() == [2, 2, 2, 2]     # the portal clamped the third page to one row
    fake.quota, fake.served = None, 0        # the next day
    assert [r["n"] for r in mock_client().fetch_rows(*ROWS, cursor=rows.next_cursor)] == [6, 7, 8, 9, 10]


def test_rows_iterator_yields_everything_fetched_then_raises(fake: FakePortal, mock_client) -> None:
    fake.quota = 4
    kept = []
    with pytest.raises(QuotaExceeded) as caught:
        for row in mock_client().rows(*ROWS, page_size=3):
            kept.append(row["n"])
    assert kept == [1, 2, 3, 4]
    assert caught.value.fetched == 4 and caught.value.cursor == "4" and caught.value.status == 429


def test_typed_frames(fake: FakePortal, mock_client) -> None:
    rows = mock_client().fetch_rows(*ROWS, max_rows=3)
    assert [f.name for f in rows.fields] == ["n", "day", "amount", "ok"] and rows.total == 10
    pandas = pytest.importorskip("pandas")
    frame = rows.to_pandas()
    assert list(frame["n"]) == [1, 2, 3] and str(frame["n"].dtype) == "Int64"
    assert frame["day"].iloc[0] == pandas.Timestamp("2024-01-01")
    assert frame["amount"].iloc[1] == Decimal("2.50") and str(frame["ok"].dtype) == "boolean"
    pyarrow = pytest.importorskip("pyarrow")
    table = rows.to_arrow()
    assert table.schema.field("day").type == pyarrow.date32()
    assert table.column("day").to_pylist()[2] == date(2024, 1, 3)
    assert pyarrow.types.is_decimal(table.schema.field("amount").type)
    assert table.column("n").type == pyarrow.int64()


def test_frames_without_pandas_or_pyarrow_say_what_to_install(
        fake: FakePortal, mock_client, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = mock_client().fetch_rows(*ROWS, max_rows=1)
    monkeypatch.setitem(sys.modules, "pandas", None)     # import pandas now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependency, match=r"pip install 'opendata-client\[pandas\]'"):
        rows.to_pandas()
    with pytest.raises(ImportError, match=r"opendata-client\[arrow\]"):
        rows.to_arrow()


def test_async_client_walks_pages_and_stops_at_the_quota(fake: FakePortal, sleeps: Sleeps) -> None:
    fake.quota = 5

    async def walk() -> tuple[list[int], object, list[int]]:
        async with AsyncClient("http://portal.test", transport=httpx.MockTransport(fake),
                               sleep=sleeps.asleep) as od:
            kept = await od.fetch_rows(*ROWS, page_size=2)
            fake.quota, fake.served = None, 0
            streamed = [row["n"] async for row in od.rows(*ROWS, page_size=4, cursor=kept.next_cursor)]
            return [r["n"] for r in kept], kept.stopped_by, streamed

    kept, stopped_by, streamed = asyncio.run(walk())
    assert kept == [1, 2, 3, 4, 5] and stopped_by == "quota" and streamed == [6, 7, 8, 9, 10]


def test_async_client_retries_after_connection_errors(fake: FakePortal, sleeps: Sleeps) -> None:
    fake.script = [httpx.ConnectError("refused"), httpx.Response(503, headers={"Retry-After": "2"})]

    async def one_page() -> int:
        async with AsyncClient("http://portal.test", transport=httpx.MockTransport(fake),
                               sleep=sleeps.asleep) as od:
            return len((await od.rows_page(*ROWS)).items)

    assert asyncio.run(one_page()) == 10
    assert len(sleeps) == 2 and sleeps[1] == 2.0


def test_async_tasks_share_one_token(fake: FakePortal) -> None:
    tokens = []

    def portal(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/token":
            tokens.append(request)
            return httpx.Response(200, json={"access_token": "t", "expires_in": 300})
        assert request.headers["Authorization"] == "Bearer t"
        return fake(request)

    async def many() -> list[int]:
        async with AsyncClient("http://portal.test", client_id="odc_1", client_secret="s",
                               transport=httpx.MockTransport(portal)) as od:
            pages = await asyncio.gather(*(od.rows_page(*ROWS, limit=2) for _ in range(5)))
            return [len(p.items) for p in pages]

    assert asyncio.run(many()) == [2] * 5 and len(tokens) == 1
