"""Related datasets on the dataset page (zh/en) and GET /api/v1/datasets/{id}/related."""

from __future__ import annotations

from typing import Any

from tests.portal.visuals_catalogue import visuals_client  # noqa: F401  (fixture)


def test_related_are_ranked_by_shared_tags_then_domain_then_publisher(visuals_client: Any) -> None:
    found = visuals_client.get("/api/v1/datasets/stops-map/related")
    assert found.status_code == 200, found.text
    items = found.json()
    ids = [item["dataset"]["id"] for item in items]
    # stops-licensed shares 公交 and 地图 (2 tags x 3 + domain 2 + publisher 1 = 9), stops-masked
    # 地图 (3 + 2 + 1 = 6), ridership nothing but domain and publisher (3), stops-dropped only the
    # publisher (1); jobs shares nothing and is absent.
    assert ids == ["stops-licensed", "stops-masked", "ridership", "stops-dropped"]
    assert [item["score"] for item in items] == [9, 6, 3, 1]
    assert items[0]["shared_tags"] == ["公交", "地图"] and items[0]["same_domain"] and items[0]["same_publisher"]
    assert items[3]["same_domain"] is False and items[3]["shared_tags"] == []
    assert "jobs" not in ids and "stops-map" not in ids
    assert [i["dataset"]["id"] for i in visuals_client.get("/api/v1/datasets/stops-map/related?limit=1").json()] \
        == ["stops-licensed"]
    assert visuals_client.get("/api/v1/datasets/jobs/related").json() == []


def test_related_bad_input_is_a_clear_error(visuals_client: Any) -> None:
    for limit in ("0", "21", "x"):
        refused = visuals_client.get(f"/api/v1/datasets/stops-map/related?limit={limit}")
        assert refused.status_code == 400, limit
        assert set(refused.json()["error"]) >= {"code", "message"}
    missing = visuals_client.get("/api/v1/datasets/nope/related")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_dataset_page_lists_related_datasets_in_both_languages(visuals_client: Any) -> None:
    zh = visuals_client.get("/datasets/stops-map?lang=zh").text
    section = zh[zh.index('data-testid="related"'):]
    assert section.index("related-stops-licensed") < section.index("related-stops-masked")
    assert 'href="/datasets/stops-licensed"' in section and "授权站点位置" in section
    assert "相同标签：公交、地图" in section and "同一数源部门" in section and "有条件开放" in section
    en = visuals_client.get("/datasets/stops-map?lang=en").text
    section = en[en.index('data-testid="related"'):]
    assert "Related datasets" in section and "Same publisher" in section
    # Chinese tags (the dataset has no English ones) marked as Chinese on the English page
    assert 'Shared tags: <span lang="zh-CN">公交</span>, <span lang="zh-CN">地图</span>' in section
    alone = visuals_client.get("/datasets/jobs?lang=en").text
    assert "No dataset shares a tag, the domain or the publisher." in alone
