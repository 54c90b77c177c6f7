"""Ratings through the API: one per person, changeable, removable; bounds; the summary
in the dataset's metadata; audit of every write and refusal."""

from __future__ import annotations

import json

import pytest

from litestar.testing import TestClient

from opendata.feedback.models import DatasetRating
from tests.access.helpers import assert_refused_and_audited, latest_audit
from tests.feedback.helpers import register_developer
from tests.portal.helpers import count_rows

RATING = "/api/v1/datasets/bus-stops/rating"


def test_rate_change_and_remove(client: TestClient, database_url: str) -> None:
    ann = register_developer(client, "ann")
    bob = register_developer(client, "bob")
    assert client.put(RATING, json={"stars": 5}, headers=ann).json()["mine"] == 5
    record = latest_audit(database_url)
    assert (record.action, record.actor, record.target) == ("feedback.rate", "user:ann", "dataset:bus-stops")
    assert client.put(RATING, json={"stars": 2}, headers=bob).status_code == 200
    changed = client.put(RATING, json={"stars": 4}, headers=ann).json()  # again: changes, never a second row
    assert (changed["average"], changed["count"], changed["mine"]) == (3.0, 2, 4)
    assert changed["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
    assert count_rows(database_url, DatasetRating) == 2
    assert json.loads(latest_audit(database_url).details) == {"stars": 4, "previous": 5}
    assert client.get(RATING, headers=ann).json()["mine"] == 4
    assert client.get(RATING).json()["mine"] is None

    block = client.get("/api/v1/datasets/bus-stops").json()["rating"]
    assert block == {"average": 3.0, "count": 2, "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}}

    assert client.delete(RATING, headers=bob).status_code == 204
    assert latest_audit(database_url).action == "feedback.unrate"
    assert client.get(RATING).json()["count"] == 1
    again = client.delete(RATING, headers=bob)
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_rated"


def test_unrated_dataset_has_an_empty_block(client: TestClient) -> None:
    block = client.get("/api/v1/datasets/si-headcount").json()["rating"]
    assert block["average"] is None and block["count"] == 0


BAD_STARS = [{"stars": 0}, {"stars": 6}, {"stars": 4.5}, {"stars": "5"}, {"stars": True}, {"stars": None}, {},
             {"stars": -1}, {"stars": 2**70}]


def test_bad_stars_are_refused_with_our_error_shape(client: TestClient, database_url: str) -> None:
    ann = register_developer(client, "ann")
    for body in BAD_STARS:
        response = client.put(RATING, json=body, headers=ann)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()["error"]) >= {"code", "message"}
    assert count_rows(database_url, DatasetRating) == 0
    # Who rates is the session, never the body: naming another user is refused.
    as_bob = client.put(RATING, json={"stars": 5, "user_id": 1}, headers=ann)
    assert as_bob.status_code == 400 and as_bob.json()["error"]["code"] == "unknown_field"
    assert count_rows(database_url, DatasetRating) == 0
    for content in (b"[5]", b"5", b"{"):
        response = client.put(RATING, content=content, headers={**ann, "Content-Type": "application/json"})
        assert response.status_code == 400 and "error" in response.json(), response.text


def test_anonymous_and_cookie_without_csrf_are_refused(client: TestClient, database_url: str) -> None:
    assert_refused_and_audited(client.put(RATING, json={"stars": 5}), 401, "authentication_required",
                               database_url, "feedback.rate")
    assert_refused_and_audited(client.delete(RATING), 401, "authentication_required", database_url)
    login = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x" * 12})
    assert login.status_code in (400, 401)
    register_developer(client, "ann")
    response = client.post("/api/v1/auth/login", json={"username": "ann", "password": "correct horse battery"})
    assert response.status_code == 200  # the cookie is set: a write without the CSRF header is refused
    assert_refused_and_audited(client.put(RATING, json={"stars": 5}), 403, "csrf_failed", database_url)
    assert count_rows(database_url, DatasetRating) == 0


def test_unknown_dataset_is_404(client: TestClient) -> None:
    ann = register_developer(client, "ann")
    response = client.put("/api/v1/datasets/nope/rating", json={"stars": 3}, headers=ann)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_search_shows_ratings_and_sorts_by_them(client: TestClient) -> None:
    ann = register_developer(client, "ann")
    bob = register_developer(client, "bob")
    client.put("/api/v1/datasets/si-headcount/rating", json={"stars": 3}, headers=ann)
    client.put("/api/v1/datasets/personal-si-base/rating", json={"stars": 5}, headers=ann)
    client.put(RATING, json={"stars": 5}, headers=ann)
    client.put(RATING, json={"stars": 4}, headers=bob)
    listing = client.get("/api/v1/datasets", params={"sort": "rating"}).json()["items"]  # ordered in SQL
    assert [d["id"] for d in listing] == ["personal-si-base", "bus-stops", "si-headcount"]
    assert {d["id"]: (d["rating"]["average"], d["rating"]["count"]) for d in listing}["bus-stops"] == (4.5, 2)
    searched = client.get("/api/v1/datasets", params={"sort": "rating", "q": "社保"}).json()["items"]  # in Python
    assert [d["id"] for d in searched] == ["personal-si-base", "si-headcount"]
    assert client.get("/api/v1/datasets", params={"sort": "stars"}).status_code == 400


def test_a_racing_second_click_changes_the_rating_instead_of_failing(client: TestClient, database_url: str) -> None:
    """Two clicks of one person at once: the second finds no rating, the first commits
    one, the second's insert collides and becomes a change (PostgreSQL: on SQLite the
    writers are serialised by the database lock, so the collision cannot happen)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: no insert can collide with a committed one")
    from sqlalchemy import select

    from opendata.access.models import User
    from opendata.access.principals import Principal
    from opendata.audit.service import NO_REQUEST
    from opendata.catalogue.models import Dataset
    from opendata.db import Database, utcnow
    from opendata.feedback import ratings

    register_developer(client, "ann")
    database = Database(database_url)
    with database.session() as session:
        user = session.scalars(select(User).where(User.username == "ann")).one()
        dataset = session.get(Dataset, "bus-stops")
        real_get = session.get

        def racing_get(model, key, **options):  # type: ignore[no-untyped-def]
            if model is DatasetRating:
                session.get = real_get  # type: ignore[method-assign]
                with database.session() as other:  # the first click commits in between
                    other.add(DatasetRating(dataset_id="bus-stops", user_id=user.id, stars=1,
                                            created_at=utcnow(), updated_at=utcnow()))
                    other.commit()
                return None
            return real_get(model, key, **options)

        session.get = racing_get  # type: ignore[method-assign]
        assert ratings.rate(session, Principal(user, None, "bearer"), dataset, 4, NO_REQUEST) == 4  # type: ignore[arg-type]
        session.commit()
    database.dispose()
    assert count_rows(database_url, DatasetRating) == 1
    assert client.get(RATING).json()["average"] == 4.0
