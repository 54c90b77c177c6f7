"""The catalogue API over HTTP: search, facets, metadata, publishers, domains, errors."""

from __future__ import annotations

from litestar.testing import TestClient


def test_search_lists_everything_with_facets(client: TestClient) -> None:
    body = client.get("/api/v1/datasets").json()
    assert body["total"] == 3 and len(body["items"]) == 3
    facets = body["facets"]
    assert {f["value"]: f["count"] for f in facets["open_level"]} == {
        "unconditional": 1, "conditional": 1, "closed": 1,
    }
    assert {f["value"]: f["count"] for f in facets["domain"]} == {"transport": 1, "social_security": 2}
    assert facets["domain"][0] == {"value": "social_security", "count": 2, "label_zh": "社会保障", "label_en": "Social security"}
    assert {f["value"] for f in facets["publisher"]} == {"gz-transport", "gz-hrss"}
    assert {f["value"] for f in facets["format"]} == {"csv"}
    assert {f["value"] for f in facets["tag"]} == {"公交", "bus", "社保"}


def test_chinese_substring_search(client: TestClient) -> None:
    body = client.get("/api/v1/datasets", params={"q": "公交"}).json()
    assert [d["id"] for d in body["items"]] == ["bus-stops"]
    # a substring inside a title, with no spaces around it
    assert client.get("/api/v1/datasets", params={"q": "缴费基"}).json()["total"] == 1
    # field titles of the data dictionary are searchable too
    assert [d["id"] for d in client.get("/api/v1/datasets", params={"q": "身份证"}).json()["items"]] == ["personal-si-base"]
    # several words must all match
    assert client.get("/api/v1/datasets", params={"q": "社保 人数"}).json()["total"] == 1


def test_english_search_is_case_insensitive(client: TestClient) -> None:
    body = client.get("/api/v1/datasets", params={"q": "BUS Stops"}).json()
    assert [d["id"] for d in body["items"]] == ["bus-stops"]


def test_filters_combine_and_facets_follow_them(client: TestClient) -> None:
    body = client.get("/api/v1/datasets", params={"domain": "社会保障", "open_level": "closed"}).json()
    assert [d["id"] for d in body["items"]] == ["personal-si-base"]
    assert body["facets"]["open_level"] == [
        {"value": "closed", "count": 1, "label_zh": "不予开放", "label_en": "Closed"}
    ]
    assert client.get("/api/v1/datasets", params={"tag": "社保"}).json()["total"] == 1
    assert client.get("/api/v1/datasets", params={"publisher": "gz-hrss"}).json()["total"] == 2
    assert client.get("/api/v1/datasets", params={"format": "xlsx"}).json()["total"] == 0
    both = client.get("/api/v1/datasets", params=[("open_level", "closed"), ("open_level", "conditional")])
    assert both.json()["total"] == 2


def test_sort_and_paging(client: TestClient) -> None:
    first = client.get("/api/v1/datasets", params={"sort": "id", "page_size": 2}).json()
    second = client.get("/api/v1/datasets", params={"sort": "id", "page_size": 2, "page": 2}).json()
    assert [d["id"] for d in first["items"]] == ["bus-stops", "personal-si-base"]
    assert [d["id"] for d in second["items"]] == ["si-headcount"]
    assert first["total"] == second["total"] == 3


def test_search_with_no_match_is_empty_not_an_error(client: TestClient) -> None:
    body = client.get("/api/v1/datasets", params={"q": "不存在的东西"}).json()
    assert body["total"] == 0 and body["items"] == [] and body["facets"]["domain"] == []


def test_wildcards_and_punctuation_match_nothing(client: TestClient) -> None:
    # The index matches tokens, so neither LIKE wildcards nor FTS5/tsquery operators have
    # any meaning in a query, and a word of punctuation alone matches no dataset.
    for q in ("%", "_", '"', "'", "*", "社保 %", "(", "NEAR(", "!", "\\", ":*"):
        body = client.get("/api/v1/datasets", params={"q": q})
        assert body.status_code == 200, q
        assert body.json()["total"] == 0, q
    # Operator words are plain words: no error, and they match only where they are written.
    for q in ("OR", "a AND", "NOT 公交", "公交 OR 社保"):
        assert client.get("/api/v1/datasets", params={"q": q}).status_code == 200, q
    assert client.get("/api/v1/datasets", params={"q": "公交 OR 社保"}).json()["total"] == 0


def test_bad_search_parameters_are_400_with_codes(client: TestClient) -> None:
    cases = {
        ("sort", "popularity"): "invalid_sort",
        ("page", "0"): "invalid_page",
        ("page_size", "1000"): "invalid_page_size",
        ("open_level", "semi"): "unknown_open_level",
        ("domain", "weather"): "unknown_domain",
        ("page", "abc"): "invalid_parameter",
    }
    for (key, value), code in cases.items():
        response = client.get("/api/v1/datasets", params={key: value})
        assert response.status_code == 400, (key, value)
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]


def test_dataset_metadata_with_dictionary(client: TestClient) -> None:
    body = client.get("/api/v1/datasets/personal-si-base").json()
    assert body["open_level"] == {"code": "closed", "zh": "不予开放", "en": "Closed"}
    assert body["publisher"]["name_zh"] == "广州市人力资源和社会保障局"
    (resource,) = body["resources"]
    assert resource["row_count"] == 1 and resource["tabular"] is True
    id_field = resource["fields"][0]
    assert id_field["mask"] == "keep_first_last:6:4"
    assert id_field["sensitivity"] == {"code": "L4", "zh": "高度敏感", "en": "Highly sensitive"}
    assert body["update_frequency"]["zh"] == "每月" and body["version"] == "1"


def test_unknown_dataset_is_404_json(client: TestClient) -> None:
    response = client.get("/api/v1/datasets/nope")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "dataset 'nope' does not exist"}}


def test_publishers_and_domains_with_counts(client: TestClient) -> None:
    publishers = {p["id"]: p["dataset_count"] for p in client.get("/api/v1/publishers").json()}
    assert publishers == {"gz-hrss": 2, "gz-transport": 1}
    domains = client.get("/api/v1/domains").json()
    assert domains[0]["code"] == "transport" and domains[0]["dataset_count"] == 1
    assert {d["zh"] for d in domains} >= {"交通", "医疗卫生", "教育", "生态环境", "市场监管", "社会保障", "财税金融", "城市建设"}


def test_openapi_documents_the_catalogue(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/datasets" in schema["paths"]
    assert "/api/v1/datasets/{dataset_id}" in schema["paths"]
    assert "SearchResponse" in str(schema["components"])
