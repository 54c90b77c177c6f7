"""Comments and problem reports through the API: who may write, reply, resolve, hide and
restore; bounds; the hourly limit; hidden comments out of public views; every write audited."""

from __future__ import annotations

from litestar.testing import TestClient

from opendata.feedback.models import CommentReply, DatasetComment
from tests.access.helpers import assert_refused_and_audited, latest_audit
from tests.feedback.helpers import register_developer, staff
from tests.portal.helpers import count_rows

COMMENTS = "/api/v1/datasets/bus-stops/comments"
PROBLEM = {"kind": "problem", "category": "broken_link", "body": "下载链接失效，返回 404。"}


def post(client: TestClient, headers: dict[str, str], body: dict | None = None, path: str = COMMENTS) -> dict:
    response = client.post(path, json=body or {"body": "数据很有用，谢谢！"}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_comment_reply_resolve_hide_restore(client: TestClient, database_url: str) -> None:
    ann = register_developer(client, "ann")
    comment = post(client, ann)
    assert (comment["kind"], comment["author"], comment["status"]) == ("comment", "ann", None)
    assert latest_audit(database_url).action == "feedback.comment"
    problem = post(client, ann, PROBLEM)
    assert (problem["category"], problem["status"]) == ("broken_link", "open")

    own = staff(client, database_url, "transport", "publisher", "gz-transport")
    other = staff(client, database_url, "hrss", "publisher", "gz-hrss")
    admin = staff(client, database_url, "root", "admin")
    awaiting = client.get("/api/v1/feedback/awaiting", headers=own).json()
    assert [c["id"] for c in awaiting["items"]] == [problem["id"], comment["id"]]
    assert client.get("/api/v1/feedback/awaiting", headers=other).json()["total"] == 0

    refused = client.post(f"/api/v1/comments/{comment['id']}/replies", json={"body": "不是我们的"}, headers=other)
    assert_refused_and_audited(refused, 403, "not_your_dataset", database_url, "feedback.reply")
    refused = client.post(f"/api/v1/comments/{comment['id']}/replies", json={"body": "我也来回复"}, headers=ann)
    assert_refused_and_audited(refused, 403, "forbidden_role", database_url, "feedback.reply")
    reply = client.post(f"/api/v1/comments/{comment['id']}/replies", json={"body": "感谢反馈。"}, headers=own)
    assert reply.status_code == 201 and reply.json()["author_role"] == "publisher"
    assert client.post(f"/api/v1/comments/{problem['id']}/replies", json={"body": "已修复。"},
                       headers=admin).json()["author_role"] == "admin"

    assert_refused_and_audited(client.put(f"/api/v1/comments/{problem['id']}/status", json={"status": "resolved"},
                                          headers=other), 403, "not_your_dataset", database_url)
    bad = client.put(f"/api/v1/comments/{problem['id']}/status", json={"status": "closed"}, headers=own)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_status"
    not_problem = client.put(f"/api/v1/comments/{comment['id']}/status", json={"status": "resolved"}, headers=own)
    assert not_problem.status_code == 409
    resolved = client.put(f"/api/v1/comments/{problem['id']}/status", json={"status": "resolved"}, headers=own)
    assert resolved.json()["status"] == "resolved"
    assert client.get("/api/v1/feedback/awaiting", headers=own).json()["total"] == 0  # replied and resolved

    listed = client.get(COMMENTS).json()
    assert listed["total"] == 2 and listed["items"][1]["replies"][0]["body"] == "感谢反馈。"

    # Only administrators hide, and only with a reason.
    assert_refused_and_audited(client.post(f"/api/v1/comments/{comment['id']}/hide", json={"reason": "x"},
                                           headers=own), 403, "forbidden_role", database_url, "feedback.hide")
    no_reason = client.post(f"/api/v1/comments/{comment['id']}/hide", json={"reason": "  "}, headers=admin)
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "missing_field"
    hidden = client.post(f"/api/v1/comments/{comment['id']}/hide", json={"reason": "广告"}, headers=admin).json()
    assert hidden["hidden"] is True and hidden["hidden_reason"] == "广告"
    assert latest_audit(database_url).action == "feedback.hide"
    assert client.get(COMMENTS).json()["total"] == 1  # gone from public views …
    assert client.get(COMMENTS, headers=ann).json()["total"] == 1
    assert client.get(f"/api/v1/comments/{comment['id']}").status_code == 404
    reply_hidden = client.post(f"/api/v1/comments/{comment['id']}/replies", json={"body": "再回复"}, headers=own)
    assert reply_hidden.status_code == 404
    as_admin = client.get(COMMENTS, headers=admin).json()  # … but not from the administrators'
    assert as_admin["total"] == 2 and as_admin["items"][1]["hidden_reason"] == "广告"
    assert client.get("/api/v1/feedback/comments?hidden=true", headers=admin).json()["total"] == 1
    assert client.get("/api/v1/feedback/comments", headers=own).status_code == 403
    twice = client.post(f"/api/v1/comments/{comment['id']}/hide", json={"reason": "广告"}, headers=admin)
    assert twice.status_code == 409
    restored = client.post(f"/api/v1/comments/{comment['id']}/restore", headers=admin).json()
    assert restored["hidden"] is False and client.get(COMMENTS).json()["total"] == 2
    assert latest_audit(database_url).action == "feedback.restore"


def test_anonymous_writes_are_refused(client: TestClient, database_url: str) -> None:
    assert_refused_and_audited(client.post(COMMENTS, json={"body": "匿名评论"}), 401, "authentication_required",
                               database_url, "feedback.comment")
    assert_refused_and_audited(client.post("/api/v1/comments/1/replies", json={"body": "x"}), 401,
                               "authentication_required", database_url)
    assert_refused_and_audited(client.post("/api/v1/comments/1/hide", json={"reason": "x"}), 401,
                               "authentication_required", database_url)
    assert client.get("/api/v1/feedback/awaiting").status_code == 401
    assert count_rows(database_url, DatasetComment) == 0


def test_bad_comments_are_400_and_write_nothing(client: TestClient, database_url: str) -> None:
    ann = register_developer(client, "ann")
    for body, code in [({"body": "x" * 2001}, "invalid_field"), ({"body": " "}, "missing_field"), ({}, "missing_field"),
                       ({"body": 5}, "invalid_field"), ({"kind": "praise", "body": "好数据"}, "invalid_kind"),
                       ({"kind": "problem", "body": "有错"}, "invalid_category"),
                       ({"kind": "problem", "category": "typo", "body": "有错"}, "invalid_category"),
                       ({"kind": "comment", "category": "outdated", "body": "有错"}, "invalid_category"),
                       ({"kind": ["comment"], "body": "有错"}, "invalid_field"),
                       ({"body": "冒名发布", "author": "bob"}, "unknown_field")]:
        response = client.post(COMMENTS, json=body, headers=ann)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == code, (body, response.text)
    assert count_rows(database_url, DatasetComment) == 0
    comment = post(client, ann)
    own = staff(client, database_url, "transport", "publisher", "gz-transport")
    long_reply = client.post(f"/api/v1/comments/{comment['id']}/replies", json={"body": "y" * 2001}, headers=own)
    assert long_reply.status_code == 400 and count_rows(database_url, CommentReply) == 0
    paged = client.get(COMMENTS + "?page_size=1000")
    assert paged.status_code == 400 and "error" in paged.json()


def test_hourly_limit_and_closed_datasets(client: TestClient, database_url: str) -> None:
    ann = register_developer(client, "ann")
    # Closed (不予开放) datasets take comments too: their metadata is public.
    post(client, ann, path="/api/v1/datasets/personal-si-base/comments")
    for _ in range(9):
        post(client, ann)
    over = client.post(COMMENTS, json={"body": "第十一条"}, headers=ann)
    assert_refused_and_audited(over, 429, "too_many_comments", database_url, "feedback.comment")
    assert over.headers["retry-after"] == "3600"
    assert count_rows(database_url, DatasetComment) == 10
    bob = register_developer(client, "bob")  # the limit is per person
    post(client, bob)
