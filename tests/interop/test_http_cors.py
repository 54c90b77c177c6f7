"""CORS only where data is open and anonymous, and licensed or closed data keeps needing
its token on every new path: HEAD, conditional requests, ranges (the attacker's view)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from opendata import create_app
from opendata.settings import Settings
from tests.access.helpers import ARREARS_ROWS, DOWNLOAD, ROWS, bearer, latest_audit
from tests.factories import write_catalogue
from tests.interop.conftest import Portal
from tests.serving import running_server

EVIL = {"origin": "https://evil.example"}
OPEN_PATHS = ("/api/v1/datasets", "/api/v1/datasets/bus-stops", "/api/v1/datasets/bus-stops/resources/stops/rows",
              "/api/v1/datasets/bus-stops/resources/stops/download?format=csv", "/catalog.jsonld",
              "/dataset/bus-stops.ttl", "/dataset/bus-stops/datapackage.json", "/api/v1/licence-terms")
CLOSED_ROWS = "/api/v1/datasets/personal-si-base/resources"


def usage(portal: Portal) -> dict[str, int]:
    response = portal.http.get(f"/api/v1/licences/{portal.licensed.licence_id}", headers=portal.licensed.enterprise)
    assert response.status_code == 200, response.text
    return response.json()["usage_today"]


def test_open_anonymous_reads_allow_any_origin_without_credentials(portal: Portal) -> None:
    for path in OPEN_PATHS:
        response = portal.http.get(path, headers=EVIL)
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in response.headers, path
        assert "ETag" in response.headers["access-control-expose-headers"]
        preflight = portal.http.options(path, headers={**EVIL, "access-control-request-method": "GET",
                                                       "access-control-request-headers": "if-none-match, range"})
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*", path
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "if-none-match" in allowed and "range" in allowed
        # No bearer token may be sent cross-origin: the browser refuses a header not listed.
        assert "authorization" not in allowed and "access-control-allow-credentials" not in preflight.headers


def test_licensed_data_is_never_readable_cross_origin(portal: Portal) -> None:
    token = bearer(portal.token)
    for path in (ROWS, f"{DOWNLOAD}?format=csv"):
        for method in ("GET", "HEAD"):
            served = portal.http.request(method, path, headers={**EVIL, **token})
            assert served.status_code == 200, (method, path, served.text)
            assert "access-control-allow-origin" not in served.headers, (method, path)
            assert served.headers["cache-control"] in ("private, no-store", "no-store")
            assert "etag" not in served.headers
        refused = portal.http.get(path, headers=EVIL)
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
        # The route is shared with open data, so the preflight is answered, but it lets no
        # Authorization header through: a page elsewhere cannot send the token.
        preflight = portal.http.options(path, headers={**EVIL, "access-control-request-method": "GET",
                                                       "access-control-request-headers": "authorization"})
        assert "authorization" not in preflight.headers.get("access-control-allow-headers", "").lower()
    ckan = portal.http.get("/api/3/action/datastore_search", params={"resource_id": "si-headcount.monthly"},
                           headers={**EVIL, "authorization": portal.token})
    assert ckan.status_code == 200 and ckan.json()["success"] and "access-control-allow-origin" not in ckan.headers


def test_ckan_reads_of_open_data_allow_any_origin(portal: Portal) -> None:
    for action, params in (("package_list", {}), ("package_show", {"id": "si-headcount"}),
                           ("datastore_search", {"resource_id": "bus-stops.stops"})):
        response = portal.http.get(f"/api/3/action/{action}", params=params, headers=EVIL)
        assert response.json()["success"], (action, response.text)
        assert response.headers["access-control-allow-origin"] == "*", action
    refused = portal.http.get("/api/3/action/datastore_search", params={"resource_id": "si-headcount.monthly"},
                              headers=EVIL)
    assert refused.json()["success"] is False and "access-control-allow-origin" not in refused.headers
    posted = portal.http.post("/api/3/action/package_list", json={}, headers=EVIL)
    assert posted.json()["success"] and "access-control-allow-origin" not in posted.headers


def test_session_routes_and_pages_never_get_cors(portal: Portal) -> None:
    for path, headers in (("/api/v1/me", portal.licensed.enterprise),
                          (f"/api/v1/licences/{portal.licensed.licence_id}", portal.licensed.enterprise),
                          ("/", {}), ("/datasets/bus-stops", {})):
        response = portal.http.get(path, headers={**EVIL, **headers})
        assert response.status_code == 200, path
        assert not any(name.startswith("access-control-") for name in response.headers), path
        preflight = portal.http.options(path, headers={**EVIL, "access-control-request-method": "GET"})
        assert not any(name.startswith("access-control-") for name in preflight.headers), path
    token = portal.http.post("/api/v1/token", headers=EVIL, data={"grant_type": "client_credentials"})
    assert "access-control-allow-origin" not in token.headers


def test_head_on_licensed_and_closed_data_needs_the_token(portal: Portal) -> None:
    for path in (ROWS, f"{DOWNLOAD}?format=csv"):
        anonymous = portal.http.head(path)
        assert anonymous.status_code == 403 and anonymous.content == b""
        record = latest_audit(portal.database_url)
        assert (record.outcome, record.code, record.path) == ("refused", "licence_required", path.split("?")[0])
        assert record.method == "HEAD"  # audited as what the client sent, not as the GET it is routed as
        assert portal.http.get(path).status_code == 403 and latest_audit(portal.database_url).method == "GET"
        forged = portal.http.head(path, headers=bearer("eyJhbGciOiJub25lIn0.e30."))
        assert forged.status_code == 401 and "invalid_token" in forged.headers["www-authenticate"]
        assert portal.http.head(path, params={"fields": "credit_code"},
                                headers=bearer(portal.token)).status_code == 403  # field not licensed
    assert portal.http.head(ARREARS_ROWS, headers=bearer(portal.token)).status_code == 403  # other dataset
    closed = portal.http.get("/api/v1/datasets/personal-si-base").json()["resources"][0]["id"]
    for suffix in ("rows", "download"):
        response = portal.http.head(f"{CLOSED_ROWS}/{closed}/{suffix}", headers=bearer(portal.token))
        assert response.status_code == 403
        record = latest_audit(portal.database_url)
        assert (record.code, record.method) == ("closed_dataset", "HEAD")


def test_conditional_and_range_headers_do_not_bypass_the_licence(portal: Portal) -> None:
    for headers in ({"if-none-match": "*"}, {"if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"},
                    {"range": "bytes=0-10"}, {"range": "bytes=0-10", "if-range": '"x"'}):
        for path in (ROWS, f"{DOWNLOAD}?format=csv"):
            for method in ("GET", "HEAD"):
                response = portal.http.request(method, path, headers=headers)
                assert response.status_code == 403, (method, path, headers)
    before = usage(portal)
    whole = portal.http.get(f"{DOWNLOAD}?format=csv", headers={**bearer(portal.token), "if-none-match": "*",
                                                               "range": "bytes=0-10", "accept-encoding": "identity"})
    # Licensed: no 304 and no part; the whole licensed file, charged as one download.
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "none"
    assert "content-range" not in whole.headers and whole.content.startswith(b"month,headcount")
    assert usage(portal)["downloads"] == before["downloads"] + 1


def test_head_with_a_valid_token_charges_nothing(portal: Portal) -> None:
    before = usage(portal)
    for path in (ROWS, f"{DOWNLOAD}?format=csv"):
        response = portal.http.head(path, headers=bearer(portal.token))
        assert response.status_code == 200 and response.content == b""
    assert usage(portal) == before


@pytest.mark.parametrize("origins", [("https://app.example.org",), ()])
def test_cors_origins_are_configurable(tmp_path: Path, origins: tuple[str, ...]) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db'}",
                        catalogues=(write_catalogue(tmp_path / "mini"),), cors_origins=origins)
    with running_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        for origin in ("https://app.example.org", "https://evil.example"):
            response = http.get("/api/v1/datasets/bus-stops", headers={"origin": origin})
            preflight = http.options("/api/v1/datasets/bus-stops",
                                     headers={"origin": origin, "access-control-request-method": "GET"})
            if origins and origin in origins:
                assert response.headers["access-control-allow-origin"] == origin
                assert "Origin" in response.headers["vary"]  # shared caches must keep them apart
                assert preflight.headers["access-control-allow-origin"] == origin
            else:
                assert "access-control-allow-origin" not in response.headers
                assert "access-control-allow-origin" not in preflight.headers
    assert Settings.from_env({"OPENDATA_CORS_ORIGINS": "https://a.example, http://b.example:8080"}).cors_origins \
        == ("https://a.example", "http://b.example:8080")
    assert Settings.from_env({"OPENDATA_CORS_ORIGINS": ""}).cors_origins == ()
    with pytest.raises(ValueError, match="OPENDATA_CORS_ORIGINS"):
        Settings.from_env({"OPENDATA_CORS_ORIGINS": "https://a.example/path"})
