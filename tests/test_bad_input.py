"""Bad input gets a 4xx with a code, audited, never a 500, on SQLite and PostgreSQL.

Each case is one that answered 500 before (reproduced by attackers' raw requests): integers
beyond the columns' range in ids, filters, cursors, page numbers and audit cursors; a NUL
character anywhere text goes into a query; 5,000 sort keys; JSON nested 1,000 deep on
every JSON endpoint; bodies larger than the limit.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from litestar.testing import TestClient
from sqlalchemy import select

from opendata.audit.models import AuditRecord
from opendata.db import Database
from tests.access.helpers import DOWNLOAD, ROWS, Licensed, bearer, licensed_enterprise, make_staff, sign_in

FUZZ = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
STOPS_ROWS = "/api/v1/datasets/bus-stops/resources/stops/rows"
# Beyond PostgreSQL's INTEGER (ids) or beyond 64 bits (everything), both signs.
HUGE = st.one_of(st.integers(min_value=2**31, max_value=2**100), st.integers(min_value=-(2**100), max_value=-(2**31) - 1))
BEYOND_64 = st.one_of(st.integers(min_value=2**63, max_value=2**200), st.integers(min_value=-(2**200), max_value=-(2**63) - 1))


_databases: dict[str, Database] = {}


def newest_refusal(database_url: str) -> AuditRecord:
    database = _databases.setdefault(database_url, Database(database_url))
    with database.session() as session:
        return session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).one()


@pytest.fixture(autouse=True)
def _dispose_databases():
    yield
    while _databases:
        _databases.popitem()[1].dispose()


def assert_refused(response, status: int, code: str | None, database_url: str) -> None:
    assert response.status_code == status, response.text[:500]
    if code is not None and response.headers.get("content-type", "").startswith("application/json"):
        assert response.json()["error"]["code"] == code, response.text[:500]
    record = newest_refusal(database_url)
    # The trail stores the decoded path, a NUL spelled out as \x00.
    assert record.outcome == "refused" and record.path == unquote(response.request.url.path).replace("\x00", "\\x00")
    if code is not None:
        assert record.code == code


@FUZZ
@given(number=HUGE)
def test_ids_out_of_range_are_400_on_the_api_and_the_pages(client: TestClient, database_url: str, number: int) -> None:
    for path in (f"/api/v1/applications/{number}", f"/api/v1/compute/models/{number}", f"/requests/{number}"):
        assert_refused(client.get(path), 400, "value_out_of_range", database_url)


@FUZZ
@given(number=BEYOND_64)
def test_filters_cursors_and_pages_out_of_range_are_400(client: TestClient, database_url: str, number: int) -> None:
    assert_refused(client.get(STOPS_ROWS, params={"lines": str(number)}), 400, "invalid_filter_value", database_url)
    assert_refused(client.get(STOPS_ROWS, params={"lines__in": f"1,{number}"}), 400, "invalid_filter_value",
                   database_url)
    cursor = base64.urlsafe_b64encode(json.dumps({"s": ["lines"], "k": [number], "i": 1}).encode()).decode()
    assert_refused(client.get(STOPS_ROWS, params={"sort": "lines", "cursor": cursor}), 400, "invalid_cursor",
                   database_url)
    row_cursor = base64.urlsafe_b64encode(json.dumps({"s": [], "k": [], "i": number}).encode()).decode()
    assert_refused(client.get(STOPS_ROWS, params={"cursor": row_cursor}), 400, "invalid_cursor", database_url)
    assert_refused(client.get("/api/v1/datasets", params={"page": str(number)}), 400, "invalid_page", database_url)
    assert client.get("/datasets", params={"page": str(number)}).status_code == 400  # the page says why


def test_the_audit_cursor_is_bounded(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    admin = sign_in_api(client, "admin")
    for before in (2**31, 2**63, -1):
        assert_refused(client.get("/api/v1/audit", params={"before": before}, headers=admin), 400,
                       "invalid_parameter", database_url)


def sign_in_api(client: TestClient, username: str) -> dict[str, str]:
    from tests.access.helpers import sign_in as api_sign_in

    return api_sign_in(client, username)


NUL_TEXT = st.text(min_size=0, max_size=5).map(lambda text: text + "\x00" + text)


@FUZZ
@given(text=NUL_TEXT)
def test_a_nul_character_is_400_everywhere_text_reaches_a_query(client: TestClient, database_url: str,
                                                                  text: str) -> None:
    cases = [
        lambda: client.post("/api/v1/auth/login", json={"username": text, "password": text}),
        lambda: client.post("/api/v1/auth/register", json={
            "role": "enterprise", "username": text, "email": f"{text}@x.cn", "password": "long enough password"}),
        lambda: client.get(STOPS_ROWS, params={"name": text}),
        lambda: client.get("/api/v1/datasets", params={"q": text}),
        lambda: client.get("/datasets", params={"q": text}),
        # An encoded "/" (%2F) is decoded before routing and changes the route (a 404, not this check).
        lambda: client.get("/api/v1/datasets/" + quote(text.replace("/", ""), safe="")),
        lambda: client.post("/api/v1/token", data={"grant_type": "client_credentials", "client_id": text,
                                                   "client_secret": text}),
        lambda: client.post("/login", data={"username": text, "password": text}),
    ]
    for request in cases:
        assert_refused(request(), 400, "invalid_character", database_url)


def test_5000_sort_keys_are_refused(client: TestClient, database_url: str) -> None:
    response = client.get(STOPS_ROWS, params={"sort": ",".join(["name", "-lines"] * 2500)})
    assert_refused(response, 400, "too_many_sort_keys", database_url)
    response = client.get(STOPS_ROWS, params={"sort": "name,-name"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_sort"
    many = {f"name__{op}": "x" for op in ("eq", "ne", "gt", "gte", "lt", "lte", "contains")}
    many.update({f"lines__{op}": "1" for op in ("eq", "ne", "gt", "gte", "lt", "lte")})
    assert client.get(STOPS_ROWS, params=many).status_code == 200


def json_endpoints(client: TestClient) -> list[tuple[str, str]]:
    """Every route of the app that takes a body, with a placeholder for path parameters."""
    routes = []
    for route in client.app.routes:
        for method in getattr(route, "methods", ()):
            if method in ("POST", "PUT", "PATCH"):
                routes.append((method, route.path))
    return sorted(set(routes))


def _concrete(path: str) -> str:
    """The route with its path parameters filled: 1 for an integer, else a name."""
    return re.sub(r"\{[^}:]+(:(\w+))?\}", lambda m: "1" if m.group(2) == "int" else "x1", path)


def test_json_nested_1000_deep_is_400_on_every_endpoint(client: TestClient, database_url: str) -> None:
    deep = "[" * 1000 + "]" * 1000
    endpoints = json_endpoints(client)
    assert ("POST", "/api/v1/compute/verify") in endpoints and len(endpoints) > 20
    for method, path in endpoints:
        response = client.request(method, _concrete(path), content=deep, headers={"content-type": "application/json"})
        assert_refused(response, 400, "json_too_deep", database_url)
    nested_object = '{"a":' * 33 + "1" + "}" * 33
    response = client.post("/api/v1/compute/verify", content=nested_object)
    assert_refused(response, 400, "json_too_deep", database_url)
    shallow = client.post("/api/v1/auth/login", content='{"username": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", '
                          '"password": "x"}', headers={"content-type": "application/json"})
    assert shallow.status_code == 401  # brackets inside strings do not count


def test_a_body_over_the_limit_is_413_audited(client: TestClient, database_url: str) -> None:
    settings_ = client.app.state["opendata"].settings
    big = b'{"username": "' + b"x" * settings_.request_body_max_bytes + b'"}'
    response = client.post("/api/v1/auth/login", content=big, headers={"content-type": "application/json"})
    assert_refused(response, 413, "body_too_large", database_url)


def test_a_licensed_download_with_an_oversized_integer_is_refused_before_any_charge(
    client: TestClient, database_url: str,
) -> None:
    licensed: Licensed = licensed_enterprise(client, database_url)
    token = licensed.token(client)
    for path in (DOWNLOAD, ROWS):
        response = client.get(path, params={"headcount": str(2**63), "format": "csv"}, headers=bearer(token))
        assert_refused(response, 400, "invalid_filter_value", database_url)
    licence = client.get(f"/api/v1/licences/{licensed.licence_id}", headers=licensed.enterprise).json()
    assert not any(licence["usage_today"].values()), licence["usage_today"]
    assert client.get(DOWNLOAD, params={"format": "csv"}, headers=bearer(token)).status_code == 200
