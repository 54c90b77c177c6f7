"""Paging of the comment lists (API and the administrators' moderation page), and ids
out of range."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.feedback.helpers import register_developer, staff
from tests.portal.helpers import sign_in

COMMENTS = "/api/v1/datasets/bus-stops/comments"


def test_lists_page_through_every_comment(client: TestClient, database_url: str) -> None:
    for name in ("ann", "bob", "cat"):
        headers = register_developer(client, name)
        for n in range(7):
            assert client.post(COMMENTS, json={"body": f"{name} 的第 {n} 条评论"}, headers=headers).status_code == 201
    first = client.get(COMMENTS, params={"page_size": 20}).json()
    second = client.get(COMMENTS, params={"page_size": 20, "page": 2}).json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (21, 20, 1)
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 21  # newest first, none twice
    assert client.get(COMMENTS, params={"page": 0}).status_code == 400
    assert client.get("/api/v1/comments/99999999999").status_code == 400  # beyond the id column

    admin = staff(client, database_url, "root", "admin")
    assert client.get("/api/v1/feedback/comments", params={"page": 2}, headers=admin).json()["total"] == 21
    client.cookies.clear()
    sign_in(client, "root")
    page = client.get("/admin/feedback").text
    assert "第 1 / 2 页" in page and 'href="/admin/feedback?page=2"' in page
    assert page.count('data-testid="comment-') == 20
    assert client.get("/admin/feedback?page=2").text.count('data-testid="comment-') == 1
