"""Ratings and comments on the portal: the dataset page's section and forms, escaping,
CSRF, the publisher's list, moderation with a confirmation and a reason; JSON-LD and CKAN."""

from __future__ import annotations

import json
import re

from litestar.testing import TestClient

from opendata.feedback.models import CommentReply, DatasetComment, DatasetRating
from opendata.portal.security import CSRF_FIELD
from tests.portal.helpers import count_rows, make_staff, post_form, register_developer, sign_in, sign_out, text_of

PAGE = "/datasets/bus-stops"
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def json_ld(html: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def comment_id(database_url: str) -> int:
    from sqlalchemy import select

    from opendata.db import Database

    database = Database(database_url)
    with database.session() as session:
        found = session.scalar(select(DatasetComment.id).order_by(DatasetComment.id.desc()).limit(1))
    database.dispose()
    assert found is not None
    return found


def test_rate_comment_reply_and_moderate_through_the_pages(client: TestClient, database_url: str) -> None:
    anonymous = client.get(PAGE).text
    assert "还没有人评分" in anonymous and 'href="/login?next=/datasets/bus-stops%23feedback"' in anonymous
    assert "aggregateRating" not in json_ld(anonymous)
    assert post_form(client, f"{PAGE}/rating", {"stars": "5"}).headers["location"].startswith("/login")

    register_developer(client, "ann")
    saved = post_form(client, f"{PAGE}/rating", {"stars": "4"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?notice=rating_saved#feedback"
    page = client.get(PAGE).text
    assert 'data-testid="rating-average">4.0<' in page and 'data-testid="my-rating">4 星<' in page
    assert json_ld(page)["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.0, "ratingCount": 1,
                                                "bestRating": 5, "worstRating": 1}
    bad = post_form(client, f"{PAGE}/rating", {"stars": "9"})
    assert bad.status_code == 400 and "评分须为 1 到 5 的整数星" in bad.text
    assert post_form(client, f"{PAGE}/rating", {"stars": "2"}).status_code == 303  # changes it
    assert count_rows(database_url, DatasetRating) == 1
    missing_token = client.post(f"{PAGE}/rating", data={"stars": "5"}, follow_redirects=False)
    assert missing_token.status_code == 403

    posted = post_form(client, f"{PAGE}/comments", {"kind": "problem", "category": "broken_link", "body": SCRIPT})
    assert posted.status_code == 303
    page = client.get(PAGE).text
    assert SCRIPT not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page  # escaped
    assert "链接失效" in page and "待处理" in page
    too_long = post_form(client, f"{PAGE}/comments", {"kind": "comment", "body": "长" * 2001})
    assert too_long.status_code == 400 and "有字段超出长度限制" in too_long.text
    no_category = post_form(client, f"{PAGE}/comments", {"kind": "problem", "category": "", "body": "有问题"})
    assert no_category.status_code == 400 and 'data-testid="comment-form"' in no_category.text
    assert "有问题" in no_category.text  # the form comes back filled in
    assert count_rows(database_url, DatasetComment) == 1
    problem = comment_id(database_url)
    assert post_form(client, f"/comments/{problem}/reply", {"body": "我来答复"}).status_code == 403
    sign_out(client)

    make_staff(database_url, "hrss", "publisher", "gz-hrss")
    sign_in(client, "hrss")
    assert "发布答复" not in client.get(PAGE).text
    refused = post_form(client, f"/comments/{problem}/reply", {"body": "不是我们部门的"})
    assert refused.status_code == 403 and count_rows(database_url, CommentReply) == 0
    assert post_form(client, f"/comments/{problem}/status", {"status": "resolved"}).status_code == 403
    assert 'data-testid="awaiting"' in client.get("/publisher/feedback").text
    assert "没有待答复的评论" in client.get("/publisher/feedback").text
    sign_out(client)

    make_staff(database_url, "transport", "publisher", "gz-transport")
    sign_in(client, "transport")
    awaiting = client.get("/publisher/feedback").text
    assert f'data-testid="comment-{problem}"' in awaiting
    assert post_form(client, f"/comments/{problem}/reply", {"body": "已修复下载链接。"}).status_code == 303
    assert post_form(client, f"/comments/{problem}/status", {"status": "resolved"}).status_code == 303
    page = client.get(PAGE).text
    assert "数源部门答复" in page and "已修复下载链接。" in page and "已解决" in page
    assert "没有待答复的评论" in client.get("/publisher/feedback").text
    assert client.get("/admin/feedback", follow_redirects=False).status_code == 403
    sign_out(client)

    make_staff(database_url, "root", "admin")
    sign_in(client, "root")
    confirm = client.get(f"/admin/comments/{problem}/hide")
    assert confirm.status_code == 200 and 'data-testid="hide-confirm"' in confirm.text
    no_reason = post_form(client, f"/admin/comments/{problem}/hide", {"reason": ""})
    assert no_reason.status_code == 400 and "有必填项未填写" in no_reason.text
    hidden = post_form(client, f"/admin/comments/{problem}/hide", {"reason": "含恶意脚本"})
    assert hidden.status_code == 303
    moderation = client.get("/admin/feedback?show=hidden").text
    assert f'data-testid="hidden-{problem}"' in moderation and "含恶意脚本" in moderation
    assert f'data-testid="hidden-{problem}"' in client.get(PAGE).text  # admins still see it, marked
    sign_out(client)
    assert "已修复下载链接。" not in client.get(PAGE).text  # gone for the public
    assert "评论与问题反馈（0）" in text_of(client.get(PAGE).text).replace(" ", "")

    sign_in(client, "root")
    assert post_form(client, f"/admin/comments/{problem}/restore").status_code == 303
    sign_out(client)
    assert "已修复下载链接。" in client.get(PAGE).text


def test_english_page_and_ckan_fields(client: TestClient, database_url: str) -> None:
    register_developer(client, "ann")
    post_form(client, f"{PAGE}/rating", {"stars": "3"})
    page = client.get(PAGE + "?lang=en").text
    assert "Ratings and comments" in page and "1 ratings" in page
    package = client.get("/api/3/action/package_show?id=bus-stops").json()["result"]
    assert (package["ratings_average"], package["ratings_count"]) == (3.0, 1)
    found = client.get("/api/3/action/package_search?q=&rows=10").json()["result"]["results"]
    assert {p["name"]: p["ratings_count"] for p in found}["si-headcount"] == 0


def test_hide_form_needs_an_admin(client: TestClient, database_url: str) -> None:
    register_developer(client, "ann")
    post_form(client, f"{PAGE}/comments", {"kind": "comment", "body": "有用的数据"})
    cid = comment_id(database_url)
    assert client.get(f"/admin/comments/{cid}/hide", follow_redirects=False).status_code == 403
    assert post_form(client, f"/admin/comments/{cid}/hide", {"reason": "x"}).status_code == 403
    body = {"reason": "x", CSRF_FIELD: "wrong"}
    assert client.post(f"/admin/comments/{cid}/hide", data=body, follow_redirects=False).status_code == 403
    assert count_rows(database_url, DatasetComment, DatasetComment.hidden_at.is_not(None)) == 0


def test_search_page_sorts_by_rating_and_shows_it(client: TestClient) -> None:
    register_developer(client, "ann")
    post_form(client, "/datasets/si-headcount/rating", {"stars": "4"})
    page = client.get("/datasets?sort=rating").text
    assert "评分最高" in page and 'data-testid="card-rating">★ 4.0（1 人评分）<' in page
    assert page.index("/datasets/si-headcount") < page.index("/datasets/bus-stops")


def test_metadata_etag_changes_with_the_rating(client: TestClient) -> None:
    before = client.get("/api/v1/datasets/bus-stops").headers["etag"]
    register_developer(client, "ann")
    post_form(client, f"{PAGE}/rating", {"stars": "5"})
    after = client.get("/api/v1/datasets/bus-stops", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.json()["rating"]["count"] == 1
