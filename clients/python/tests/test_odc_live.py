"""The SDK against a real portal over a loopback socket: the same calls a user makes."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from odc_support import LivePortal, feedback_on
from opendata_client import (AsyncClient, Client, Comment, Dataset, OpenDataError, QuotaExceeded, Rating,
                             SearchResult, Version)


def test_search_and_metadata_are_typed(live_portal: LivePortal) -> None:
    with Client(live_portal.url) as od:
        result = od.search("公交", open_level="unconditional")
        assert isinstance(result, SearchResult) and [d.id for d in result.items] == ["bus-stops"]
        hit = result.items[0]
        assert hit.open_level is not None and hit.open_level.code == "unconditional"
        assert hit.publisher is not None and hit.publisher.id == "gz-transport"
        assert od.search(domain=["交通", "城市建设"]).total == 2
        people = od.dataset("people")
        assert isinstance(people, Dataset)
        fields = {f.name: f for f in people.resource("list").fields}
        assert fields["age"].type == "integer" and fields["person_id"].sensitivity.code == "L4"
        assert {p.id for p in od.publishers()} == {"gz-transport", "gz-hrss"}
        with pytest.raises(OpenDataError) as caught:
            od.dataset("no-such-dataset")
        assert caught.value.status == 404


def test_rows_pages_and_frames(live_portal: LivePortal) -> None:
    with Client(live_portal.url) as od:
        ages = [r["age"] for r in od.rows("people", "list", fields=["age"], sort="age", page_size=1)]
        assert ages == [24, 34, 39, 47]
        tianhe = od.fetch_rows("people", "list", district="天河区", age__in=[24, 47, 34])
        assert sorted(r["age"] for r in tianhe) == [24, 34] and tianhe.complete
        two = od.fetch_rows("people", "list", sort="age", page_size=1, max_rows=2)
        assert [r["age"] for r in two] == [24, 34] and two.stopped_by == "max_rows"
        frame = od.fetch_rows("people", "list", fields=["age", "joined", "income"], sort="age").to_pandas()
        assert str(frame["age"].dtype) == "Int64" and str(frame["joined"].dtype).startswith("datetime64")
        with pytest.raises(OpenDataError, match="unknown_field"):
            list(od.rows("people", "list", nope=1))


def test_download_with_progress(live_portal: LivePortal, tmp_path: Path) -> None:
    seen: list[int] = []
    with Client(live_portal.url) as od:
        path = od.download("people", "list", "csv", tmp_path / "people.csv", bom=True, member=True,
                           progress=lambda done, total: seen.append(done))
        content = path.read_bytes()
        assert content.startswith(b"\xef\xbb\xbf") and seen[-1] == len(content)
        assert sorted(r["age"] for r in csv.DictReader(content[3:].decode().splitlines())) == ["34", "47"]
        with pytest.raises(OpenDataError) as caught:
            od.download("si-headcount", "monthly", "csv", tmp_path / "x.csv")
        assert caught.value.code == "licence_required" and not (tmp_path / "x.csv").exists()


def test_licensed_rows_with_client_credentials_stop_at_the_quota(live_portal: LivePortal) -> None:
    """5 rows, a quota of 3 a day: the rows fetched are kept, nothing is lost."""
    with Client(live_portal.url, client_id=live_portal.client_id, client_secret=live_portal.client_secret) as od:
        rows = od.fetch_rows("si-headcount", "monthly", fields=["month", "headcount"], sort="month", page_size=2)
        assert [r["headcount"] for r in rows] == [31, 32, 33]
        assert rows.stopped_by == "quota" and rows.next_cursor and isinstance(rows.error, QuotaExceeded)
        assert rows.error.retry_after and rows.error.retry_after > 0
        with pytest.raises(QuotaExceeded) as caught:
            list(od.rows("si-headcount", "monthly", fields=["month", "headcount"], sort="month",
                         cursor=rows.next_cursor))
        assert caught.value.fetched == 0 and caught.value.status == 429


def test_async_client_against_the_portal(live_portal: LivePortal, tmp_path: Path) -> None:
    async def journey() -> tuple[list[str], list[int], int]:
        async with AsyncClient(live_portal.url) as od:
            found = [d.id for d in (await od.search("公交")).items]
            ages = [r["age"] async for r in od.rows("people", "list", fields=["age"], sort="age", page_size=3)]
            path = await od.download("bus-stops", "stops", "csv", tmp_path / "stops.csv")
            return found, ages, len(path.read_text(encoding="utf-8").splitlines())

    found, ages, lines = asyncio.run(journey())
    assert found == ["bus-stops"] and ages == [24, 34, 39, 47] and lines == 4


def test_versions_rating_and_comments_are_typed(live_portal: LivePortal) -> None:
    with Client(live_portal.url) as od:
        [first] = od.versions("people")
        assert isinstance(first, Version) and first.number == 1 and first.resource == "list"
        assert first.row_count == 4 and first.added == 4 and first.removed == 0
        assert first.created_at is not None and first.created_at.tzinfo is not None
        detail = od.version("people", 1)
        assert detail.number == 1 and isinstance(detail.samples, dict) and detail.raw["number"] == 1
        with pytest.raises(OpenDataError) as caught:
            od.version("people", 99)
        assert caught.value.status == 404
        assert od.rating("people") == Rating(None, 0, {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}, None)

        comment_id = feedback_on(live_portal, "people", od.dataset("people").publisher.id)
        rating = od.rating("people")
        assert (rating.average, rating.count, rating.distribution[4], rating.distribution[2]) == (3.0, 2, 1, 1)
        page = od.comments("people")
        [problem] = page.items
        assert isinstance(problem, Comment) and page.total == 1 and problem.id == comment_id
        assert (problem.kind, problem.category, problem.body) == ("problem", "outdated", "年龄一列似乎没有更新。")
        [reply] = problem.replies
        assert (reply.body, reply.author_role) == ("已核实，下月更新。", "publisher")
        assert od.comments("people", page=2).items == []

    async def read() -> tuple[list[int], float | None, int]:
        async with AsyncClient(live_portal.url) as aod:
            numbers = [v.number for v in await aod.versions("people")]
            return numbers, (await aod.rating("people")).average, (await aod.comments("people")).total

    assert asyncio.run(read()) == ([1], 3.0, 1)
