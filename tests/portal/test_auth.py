"""Registering (developers and enterprises), signing in and out through the pages."""

from __future__ import annotations

from litestar.testing import TestClient

from opendata.access.models import Organisation, User
from opendata.access.principals import SESSION_COOKIE
from tests.portal.helpers import (
    CREDIT_A, CREDIT_B, PASSWORD, count_rows, make_staff, post_form, register_enterprise, sign_in, text_of,
)

DEVELOPER = {"role": "developer", "username": "dev", "email": "dev@example.com", "display_name": "开发者小王",
             "password": PASSWORD, "password_again": PASSWORD}


def test_a_developer_registers_and_signs_in(client: TestClient) -> None:
    response = post_form(client, "/register", DEVELOPER)
    assert response.status_code == 303 and response.headers["location"] == "/login?notice=registration_received"
    assert SESSION_COOKIE not in response.cookies  # registering never signs in (see the neutral answer)
    assert "注册申请已收到" in client.get(response.headers["location"]).text
    signed_in = post_form(client, "/login", {"username": "dev", "password": PASSWORD})
    assert signed_in.headers["location"] == "/account"
    page = client.get("/account").text
    assert "开发者小王" in page and "开发者" in text_of(page)
    assert client.get("/api/v1/me").json()["user"]["username"] == "dev"  # the same session serves the API


def test_an_enterprise_registers_with_its_credit_code(client: TestClient, database_url: str) -> None:
    form = client.get("/register?role=enterprise").text
    assert 'name="credit_code"' in form and "统一社会信用代码" in form
    response = register_enterprise(client)  # then signs in
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    workspace = client.get("/workspace").text
    assert "acme 科技有限公司" in workspace and CREDIT_A in workspace


def test_bad_registrations_say_why_and_create_nothing(client: TestClient, database_url: str) -> None:
    bad_code = CREDIT_A[:-1] + ("0" if CREDIT_A[-1] != "0" else "1")
    cases = [
        (register_enterprise(client, credit_code=bad_code), "统一社会信用代码无效"),
        (register_enterprise(client, credit_code="123"), "统一社会信用代码无效"),
        (register_enterprise(client, contact_phone="call me"), "联系电话格式不正确"),
        (register_enterprise(client, password_again="something else"), "两次输入的密码不一致"),
        (post_form(client, "/register", {**DEVELOPER, "password": "short", "password_again": "short"}), "密码强度不足"),
        (post_form(client, "/register", {**DEVELOPER, "username": "a"}), "用户名须为"),
        (post_form(client, "/register", {**DEVELOPER, "email": "not-an-address"}), "电子邮箱格式不正确"),
        (post_form(client, "/register", {**DEVELOPER, "role": "admin"}), "只能自助注册开发者或企业账号"),
    ]
    for response, message in cases:
        assert response.status_code == 400, response.text
        assert message in response.text
    assert count_rows(database_url, User) == 0 and count_rows(database_url, Organisation) == 0
    kept = register_enterprise(client, credit_code=bad_code)
    assert 'value="acme 科技有限公司"' in kept.text and PASSWORD not in kept.text  # typed values kept, never the password


def test_a_credit_code_registers_once_and_the_answer_does_not_say_so(client: TestClient, database_url: str) -> None:
    first = register_enterprise(client, then_sign_in=False)
    taken_code = register_enterprise(client, "acme2", then_sign_in=False)
    taken_name = register_enterprise(client, "acme", CREDIT_B, then_sign_in=False)
    for again in (taken_code, taken_name):
        assert (again.status_code, again.headers["location"], again.text) == (
            first.status_code, first.headers["location"], first.text)
        assert again.cookies.keys() == first.cookies.keys()
    assert count_rows(database_url, User) == 1 and count_rows(database_url, Organisation) == 1


def test_sign_in_errors_and_next(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    wrong = post_form(client, "/login", {"username": "admin", "password": "wrong password!"})
    assert wrong.status_code == 400 and "用户名或密码错误" in wrong.text and 'value="admin"' in wrong.text
    empty = post_form(client, "/login", {"username": "", "password": ""})
    assert empty.status_code == 400 and "请输入用户名" in empty.text
    to = post_form(client, "/login", {"username": "admin", "password": PASSWORD, "next": "/admin/audit"})
    assert to.headers["location"] == "/admin/audit"


def test_next_never_leaves_the_site(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = post_form(client, "/login", {"username": "admin", "password": PASSWORD, "next": target})
        assert response.headers["location"] == "/admin", target
        post_form(client, "/logout")


def test_sign_out_ends_the_session(client: TestClient) -> None:
    register_enterprise(client)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.get("/workspace").status_code == 200
    response = post_form(client, "/logout")
    assert response.headers["location"] == "/?notice=signed_out"
    assert client.get("/workspace", follow_redirects=False).status_code == 303
    # the old cookie is dead on the server, not only forgotten by the browser
    client.cookies.set(SESSION_COOKIE, cookie)
    assert client.get("/workspace", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_signed_in_visitors_skip_the_sign_in_form(client: TestClient) -> None:
    register_enterprise(client)
    response = client.get("/login", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/workspace"
    sign_in(client, "acme")
