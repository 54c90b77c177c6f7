"""The search's paths for large catalogues (search/ranked.py, search/docvalues.py).

Past RANK_BUDGET matches only a bounded set is ranked; these tests shrink the budget on
the demo catalogue so that the bounded path runs, and check that it finds, counts and
pages exactly what the exact path does. The facet columns kept in memory must follow
edits (a new tag filters and counts at once), and SQLite never gives a new document the
id of a deleted one (the columns of a known id never change).
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from opendata.db import Database
from opendata.search import ranked
from opendata.search.models import SearchDocument
from tests.access.helpers import make_staff, sign_in

QUERIES = [{"q": "广州"}, {"q": "企业 信用"}, {"q": "数据", "open_level": "unconditional"},
           {"q": "市", "format": "csv"}]


def search(client: TestClient, **params: Any) -> dict:
    response = client.get("/api/v1/datasets", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def walk(client: TestClient, **params: Any) -> list[str]:
    """Every result, one page of 3 at a time."""
    found: list[str] = []
    total = search(client, **params, page_size=3)["total"]
    for page in range(1, total // 3 + 2):
        found += [d["id"] for d in search(client, **params, page_size=3, page=page)["items"]]
    return found


@pytest.mark.parametrize("params", QUERIES)
def test_a_bounded_ranking_finds_counts_and_pages_like_the_exact_one(
    demo_client: TestClient, params: dict, monkeypatch: pytest.MonkeyPatch,
) -> None:
    exact = search(demo_client, **params, page_size=100)
    exact_walk = walk(demo_client, **params)
    assert exact["total"] > 3, "the query must need the bounded path"
    monkeypatch.setattr(ranked, "RANK_BUDGET", 2)
    bounded = search(demo_client, **params, page_size=100)
    assert bounded["total"] == exact["total"]
    assert bounded["facets"] == exact["facets"]
    bounded_walk = walk(demo_client, **params)
    # every match exactly once, whatever the page size
    assert sorted(bounded_walk) == sorted(exact_walk) == sorted(d["id"] for d in exact["items"])
    assert len(set(bounded_walk)) == len(bounded_walk)
    assert [d["id"] for d in bounded["items"]] == bounded_walk


def test_title_matches_lead_in_the_bounded_ranking(demo_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranked, "RANK_BUDGET", 1)
    items = search(demo_client, q="公交", page_size=100)["items"]
    assert items[0]["id"] == "bus-stops"


def test_filters_and_facets_follow_an_edit_of_the_tags(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    before = search(client, q="公交")
    assert [d["id"] for d in before["items"]] == ["bus-stops"]
    response = client.patch("/api/v1/datasets/bus-stops", headers=sign_in(client, "admin"),
                            json={"tags": ["候车亭"]})
    assert response.status_code == 200, response.text
    after = search(client, q="公交")
    assert {f["value"]: f["count"] for f in after["facets"]["tag"]} == {"候车亭": 1}
    assert [d["id"] for d in search(client, q="公交", tag="候车亭")["items"]] == ["bus-stops"]
    old_tags = [f["value"] for f in before["facets"]["tag"]]
    assert old_tags and search(client, q="公交", tag=old_tags[0])["total"] == 0
    assert [d["id"] for d in search(client, tag="候车亭")["items"]] == ["bus-stops"]


def test_a_reindexed_dataset_never_gets_a_deleted_documents_id(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    database = Database(database_url)

    def doc_id() -> int:
        with database.session() as session:
            return session.scalar(select(SearchDocument.doc_id).where(SearchDocument.dataset_id == "bus-stops"))

    seen = [doc_id()]
    for tags in (["一"], ["二"]):
        assert client.patch("/api/v1/datasets/bus-stops", headers=sign_in(client, "admin"),
                            json={"tags": tags}).status_code == 200
        seen.append(doc_id())
        assert [f["value"] for f in search(client, q="公交")["facets"]["tag"]] == tags
    database.dispose()
    assert seen == sorted(set(seen)), seen
