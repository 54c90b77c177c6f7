"""The portal's side of sign-in throttling (the message, the administrator's unlock
button), the CSRF token bound to the session, audited CSRF refusals, and HSTS."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import select

from opendata import create_app
from opendata.access.principals import SESSION_COOKIE
from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.portal.security import CSRF_COOKIE, CSRF_FIELD
from opendata.settings import Settings
from tests.portal.helpers import (
    CREDIT_B, PASSWORD, form_token, make_staff, post_form, register_enterprise, sign_in, sign_out,
)


def _newest(database_url: str, action: str) -> AuditRecord:
    database = Database(database_url)
    with database.session() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == action)
                                 .order_by(AuditRecord.id.desc()).limit(1)).one()
    database.dispose()
    return record


def test_the_sign_in_page_says_when_to_try_again(client: TestClient, database_url: str) -> None:
    register_enterprise(client, then_sign_in=False)
    for _ in range(5):
        wrong = post_form(client, "/login", {"username": "acme", "password": "not the password"})
        assert wrong.status_code == 400
    throttled = post_form(client, "/login", {"username": "acme", "password": PASSWORD})
    assert throttled.status_code == 429 and "登录失败次数过多" in throttled.text and "秒后再试" in throttled.text
    assert 'value="acme"' in throttled.text  # the form keeps what was typed
    english = client.post("/login?lang=en", data={"username": "acme", "password": PASSWORD,
                                                  CSRF_FIELD: form_token(client)}, follow_redirects=False)
    assert english.status_code == 429 and "too many failed sign-ins" in english.text
    assert _newest(database_url, "auth.login").code == "sign_in_throttled"


def test_an_administrator_unlocks_from_the_users_page(portal_settings: Settings, database_url: str) -> None:
    with TestClient(create_app(portal_settings.replace(signin_backoff_base_seconds=0.0))) as client:
        make_staff(database_url, "admin", "admin")
        register_enterprise(client, then_sign_in=False)
        for _ in range(10):
            post_form(client, "/login", {"username": "acme", "password": "not the password"})
        locked = post_form(client, "/login", {"username": "acme", "password": PASSWORD})
        assert locked.status_code == 429 and "联系平台管理员解锁" in locked.text
        sign_in_as_admin = post_form(client, "/login", {"username": "admin", "password": PASSWORD})
        assert sign_in_as_admin.status_code == 303
        page = client.get("/admin/users").text
        assert "account:acme" in page and 'action="/admin/sign-in-locks/unlock"' in page
        unlocked = post_form(client, "/admin/sign-in-locks/unlock", {"subject": "account:acme"})
        assert unlocked.status_code == 303 and unlocked.headers["location"] == "/admin/users?notice=sign_in_unlocked"
        record = _newest(database_url, "auth.unlock")
        assert (record.outcome, record.actor, record.target) == ("success", "user:admin", "account:acme")
        assert "account:acme" not in client.get("/admin/users").text
        sign_out(client)
        sign_in(client, "acme")


def test_the_form_token_is_bound_to_the_session(client: TestClient, portal_settings: Settings,
                                                database_url: str) -> None:
    register_enterprise(client)  # acme, signed in
    acme_field, acme_cookie = form_token(client), client.cookies.get(CSRF_COOKIE)
    assert acme_field != acme_cookie  # the field is not the cookie's value once signed in
    with TestClient(create_app(portal_settings)) as other:
        register_enterprise(other, "rival", CREDIT_B)
        # rival's browser with acme's token pair planted in it (a cookie set from a sibling site)
        rival_session = other.cookies.get(SESSION_COOKIE)
        other.cookies.clear()
        other.cookies.set(SESSION_COOKIE, rival_session)
        other.cookies.set(CSRF_COOKIE, acme_cookie)
        planted = other.post("/workspace/clients", data={"name": "x", CSRF_FIELD: acme_field}, follow_redirects=False)
        assert planted.status_code == 403
        record = _newest(database_url, "portal.csrf")
        assert (record.outcome, record.code, record.actor, record.path) == (
            "refused", "csrf_failed", "user:rival", "/workspace/clients")
        # and the bare cookie value, the old double-submit token, no longer passes when signed in
        bare = other.post("/workspace/clients", data={"name": "x", CSRF_FIELD: acme_cookie}, follow_redirects=False)
        assert bare.status_code == 403
        # the token the page gives rival's own browser works
        assert post_form(other, "/workspace/clients", {"name": "mine"}).status_code == 200  # shows the secret


def test_csrf_refusals_are_audited(client: TestClient, database_url: str) -> None:
    refused = client.post("/login", data={"username": "x", "password": "y"}, follow_redirects=False)
    assert refused.status_code == 403
    record = _newest(database_url, "portal.csrf")
    assert (record.outcome, record.code, record.actor, record.path) == ("refused", "csrf_failed", "anonymous", "/login")


def test_hsts_is_off_by_default_and_sent_everywhere_when_set(client: TestClient, portal_settings: Settings) -> None:
    assert "strict-transport-security" not in client.get("/").headers
    with TestClient(create_app(portal_settings.replace(hsts_max_age_seconds=31_536_000,
                                                       hsts_include_subdomains=True))) as secured:
        for path in ("/", "/api/v1/datasets", "/static/portal.css", "/no-such-page", "/api/v1/no-such"):
            response = secured.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", path
