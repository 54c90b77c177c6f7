"""The relevance test set: queries a user of the demo portal types, and what must come first.

Each case names the dataset(s) that must lead the results; most also say what must NOT be
found (the substring search found "bus" inside business_status, for instance).
"""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.search.conftest import ids

# query -> the datasets that must be the first results, in any order among themselves
LEADERS = {
    "公交": {"bus-stops"},
    "bus": {"bus-stops"},
    "BUS Stops": {"bus-stops"},
    "gongjiao": {"bus-stops"},                 # pinyin
    "gongjiaozhandian": {"bus-stops"},         # pinyin of a four-character word
    "巴士": {"bus-stops"},                      # synonym
    "公共汽车": {"bus-stops"},                  # synonym, four characters
    "学校": {"schools"},
    "school": {"schools"},
    "schools": {"schools"},                    # stemmed
    "医院": {"medical-institutions"},           # synonym of hospital / 医疗机构 titles
    "hospital": {"medical-institutions"},
    "停车": {"public-parking"},
    "parking": {"public-parking"},
    "图书馆": {"public-libraries"},
    "library": {"public-libraries"},
    "空气质量": {"air-quality-daily"},
    "纳税": {"tax-credit-ratings", "enterprise-tax-payments"},
    "税": {"tax-credit-ratings", "enterprise-tax-payments"},      # one character
    "社保": {"social-insurance-headcounts", "personal-social-insurance"},
    "tax credit": {"tax-credit-ratings"},      # both words in the title beat one
    "企业 纳税 信用": {"tax-credit-ratings"},
    "行政处罚": {"administrative-penalties"},
    "施工许可": {"construction-permits"},
    "农产品 价格": {"agri-wholesale-prices"},
}

NOT_FOUND = {
    "bus": {"enterprise-registrations"},   # its field business_status is an identifier
    "学校": {"bus-stops"},
}


@pytest.mark.parametrize("query", sorted(LEADERS))
def test_the_expected_datasets_lead(demo_client: TestClient, query: str) -> None:
    found = ids(demo_client, q=query)
    leaders = LEADERS[query]
    assert set(found[:len(leaders)]) == leaders, (query, found)


@pytest.mark.parametrize("query", sorted(NOT_FOUND))
def test_identifiers_and_unrelated_words_do_not_match(demo_client: TestClient, query: str) -> None:
    assert not set(ids(demo_client, q=query)) & NOT_FOUND[query]


def test_every_word_must_match(demo_client: TestClient) -> None:
    assert ids(demo_client, q="公交 纳税") == []
    assert ids(demo_client, q="企业 纳税") == ids(demo_client, q="纳税 企业")


def test_filters_narrow_a_query_and_sorts_apply(demo_client: TestClient) -> None:
    everything = ids(demo_client, q="企业", page_size="50")
    closed = ids(demo_client, q="企业", open_level="closed", page_size="50")
    assert closed and set(closed) < set(everything)
    by_id = ids(demo_client, q="企业", sort="id", page_size="50")
    assert by_id == sorted(everything)


def test_facets_count_exactly_the_matched_datasets(demo_client: TestClient) -> None:
    body = demo_client.get("/api/v1/datasets", params={"q": "企业", "page_size": 50}).json()
    items = body["items"]
    assert body["total"] == len(items)
    domains = {f["value"]: f["count"] for f in body["facets"]["domain"]}
    expected: dict[str, int] = {}
    for item in items:
        expected[item["domain"]["code"]] = expected.get(item["domain"]["code"], 0) + 1
    assert domains == expected
    tags = {f["value"]: f["count"] for f in body["facets"]["tag"]}
    for tag, count in tags.items():
        assert count == sum(tag in item["tags"] for item in items)
    formats = {f["value"]: f["count"] for f in body["facets"]["format"]}
    for fmt, count in formats.items():
        assert count == sum(fmt in item["formats"] for item in items)


def test_a_listing_without_words_counts_the_whole_catalogue(demo_client: TestClient) -> None:
    body = demo_client.get("/api/v1/datasets", params={"page_size": 50}).json()
    assert body["total"] == len(body["items"]) == 14
    assert sum(f["count"] for f in body["facets"]["open_level"]) == 14
    assert body["highlights"] == {} and body["did_you_mean"] is None
