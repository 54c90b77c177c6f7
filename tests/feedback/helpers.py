"""Accounts for the feedback tests: two developers, publishers of two departments, an admin."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.access.helpers import PASSWORD, make_staff, sign_in


def register_developer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/register", json={
        "role": "developer", "username": username, "email": f"{username}@example.com", "password": PASSWORD})
    assert response.status_code == 202, response.text
    return sign_in(client, username)


def staff(client: TestClient, database_url: str, username: str, role: str,
          publisher_id: str | None = None) -> dict[str, str]:
    make_staff(database_url, username, role, publisher_id)
    return sign_in(client, username)
