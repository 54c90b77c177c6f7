"""Driving the portal's forms as a browser would: with the form token and its cookie."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

from litestar.testing import TestClient
from sqlalchemy import func, select

from opendata.db import Database
from opendata.portal.security import CSRF_COOKIE, CSRF_FIELD
from tests.access.helpers import CREDIT_A, CREDIT_B, PASSWORD, make_staff

__all__ = [
    "CREDIT_A", "CREDIT_B", "PASSWORD", "application_form", "count_rows", "form_token", "make_staff", "post_form",
    "register_developer", "register_enterprise", "sign_in", "sign_out", "text_of", "chromium",
]


def form_token(client: TestClient) -> str:
    """The form token of this browser, read from a page's form the way a browser gets it
    (for a signed-in visitor it is bound to the session, so it is not the cookie's value)."""
    response = client.get("/account", follow_redirects=True)  # or the sign-in page it leads to
    assert response.status_code == 200, response.text
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', response.text)
    assert found and client.cookies.get(CSRF_COOKIE), "the portal did not hand out a form token"
    return found.group(1)


def post_form(client: TestClient, path: str, data: dict[str, Any] | None = None, *, files: Any = None,
              token: bool = True) -> Any:
    body = dict(data or {})
    if token:
        body[CSRF_FIELD] = form_token(client)
    return client.post(path, data=body, files=files, follow_redirects=False)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    response = post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text


def sign_out(client: TestClient) -> None:
    response = post_form(client, "/logout")
    assert response.status_code == 303, response.text


def register_developer(client: TestClient, username: str) -> None:
    """Register a developer through the form, and sign in as them."""
    response = post_form(client, "/register", {"role": "developer", "username": username,
                                               "email": f"{username}@example.com", "password": PASSWORD,
                                               "password_again": PASSWORD})
    assert response.status_code == 303, response.text
    sign_in(client, username)


def register_enterprise(client: TestClient, username: str = "acme", credit_code: str = CREDIT_A,
                        *, then_sign_in: bool = True, **changes: str) -> Any:
    """Register through the form and, when it was accepted, sign in as the new account
    (registration itself never signs in: its answer must not depend on what exists)."""
    data = {
        "role": "enterprise", "username": username, "email": f"{username}@example.com",
        "display_name": f"{username} 经办人", "password": PASSWORD, "password_again": PASSWORD,
        "organisation_name": f"{username} 科技有限公司", "credit_code": credit_code,
        "contact_name": "陈经理", "contact_phone": "020-88888888",
    }
    data.update(changes)
    response = post_form(client, "/register", data)
    if then_sign_in and response.status_code == 303:
        sign_in(client, username, data["password"])
    return response


def application_form(dataset: str = "si-headcount", *, operations: tuple[str, ...] = ("query", "download"),
                     fields: tuple[str, ...] = ("month", "headcount"), action: str = "submit",
                     terms: bool = True, **changes: Any) -> dict[str, Any]:
    from datetime import date, timedelta

    today = date.today()
    data: dict[str, Any] = {
        "dataset": dataset, f"operations.{dataset}": list(operations), f"fields.{dataset}": list(fields),
        "purpose": "评估企业用工规模，用于普惠金融授信。", "scenario": "银行对小微企业的授信前核验。",
        "start_date": (today - timedelta(days=1)).isoformat(), "end_date": (today + timedelta(days=90)).isoformat(),
        "action": action,
    }
    if terms:
        data["terms"] = "1"
    data.update(changes)
    return data


def text_of(html: str) -> str:
    """The visible text of a page, roughly: tags dropped, whitespace collapsed."""
    unmarked = re.sub(r"</?mark>", "", html)  # search highlights sit inside words
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unmarked))


def count_rows(database_url: str, model: Any, *where: Any) -> int:
    database = Database(database_url)
    with database.session() as session:
        n = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    database.dispose()
    return n


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (never ``playwright install``), for a module's browser fixture."""
    from playwright.sync_api import sync_playwright

    from opendata.portal import screenshots

    with sync_playwright() as playwright:
        launched = screenshots.launch(playwright)
        try:
            yield launched
        finally:
            launched.close()
