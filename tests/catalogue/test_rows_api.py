"""GET .../rows: selection, filters, sort, keyset pages, totals, masks and refusals."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

PEOPLE = "/api/v1/datasets/people/resources/list/rows"
STOPS = "/api/v1/datasets/bus-stops/resources/stops/rows"


def rows(client: TestClient, url: str = PEOPLE, **params) -> dict:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_rows_carry_field_definitions_total_and_typed_values(data_client: TestClient) -> None:
    body = rows(data_client, sort="age")
    assert body["total"] == {"value": 4, "relation": "eq"}
    assert [f["name"] for f in body["fields"]][:3] == ["person_id", "name", "card"]  # phone dropped
    first = body["items"][0]
    assert first["age"] == 24 and first["income"] == 5600.5 and first["member"] is False
    assert first["joined"] == "2023-12-31" and first["score"] is None
    assert rows(data_client, sort="age", fields="income")["items"][1] == {"income": 12345.67}


def test_masks_apply_to_every_row_served(data_client: TestClient) -> None:
    items = rows(data_client, sort="age")["items"]
    by_district = {i["district"]: i for i in items}
    zhang = next(i for i in items if i["age"] == 34)
    assert zhang["name"] == "张**" and zhang["card"] == "************5678"
    assert re.fullmatch(r"[0-9a-f]{32}", zhang["person_id"])
    assert "440106199001011234" not in str(items)
    assert all("phone" not in i for i in items)
    assert next(i for i in items if i["age"] == 47)["card"] == "****"  # too short to keep 4
    assert by_district["荔湾区"]["name"] == "李*"
    # masked fields are typed as text in the field list
    assert {f["name"]: f["type"] for f in rows(data_client)["fields"]}["person_id"] == "string"


def test_the_hash_mask_is_stable_so_masked_ids_still_join(data_client: TestClient) -> None:
    one = rows(data_client, sort="age")["items"][0]["person_id"]
    two = rows(data_client, sort="age")["items"][0]["person_id"]
    assert one == two


@pytest.mark.parametrize(
    ("params", "ages"),
    [
        ({"district": "天河区"}, [24, 34]),
        ({"age__gte": "39"}, [39, 47]),
        ({"age__lt": "39", "member": "true"}, [34]),
        ({"age__in": "24,47"}, [24, 47]),
        ({"district__ne": "天河区"}, [39, 47]),
        ({"note__contains": "逗号"}, [39]),
        ({"income__isnull": "true"}, [47]),
        ({"joined__gt": "2019-12-31"}, [24, 34]),
        ({"income__lte": "8800"}, [24, 39]),
        ({"seen_at__gte": "2024-05-02T00:00:00"}, [24, 39]),
    ],
)
def test_filters(data_client: TestClient, params: dict, ages: list[int]) -> None:
    body = rows(data_client, sort="age", fields="age", **params)
    assert [i["age"] for i in body["items"]] == ages
    assert body["total"] == {"value": len(ages), "relation": "eq"}


def test_keyset_pages_walk_every_row_once_in_order(data_client: TestClient) -> None:
    for sort in ["age", "-income", "district,-age", "-score", "joined"]:
        seen, url, params = [], PEOPLE, {"sort": sort, "limit": 1, "fields": "age"}
        expected = [i["age"] for i in rows(data_client, sort=sort, fields="age")["items"]]
        while True:
            body = data_client.get(url, params=params).json()
            seen += [i["age"] for i in body["items"]]
            if not body["next"]:
                break
            params = {**params, "cursor": body["next"]}
        assert seen == expected, sort
    # NULLs sort last ascending, first descending
    assert rows(data_client, sort="income", fields="age")["items"][-1]["age"] == 47
    assert rows(data_client, sort="-income", fields="age")["items"][0]["age"] == 47


def test_next_link_keeps_filters(data_client: TestClient) -> None:
    body = rows(data_client, district="天河区", limit=1, fields="age", sort="age")
    follow = data_client.get(body["links"]["next"]).json()
    assert [i["age"] for i in follow["items"]] == [34] and follow["next"] is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"nope": "1"}, "unknown_field"),
        ({"sort": "nope"}, "unknown_field"),
        ({"fields": "age,nope"}, "unknown_field"),
        ({"age": "old"}, "invalid_filter_value"),
        ({"joined__gt": "yesterday"}, "invalid_filter_value"),
        ({"age__between": "1"}, "unknown_operator"),
        ({"age__contains": "3"}, "invalid_operator"),
        ({"name": "张三丰"}, "field_masked"),
        ({"sort": "person_id"}, "field_masked"),
        ({"phone": "138"}, "field_not_available"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "100000"}, "invalid_limit"),
        ({"cursor": "garbage!"}, "invalid_cursor"),
    ],
)
def test_bad_queries_are_400_with_codes(data_client: TestClient, params: dict, code: str) -> None:
    response = data_client.get(PEOPLE, params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_a_cursor_from_another_sort_is_refused(data_client: TestClient) -> None:
    cursor = rows(data_client, sort="age", limit=1)["next"]
    response = data_client.get(PEOPLE, params={"sort": "-age", "cursor": cursor})
    assert response.json()["error"]["code"] == "cursor_sort_mismatch"


def test_empty_table(data_client: TestClient) -> None:
    body = rows(data_client, "/api/v1/datasets/empty/resources/nothing/rows")
    assert body["items"] == [] and body["total"] == {"value": 0, "relation": "eq"} and body["next"] is None


def test_open_levels_decide_who_reads_rows(data_client: TestClient) -> None:
    assert data_client.get(STOPS).status_code == 200
    conditional = data_client.get("/api/v1/datasets/si-headcount/resources/monthly/rows")
    assert conditional.status_code == 403 and conditional.json()["error"]["code"] == "licence_required"
    closed = data_client.get("/api/v1/datasets/personal-si-base/resources/bases/rows")
    assert closed.status_code == 403 and closed.json()["error"]["code"] == "closed_dataset"
    # metadata stays public for both
    assert data_client.get("/api/v1/datasets/personal-si-base").status_code == 200


def test_unknown_dataset_or_resource_is_404(data_client: TestClient) -> None:
    assert data_client.get("/api/v1/datasets/nope/resources/x/rows").status_code == 404
    missing = data_client.get("/api/v1/datasets/bus-stops/resources/nope/rows")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_stats_count_views_queries_and_downloads(data_client: TestClient) -> None:
    data_client.get("/api/v1/datasets/bus-stops")
    data_client.get(STOPS)
    data_client.get(STOPS)
    data_client.get("/api/v1/datasets/bus-stops/resources/stops/download", params={"format": "csv"})
    data_client.get("/api/v1/datasets/bus-stops/resources/stops/download", params={"format": "xlsx"})
    data_client.get("/api/v1/datasets/bus-stops/resources/stops/download", params={"format": "xlsx"})
    body = data_client.get("/api/v1/stats").json()
    stops = next(d for d in body["datasets"] if d["dataset_id"] == "bus-stops")
    assert (stops["views"], stops["rows_queries"], stops["downloads"]) == (1, 2, 3)
    assert stops["downloads_by_format"] == {"csv": 1, "xlsx": 2}
    transport = next(p for p in body["publishers"] if p["publisher_id"] == "gz-transport")
    assert transport["downloads"] == 3 and transport["datasets"] == 2
    assert body["daily"][0]["downloads"] == 3
    assert data_client.get("/api/v1/stats", params={"since": "2999-01-01"}).json()["totals"]["downloads"] == 0
    assert data_client.get("/api/v1/stats", params={"since": "2024-02-01", "until": "2024-01-01"}).status_code == 400
