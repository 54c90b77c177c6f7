"""The OpenAPI document tells the truth about the public endpoints.

It validates against the OpenAPI 3.1 meta-schema (openapi-spec-validator), every error
response is documented with our error shape, and a bounded schemathesis run over real
HTTP checks that what the public read endpoints answer conforms to the document: status
codes, content types, headers and response bodies, for generated valid and invalid
requests alike. (tests/test_no_server_errors.py fuzzes every operation for 5xx.)
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance, not_a_server_error, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from tests.interop.conftest import Portal

EXAMPLES_PER_OPERATION = 8
PUBLIC = (r"^/api/v1/(datasets|publishers|domains|licence-terms)(/\{[a-z_]+\})?$"
          r"|^/api/v1/datasets/\{dataset_id\}/resources/\{resource_id\}/(rows|download)$"
          r"|^/dataset/\{dataset_id\}/datapackage\.json$|^/catalog\.(jsonld|ttl|rdf)$|^/api$")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@pytest.fixture(scope="module")
def document(portal: Portal) -> dict:
    return portal.http.get("/schema/openapi.json").json()


def test_the_document_is_valid_openapi(document: dict) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_component_titles_are_unique(document: dict) -> None:
    """Client generators name models by title: a shared title (two LicenceOut classes)
    made openapi-python-client drop DatasetOut."""
    titles = [schema.get("title", name) for name, schema in document["components"]["schemas"].items()]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)


def test_every_error_is_documented_in_our_shape(document: dict) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_security_schemes_are_declared(document: dict) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["accessToken"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                      "description": schemes["accessToken"]["description"]}
    assert schemes["sessionCookie"]["in"] == "cookie" and schemes["sessionCookie"]["name"] == "opendata_session"
    rows = document["paths"]["/api/v1/datasets/{dataset_id}/resources/{resource_id}/rows"]["get"]
    assert {} in rows["security"] and {"accessToken": []} in rows["security"]
    session = [{"sessionToken": []}, {"sessionCookie": []}]
    paths = document["paths"]
    for path, method in (("/api/v1/me", "get"), ("/api/v1/clients", "post"), ("/api/v1/licences", "get"),
                         ("/api/v1/applications/{application_id}/approve", "post"), ("/api/v1/audit", "get")):
        assert paths[path][method]["security"] == session, (path, method)
        assert {"401", "403"} <= set(paths[path][method]["responses"])
    assert paths["/api/v1/compute/verify"]["post"]["security"] == [{"accessToken": []}]
    assert {"clientBasic": []} in paths["/api/v1/token"]["post"]["security"]
    for public in ("/api/v1/datasets", "/catalog.ttl", "/api/v1/auth/login"):
        assert "security" not in next(iter(paths[public].values())), public


def test_declared_security_is_what_the_server_enforces(portal: Portal, document: dict) -> None:
    """Every operation said to need a session refuses an anonymous call with 401 (those
    without a request body: a body is validated before the handler looks at the caller)."""
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation.get("security") != [{"sessionToken": []}, {"sessionCookie": []}] \
                    or "requestBody" in operation:
                continue
            response = portal.http.request(method.upper(), re.sub(r"\{[a-z_]+\}", "1", path))
            assert response.status_code == 401, (method, path, response.text)
            checked += 1
    assert checked >= 15


@pytest.fixture(scope="module")
def api_schema(portal: Portal):
    config = SchemathesisConfig()
    config.projects.default.generation.update(modes=list(GenerationMode))
    loaded = schemathesis.openapi.from_url(f"{portal.url}/schema/openapi.json", config=config)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema").include(
    lambda ctx: ctx.operation.method.upper() == "GET" and re.search(PUBLIC, ctx.operation.path) is not None)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_public_endpoints_conform_to_the_document(case) -> None:
    response = case.call()
    case.validate_response(response, checks=CHECKS)


ROWS = "/api/v1/datasets/{dataset_id}/resources/{resource_id}/rows"
DOWNLOAD = "/api/v1/datasets/{dataset_id}/resources/{resource_id}/download"
OPEN = {"dataset_id": "bus-stops", "resource_id": "stops"}
LICENSED = {"dataset_id": "si-headcount", "resource_id": "monthly"}


def test_real_datasets_conform_too(api_schema, portal: Portal) -> None:
    """Generated ids rarely name a dataset: these cases reach the 200, 206, 304 and
    licence answers of the data endpoints, and the documents of real datasets."""
    token = {"Authorization": f"Bearer {portal.token}"}
    cases = [
        (ROWS, OPEN, {"limit": 1}, {}), (ROWS, OPEN, {"district": "天河区", "sort": "-lines"}, {}),
        (ROWS, LICENSED, {}, {}), (ROWS, LICENSED, {}, token), (ROWS, LICENSED, {"fields": "credit_code"}, token),
        (ROWS, {"dataset_id": "personal-si-base", "resource_id": "base"}, {}, {}),
        (ROWS, OPEN, {"limit": 0}, {}), (ROWS, {"dataset_id": "bus-stops", "resource_id": "nope"}, {}, {}),
        (DOWNLOAD, OPEN, {}, {}), (DOWNLOAD, OPEN, {"format": "xlsx"}, {}), (DOWNLOAD, OPEN, {"format": "ndjson"}, {}),
        (DOWNLOAD, OPEN, {}, {"Range": "bytes=0-9"}), (DOWNLOAD, OPEN, {}, {"Range": "bytes=99999-"}),
        (DOWNLOAD, OPEN, {"format": "pdf"}, {}), (DOWNLOAD, LICENSED, {}, token), (DOWNLOAD, LICENSED, {}, {}),
        ("/api/v1/datasets/{dataset_id}", {"dataset_id": "bus-stops"}, {}, {}),
        ("/api/v1/datasets/{dataset_id}", {"dataset_id": "si-headcount"}, {}, {}),
        ("/dataset/{dataset_id}/datapackage.json", {"dataset_id": "people"}, {}, {}),
        ("/api/v1/datasets", {}, {"q": "公交", "page_size": 1}, {}),
        ("/api/v1/licence-terms/{licence_id}", {"licence_id": "gz-open-data-1.0"}, {}, {}),
    ]
    seen = set()
    for path, path_parameters, query, headers in cases:
        case = api_schema[path]["GET"].Case(path_parameters=path_parameters, query=query, headers=headers)
        response = case.call()
        seen.add((path, response.status_code))
        case.validate_response(response, checks=CHECKS)
    etag = portal.http.get("/api/v1/datasets/bus-stops").headers["etag"]
    case = api_schema["/api/v1/datasets/{dataset_id}"]["GET"].Case(path_parameters={"dataset_id": "bus-stops"},
                                                                     headers={"If-None-Match": etag})
    response = case.call()
    assert response.status_code == 304
    case.validate_response(response, checks=CHECKS)
    assert {(ROWS, 200), (ROWS, 403), (ROWS, 400), (ROWS, 404), (DOWNLOAD, 200), (DOWNLOAD, 206),
            (DOWNLOAD, 416)} <= seen, seen
