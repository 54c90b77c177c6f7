"""CSRF on every form, the JSON API untouched by it, cookie flags, CSP on every page, and
every protected page refusing the wrong visitor."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from opendata import create_app
from opendata.access.models import User
from opendata.access.principals import SESSION_COOKIE
from opendata.portal.security import CSRF_COOKIE, CSRF_FIELD
from opendata.portal.plugin import PAGE_HANDLERS
from tests.portal.helpers import (
    PASSWORD, count_rows, form_token, make_staff, post_form, register_enterprise, sign_in,
)

ENTERPRISE_PAGES = ["/workspace", "/workspace/applications/new", "/workspace/clients", "/workspace/usage", "/workspace/compute",
                    "/workspace/applications/1", "/workspace/applications/1/edit"]
ADMIN_PAGES = ["/admin", "/admin/applications/1", "/admin/licences", "/admin/audit", "/admin/users", "/admin/models",
               "/admin/showcases", "/admin/assets"]
PUBLISHER_PAGES = ["/publisher", "/publisher/datasets/bus-stops"]
SIGNED_IN_PAGES = ["/account", "/requests/new", "/showcase/new", "/showcase/mine"]
ENTERPRISE_WRITES = ["/workspace/applications", "/workspace/applications/1", "/workspace/applications/1/submit",
                     "/workspace/applications/1/close", "/workspace/clients", "/workspace/clients/odc_x/rotate",
                     "/workspace/clients/odc_x/revoke", "/workspace/compute/keys", "/workspace/compute/keys/k1/revoke"]
ADMIN_WRITES = ["/admin/showcases/1/decide", "/admin/applications/1/decide", "/admin/licences/1/revoke", "/admin/users/acme/disable",
                "/admin/clients/odc_x/revoke", "/requests/1/answer", "/admin/models/1/decide", "/admin/assets",
                "/admin/assets/PDA-2026-000001-5/amend", "/admin/assets/PDA-2026-000001-5/revoke"]
PUBLISHER_WRITES = ["/publisher/datasets/bus-stops", "/publisher/datasets/bus-stops/resources/stops/upload"]
PUBLIC_PAGES = ["/", "/datasets", "/showcase", "/datasets?q=公交", "/datasets/bus-stops", "/datasets/si-headcount",
                "/datasets/personal-si-base", "/datasets/people", "/open-index", "/requests", "/login", "/register",
                "/register?role=enterprise", "/no-such-page", "/datasets/no-such-dataset"]


def test_a_form_without_the_token_or_with_a_wrong_one_is_refused(client: TestClient, database_url: str) -> None:
    form = {"role": "developer", "username": "dev1", "email": "dev1@example.com", "password": PASSWORD,
            "password_again": PASSWORD}
    refused = post_form(client, "/register", form, token=False)
    # no form cookie at all: the page says so (reloading would not bring it back)
    assert refused.status_code == 403 and "浏览器没有发回本站的表单 Cookie" in refused.text
    form_token(client)  # the browser holds a token cookie, but the form does not repeat it
    assert post_form(client, "/register", form, token=False).status_code == 403
    assert post_form(client, "/register", {**form, CSRF_FIELD: "x" * 43}, token=False).status_code == 403
    assert count_rows(database_url, User) == 0
    # the same form with the token is accepted
    assert post_form(client, "/register", form).status_code == 303
    assert count_rows(database_url, User) == 1


def test_a_form_posted_from_another_site_is_refused_even_with_the_token(client: TestClient) -> None:
    token = form_token(client)
    response = client.post("/login", data={"username": "x", "password": "y", CSRF_FIELD: token},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    same_site = client.post("/login", data={"username": "x", "password": "wrong password", CSRF_FIELD: token},
                            headers={"Origin": "http://testserver.local"}, follow_redirects=False)
    assert same_site.status_code == 400 and "用户名或密码错误" in same_site.text


def test_signing_in_replaces_the_form_token(client: TestClient) -> None:
    register_enterprise(client)
    before = form_token(client)
    post_form(client, "/logout")
    sign_in(client, "acme")
    assert client.cookies.get(CSRF_COOKIE) != before


def test_every_portal_write_goes_through_the_token_check(client: TestClient) -> None:
    """No form handler can forget the check: it runs for the whole portal router."""
    posts = [h for h in PAGE_HANDLERS if "POST" in h.http_methods]
    assert len(posts) >= 19  # every form of every workspace (a new form only adds to this)
    for handler in posts:
        path = next(iter(handler.paths)).replace("{application_id:int}", "1").replace("{licence_id:int}", "1") \
            .replace("{request_id:int}", "1").replace("{client_id:str}", "odc_x").replace("{username:str}", "acme") \
            .replace("{dataset_id:str}", "bus-stops").replace("{resource_id:str}", "stops") \
            .replace("{kid:str}", "k1").replace("{model_id:int}", "1").replace("{comment_id:int}", "1").replace("{number:int}", "1") \
            .replace("{showcase_id:int}", "1")
        response = client.post(path, data={"anything": "1"}, follow_redirects=False)
        assert response.status_code == 403, path


def test_the_json_api_needs_no_form_token(client: TestClient) -> None:
    registered = client.post("/api/v1/auth/register", json={
        "role": "developer", "username": "apiuser", "email": "apiuser@example.com", "password": PASSWORD})
    assert registered.status_code == 202, registered.text
    signed_in = client.post("/api/v1/auth/login", json={"username": "apiuser", "password": PASSWORD})
    assert signed_in.status_code == 200
    token = signed_in.json()["session_token"]
    client.cookies.clear()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["user"]["username"] == "apiuser"
    # the token endpoint keeps its own form handling
    assert client.post("/api/v1/token", data={"grant_type": "client_credentials"}).status_code == 401


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    register_enterprise(client, then_sign_in=False)
    response = post_form(client, "/login", {"username": "acme", "password": PASSWORD})
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    form = next(c for c in cookies if c.startswith(f"{CSRF_COOKIE}="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    assert "HttpOnly" in form and "SameSite=strict" in form
    assert "Secure" not in session  # Settings.secure_cookies is off in tests


def test_cookies_are_secure_when_configured(portal_settings) -> None:
    with TestClient(create_app(portal_settings.replace(secure_cookies=True))) as client:
        page = client.get("/login")
        assert "Secure" in page.headers["set-cookie"]
        token = page.headers["set-cookie"].split(f"{CSRF_COOKIE}=")[1].split(";")[0]
        client.cookies.set(CSRF_COOKIE, token)  # a browser on https would send it back
        registered = client.post("/register", data={
            "role": "developer", "username": "dev2", "email": "dev2@example.com", "password": PASSWORD,
            "password_again": PASSWORD, CSRF_FIELD: token}, follow_redirects=False)
        assert registered.status_code == 303
        response = client.post("/login", data={"username": "dev2", "password": PASSWORD, CSRF_FIELD: token},
                               follow_redirects=False)
        session = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
        assert "Secure" in session and "HttpOnly" in session


def test_every_page_has_a_strict_content_security_policy(client: TestClient) -> None:
    for path in PUBLIC_PAGES:
        response = client.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy and response.headers["x-content-type-options"] == "nosniff"
        html = response.text
        assert not re.search(r"<script(?![^>]*\b(src=\"/static/|type=\"application/ld\+json\"))", html), f"inline or foreign script on {path}"
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"(src|href)=\"(https?:)?//", html), f"an external resource on {path}"


def test_signed_in_pages_carry_csp_too(client: TestClient) -> None:
    register_enterprise(client)
    for path in ["/workspace", "/workspace/applications/new?dataset=si-headcount", "/workspace/clients", "/account"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    for path in ENTERPRISE_PAGES + ADMIN_PAGES + PUBLISHER_PAGES + SIGNED_IN_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    for path in ENTERPRISE_WRITES + ADMIN_WRITES + PUBLISHER_WRITES + ["/requests", "/requests/1/support", "/showcase"]:
        response = post_form(client, path, {})
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


def test_the_wrong_role_is_refused(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    make_staff(database_url, "admin", "admin")
    register_enterprise(client)
    for path in ADMIN_PAGES + PUBLISHER_PAGES:
        assert client.get(path).status_code == 403, path
    for path in ADMIN_WRITES + PUBLISHER_WRITES:
        assert post_form(client, path, {}).status_code == 403, path
    post_form(client, "/logout")
    sign_in(client, "clerk")
    for path in ENTERPRISE_PAGES + ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    for path in ENTERPRISE_WRITES + ADMIN_WRITES:
        assert post_form(client, path, {}).status_code == 403, path
    # a publisher edits only its own department's datasets
    assert client.get("/publisher/datasets/si-headcount").status_code == 403
    assert post_form(client, "/publisher/datasets/si-headcount", {"title_zh": "x"}).status_code == 403
    post_form(client, "/logout")
    sign_in(client, "admin")
    for path in ENTERPRISE_PAGES:
        assert client.get(path).status_code == 403, path
    refusal = client.get("/admin/audit?outcome=refused&action=portal.workspace")
    assert "forbidden_role" in refusal.text
    post_form(client, "/logout")
    post_form(client, "/register", {"role": "developer", "username": "dev", "email": "dev@example.com",
                                    "password": PASSWORD, "password_again": PASSWORD})
    sign_in(client, "dev")
    for path in ENTERPRISE_PAGES + ADMIN_PAGES + PUBLISHER_PAGES:
        assert client.get(path).status_code == 403, path
    for path in ENTERPRISE_WRITES + ADMIN_WRITES + PUBLISHER_WRITES:
        assert post_form(client, path, {}).status_code == 403, path
    assert client.get("/account").status_code == 200 and client.get("/requests/new").status_code == 200
