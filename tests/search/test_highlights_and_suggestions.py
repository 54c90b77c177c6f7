"""What a searcher sees: matched words marked (safely), and "did you mean" on zero hits."""

from __future__ import annotations

import re

from litestar.testing import TestClient


def test_matched_words_are_marked_in_titles_and_descriptions(demo_client: TestClient) -> None:
    body = demo_client.get("/api/v1/datasets", params={"q": "公交 bus"}).json()
    marked = body["highlights"]["bus-stops"]
    assert "<mark>公交</mark>" in marked["title_zh"]
    assert "<mark>bus</mark>" in marked["title_en"]
    assert "<mark>" in marked["description_zh"]


def test_a_synonym_match_marks_the_word_that_matched(demo_client: TestClient) -> None:
    marked = demo_client.get("/api/v1/datasets", params={"q": "巴士"}).json()["highlights"]["bus-stops"]
    assert "<mark>公交</mark>" in marked["title_zh"]


def test_did_you_mean_corrects_homophones_and_typos(demo_client: TestClient) -> None:
    for typed, meant in (("公胶", "公交"), ("libary", "library"), ("scool", "schools")):
        body = demo_client.get("/api/v1/datasets", params={"q": typed}).json()
        assert body["total"] == 0 and body["did_you_mean"] == meant, typed
        assert demo_client.get("/api/v1/datasets", params={"q": meant}).json()["total"] > 0


def test_no_suggestion_when_nothing_close_exists(demo_client: TestClient) -> None:
    body = demo_client.get("/api/v1/datasets", params={"q": "zzqxv"}).json()
    assert body["total"] == 0 and body["did_you_mean"] is None


def test_the_portal_shows_marks_and_the_suggestion(demo_client: TestClient) -> None:
    page = demo_client.get("/datasets", params={"q": "公交"}).text
    assert "<mark>公交</mark>" in page
    miss = demo_client.get("/datasets", params={"q": "公胶"}).text
    assert 'data-testid="did-you-mean"' in miss and "q=%E5%85%AC%E4%BA%A4" in miss


def test_markup_in_a_query_is_never_echoed_unescaped(demo_client: TestClient) -> None:
    for q in ("<script>alert(1)</script> 公交", "公交 <img src=x onerror=alert(1)>", '"><b>公交'):
        body = demo_client.get("/api/v1/datasets", params={"q": q}).json()
        for fields in body["highlights"].values():
            for value in fields.values():
                assert not re.search(r"<(?!/?mark>)", value), value
        page = demo_client.get("/datasets", params={"q": q}).text
        assert "<script>alert" not in page and "<img src=x" not in page
