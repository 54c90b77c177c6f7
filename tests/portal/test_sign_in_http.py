"""Signing in where the portal is deployed (issue 13, item 4): over plain http on any host
with the default settings, Secure cookies over https (or behind a proxy saying so), and,
where Secure is forced over http, a start-up warning and an error page naming the setting."""

from __future__ import annotations

import logging
from typing import Iterator

import pytest
from litestar.testing import TestClient

from opendata import create_app
from opendata.access.principals import SESSION_COOKIE
from opendata.portal.security import CSRF_COOKIE, CSRF_FIELD
from opendata.settings import Settings
from tests.portal.helpers import PASSWORD, post_form, register_enterprise, text_of

LAN_HOST = "http://10.20.30.40:8000"  # neither localhost nor https: where the old default failed


def _set_cookies(response, name: str) -> str:  # noqa: ANN001
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}="))


@pytest.fixture
def lan_settings(portal_settings: Settings) -> Settings:
    """The defaults as shipped (secure_cookies unset: auto) on a plain-http LAN address."""
    return portal_settings.replace(secure_cookies=None, base_url=LAN_HOST)


@pytest.fixture
def lan_client(lan_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(lan_settings), base_url=LAN_HOST) as client:
        yield client


def test_defaults_sign_in_over_plain_http_on_any_host(lan_client: TestClient) -> None:
    assert Settings.from_env({}).secure_cookies is None  # shipped default: auto
    register_enterprise(lan_client, then_sign_in=False)
    signed_in = post_form(lan_client, "/login", {"username": "acme", "password": PASSWORD})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/workspace"
    assert "Secure" not in _set_cookies(signed_in, SESSION_COOKIE)
    workspace = lan_client.get("/workspace")
    assert workspace.status_code == 200 and "acme" in workspace.text


@pytest.mark.parametrize("header", [{"X-Forwarded-Proto": "https"}, {"Forwarded": "for=1.2.3.4;proto=https"}])
def test_cookies_are_secure_behind_a_proxy_that_terminated_tls(lan_client: TestClient, header: dict) -> None:
    page = lan_client.get("/login", headers=header)
    assert "Secure" in _set_cookies(page, CSRF_COOKIE)
    lan_client.cookies.clear()
    assert "Secure" not in _set_cookies(lan_client.get("/login"), CSRF_COOKIE)  # the same, without the proxy


def test_cookies_are_secure_when_the_public_address_is_https(portal_settings: Settings) -> None:
    settings = portal_settings.replace(secure_cookies=None, base_url="https://data.example.gov.cn")
    with TestClient(create_app(settings)) as client:
        assert "Secure" in _set_cookies(client.get("/login"), CSRF_COOKIE)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_secure_forced_over_http_warns_at_start_up_and_names_the_setting(lan_settings: Settings) -> None:
    records, logger = _Records(), logging.getLogger("opendata")
    logger.addHandler(records)
    try:
        client = TestClient(create_app(lan_settings.replace(secure_cookies=True)), base_url=LAN_HOST)
        client.__enter__()
    finally:
        logger.removeHandler(records)
    try:
        warning = next(m for m in records.messages if "OPENDATA_SECURE_COOKIES" in m)
        assert "OPENDATA_SECURE_COOKIES=true" in warning and LAN_HOST in warning and "https" in warning

        form = client.get("/login")
        assert "Secure" in _set_cookies(form, CSRF_COOKIE)  # sent over http: the client never sends it back
        token = form.text.split(f'name="{CSRF_FIELD}" value="')[1].split('"')[0]
        refused = client.post("/login", data={"username": "acme", "password": PASSWORD, CSRF_FIELD: token},
                              follow_redirects=False)
        assert refused.status_code == 403
        text = text_of(refused.text)
        assert "OPENDATA_SECURE_COOKIES=true" in text and "https://" in text
        assert "刷新无济于事" in text and "请返回刷新" not in text
        english = client.post("/login?lang=en", data={"username": "acme", "password": PASSWORD, CSRF_FIELD: token},
                              follow_redirects=False)
        assert "reloading will not help" in text_of(english.text)
    finally:
        client.__exit__(None, None, None)


def test_a_stale_form_still_says_reload(lan_client: TestClient) -> None:
    lan_client.get("/login")
    refused = lan_client.post("/login", data={"username": "acme", "password": PASSWORD, CSRF_FIELD: "stale"},
                              follow_redirects=False)
    assert refused.status_code == 403 and "刷新" in text_of(refused.text)
    assert "OPENDATA_SECURE_COOKIES" not in refused.text


def test_the_setting_reads_auto_true_and_false() -> None:
    assert Settings.from_env({"OPENDATA_SECURE_COOKIES": "auto"}).secure_cookies is None
    assert Settings.from_env({"OPENDATA_SECURE_COOKIES": "true"}).secure_cookies is True
    assert Settings.from_env({"OPENDATA_SECURE_COOKIES": "0"}).secure_cookies is False
    with pytest.raises(ValueError, match="OPENDATA_SECURE_COOKIES"):
        Settings.from_env({"OPENDATA_SECURE_COOKIES": "sometimes"})
