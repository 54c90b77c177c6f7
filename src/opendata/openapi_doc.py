"""Corrections to the OpenAPI document Litestar generates, so that a client generator can
trust it (issue 11, item 5).

Litestar documents errors as its own ``{status_code, detail, extra}`` while every error
we send is ``{"error": {"code", "message"}}`` (opendata.errors); it cannot see the query
parameters that handlers read from ``request.query_params`` (rows filters, ``format``)
nor what a ``Response[bytes]`` holds (a rows page, a CSV, Turtle); and it knows nothing
of our security schemes, conditional requests or ranges. ``correct`` rewrites the
generated document once, at startup (OpenDataPlugin.lifespan), where it lies; the
public read endpoints are checked against it by schemathesis (tests/interop/test_openapi.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "title": "Error",
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string", "description": "stable, machine-readable"},
                       "message": {"type": "string"}, "details": {}},
    }},
}
SECURITY_SCHEMES = {
    "accessToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A licence's access token (POST /api/v1/token, client credentials): "
                                   "licensed rows, downloads and computations."},
    "sessionToken": {"type": "http", "scheme": "bearer",
                     "description": "A signed-in person's session token (ods_…), from POST /api/v1/auth/login."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "opendata_session",
                      "description": "The portal's session cookie; writes also need the X-CSRF-Token header."},
    "clientBasic": {"type": "http", "scheme": "basic",
                    "description": "An API client's id and secret (or client_id/client_secret in the form body)."},
    "ckanToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                  "description": "CKAN clients send the access token bare in Authorization."},
}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
REASONS = {"400": "Invalid parameter or body", "401": "Missing, invalid or expired credentials",
           "403": "Not allowed (licence, role, closed data)", "404": "No such thing",
           "405": "Method not allowed", "409": "Conflict with the current state",
           "413": "Body too large", "416": "Range not satisfiable", "429": "Quota or rate limit reached",
           "500": "Internal error"}
TEXT = {"type": "string"}
NOT_MODIFIED = {"description": "Not modified: the copy named by If-None-Match / If-Modified-Since is current",
                "headers": {"ETag": {"schema": TEXT}}}
VALIDATOR_HEADERS = {"ETag": {"schema": TEXT, "description": "see docs/interop.md, HTTP"},
                     "Last-Modified": {"schema": TEXT}}
LINK = {"Link": {"schema": TEXT, "description": 'RFC 8288: rel="next" / rel="describedby"'}}
CONDITIONAL_PARAMETERS = [
    {"name": "If-None-Match", "in": "header", "required": False, "schema": TEXT},
    {"name": "If-Modified-Since", "in": "header", "required": False, "schema": TEXT},
]
ROWS_PAGE = {
    "type": "object", "title": "RowsPage",
    "required": ["dataset", "resource", "fields", "total", "limit", "next", "links", "items"],
    "properties": {
        "dataset": TEXT, "resource": TEXT,
        "fields": {"type": "array", "items": {"$ref": "#/components/schemas/FieldOut"}},
        "total": {"type": "object", "required": ["value", "relation"],
                  "properties": {"value": {"type": "integer"}, "relation": {"enum": ["eq", "gte"]}}},
        "limit": {"type": "integer"},
        "next": {"type": ["string", "null"], "description": "cursor of the next page"},
        "links": {"type": "object", "properties": {"next": {"type": ["string", "null"]}}},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}
ROW_PARAMETERS = [
    {"name": "fields", "in": "query", "required": False, "schema": TEXT,
     "description": "comma-separated field names (default: all served fields)"},
    {"name": "sort", "in": "query", "required": False, "schema": TEXT,
     "description": "comma-separated fields, '-' for descending"},
    {"name": "filters", "in": "query", "required": False, "style": "form", "explode": True,
     "schema": {"type": "object", "additionalProperties": TEXT},
     "description": "field=value or field__op=value (eq, ne, lt, lte, gt, gte, in, contains, …; docs/data-access.md)"},
]
BINARY = {"type": "string", "format": "binary"}
# The metadata export's two formats (the rows download lists the application's formats).
DOWNLOAD_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
RDF_TYPES = {"jsonld": "application/ld+json", "ttl": "text/turtle", "rdf": "application/rdf+xml"}
JSON_LD = {"type": "object", "required": ["@context"], "description": "JSON-LD (compacted, @graph)"}


def _rdf(media: str) -> dict[str, Any]:
    return {"schema": JSON_LD if media == "application/ld+json" else TEXT}


def _error(status: str) -> dict[str, Any]:
    return {"description": REASONS.get(status, "Error"), "content": {"application/json": {"schema": ERROR_REF}}}


def _add_errors(operation: dict[str, Any], *statuses: str) -> None:
    for status in statuses:
        operation["responses"].setdefault(status, _error(status))


def _operations(document: dict[str, Any]):  # type: ignore[no-untyped-def]
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def correct(document: dict[str, Any], prefix: str = "", formats: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Rewrite ``document`` in place (and return it). ``prefix``: the API's mount path.
    ``formats``: the download formats (name -> media type) of the application, its
    plugins' included (opendata.extensions); the core's when None."""
    if formats is None:
        from opendata.formats.registry import CORE_EXPORTERS

        formats = {name: e.media_type for name, e in CORE_EXPORTERS.items()}
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["schemas"]["RowsPage"] = ROWS_PAGE
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, _method, operation in _operations(document):
        responses = operation.setdefault("responses", {})
        for status in list(responses):
            if status[0] in "45":
                responses[status] = {**_error(status), "description": responses[status].get("description")
                                     or REASONS.get(status, "Error")}
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            _add_errors(operation, "404")
        if operation.get("parameters") or operation.get("requestBody"):
            _add_errors(operation, "400")
        _add_errors(operation, "500")
    _unique_titles(components["schemas"])
    base = prefix.rstrip("/")
    paths = document.get("paths", {})
    _public_metadata(paths, base)
    _data(paths, base, {name: media.split(";")[0] for name, media in formats.items()})
    _standards(paths, base)
    return document


def _unique_titles(schemas: dict[str, Any]) -> None:
    """Two dataclasses named LicenceOut (access and catalogue) became two components
    with the same title, and client generators name models by title: one of them, and
    DatasetOut with it, was dropped. A shared title becomes the component's own name."""
    titles: dict[str, int] = {}
    for schema in schemas.values():
        titles[schema.get("title", "")] = titles.get(schema.get("title", ""), 0) + 1
    for name, schema in schemas.items():
        if titles.get(schema.get("title", ""), 0) > 1:
            schema["title"] = name


def _get(paths: dict[str, Any], path: str) -> dict[str, Any] | None:
    return paths.get(path, {}).get("get")


def _public_metadata(paths: dict[str, Any], base: str) -> None:
    dataset = _get(paths, f"{base}/api/v1/datasets/{{dataset_id}}")
    if dataset:
        dataset["responses"]["200"].setdefault("headers", {}).update({**VALIDATOR_HEADERS, **LINK})
        dataset["responses"]["304"] = NOT_MODIFIED
        dataset.setdefault("parameters", []).extend(CONDITIONAL_PARAMETERS)
    search = _get(paths, f"{base}/api/v1/datasets")
    if search:
        search["responses"]["200"].setdefault("headers", {}).update(LINK)
    export = _get(paths, f"{base}/api/v1/catalogue/export")
    if export:
        export["parameters"] = [p for p in export.get("parameters", []) if p.get("name") not in ("format",)] + [
            {"name": "format", "in": "query", "required": False, "schema": {"enum": ["csv", "xlsx"], "default": "csv"}},
            {"name": "bom", "in": "query", "required": False, "schema": {"enum": ["0", "1", "true", "false"]}},
            {"name": "header", "in": "query", "required": False, "schema": {"enum": ["names", "titles"]}}]
        export["responses"]["200"] = {
            "description": "One row per dataset, streamed", "headers": {"Content-Disposition": {"schema": TEXT}},
            "content": {media: {"schema": BINARY} for media in DOWNLOAD_TYPES}}
        _add_errors(export, "400")


def _data(paths: dict[str, Any], base: str, formats: Mapping[str, str]) -> None:
    root = f"{base}/api/v1/datasets/{{dataset_id}}/resources/{{resource_id}}"
    optional_token = [{}, {"accessToken": []}]
    rows = _get(paths, f"{root}/rows")
    if rows:
        rows["security"] = optional_token
        rows["parameters"] = [p for p in rows.get("parameters", []) if p.get("in") == "path"] + [
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            {"name": "cursor", "in": "query", "required": False, "schema": TEXT},
            *ROW_PARAMETERS, *CONDITIONAL_PARAMETERS]
        rows["responses"]["200"] = {
            "description": "One page of rows (open data: ETag; Link rel=next when there is a next page)",
            "headers": {**VALIDATOR_HEADERS, **LINK},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RowsPage"}}}}
        rows["responses"]["304"] = NOT_MODIFIED
        _add_errors(rows, "400", "401", "403", "404", "409", "429")
    download = _get(paths, f"{root}/download")
    if download:
        download["security"] = optional_token
        download["parameters"] = [p for p in download.get("parameters", []) if p.get("in") == "path"] + [
            {"name": "format", "in": "query", "required": False,
             "schema": {"enum": list(formats), "default": "csv"}},
            {"name": "bom", "in": "query", "required": False, "schema": {"enum": ["0", "1", "true", "false"]}},
            {"name": "header", "in": "query", "required": False, "schema": {"enum": ["names", "titles"]}},
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
             "description": "keep the first N rows"},
            *ROW_PARAMETERS, *CONDITIONAL_PARAMETERS,
            {"name": "Range", "in": "header", "required": False, "schema": TEXT,
             "description": "one bytes= range; honoured on the canonical CSV of open data"},
            {"name": "If-Range", "in": "header", "required": False, "schema": TEXT}]
        files = {media: {"schema": BINARY} for media in dict.fromkeys(formats.values())}
        headers = {**VALIDATOR_HEADERS, "Content-Disposition": {"schema": TEXT},
                   "Accept-Ranges": {"schema": {"enum": ["bytes", "none"]}}}
        download["responses"]["200"] = {"description": "The file, streamed", "headers": headers, "content": files}
        download["responses"]["206"] = {"description": "The asked byte range of the canonical CSV",
                                        "headers": {"Content-Range": {"schema": TEXT}},
                                        "content": {"text/csv": {"schema": BINARY}}}
        download["responses"]["304"] = NOT_MODIFIED
        _add_errors(download, "400", "401", "403", "404", "409", "416", "429")


def _standards(paths: dict[str, Any], base: str) -> None:
    for extension, media in RDF_TYPES.items():
        catalogue = _get(paths, f"{base}/catalog.{extension}")
        if catalogue:
            catalogue["responses"]["200"] = {"description": "One page of the DCAT-AP 3 catalogue (Hydra paging)",
                                             "headers": LINK, "content": {media: _rdf(media)}}
    dataset = _get(paths, f"{base}/dataset/{{name}}")
    if dataset:
        dataset["responses"]["200"] = {"description": "The dataset in DCAT-AP 3 ({id}.jsonld, .ttl or .rdf)",
                                       "content": {media: _rdf(media) for media in RDF_TYPES.values()}}
        dataset["responses"]["303"] = {"description": "The dataset IRI itself: see the representation in Location",
                                       "headers": {"Location": {"schema": TEXT}}}
    namespace = _get(paths, f"{base}/ns")
    if namespace:
        namespace["responses"]["200"] = {"description": "Our RDF vocabulary",
                                         "content": {"text/turtle": {"schema": TEXT}}}
    package = _get(paths, f"{base}/dataset/{{dataset_id}}/datapackage.json")
    if package:
        package["responses"]["200"]["description"] = "Frictionless Data Package v2"
    for action_path in (f"{base}/api/3/action/{{action}}", f"{base}/api/action/{{action}}"):
        for method in ("get", "post"):
            operation = paths.get(action_path, {}).get(method)
            if operation:
                operation["security"] = [{}, {"ckanToken": []}]


SESSION = [{"sessionToken": []}, {"sessionCookie": []}]
ACCESS = [{"accessToken": []}]
# What each helper's presence in a handler means for its security requirement.
AUTHENTICATORS = {"require_user": SESSION, "authenticate": ACCESS}


def _function(handler: Any) -> Any:
    fn = handler.fn
    return getattr(fn, "func", fn)  # Litestar wraps sync handlers in an AsyncCallable


def _calls(fn: Any, depth: int = 3) -> set[str]:
    """The authenticators ``fn`` calls, itself or through the module-level helpers it
    calls (three levels: handlers → helpers such as compute's ``owner_of`` → …)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return set()
    names = set(code.co_names)
    found = names & set(AUTHENTICATORS)
    if depth > 0:
        module = getattr(fn, "__globals__", {})
        qualname = getattr(fn, "__qualname__", "")
        owner = module.get(qualname.split(".")[0]) if "." in qualname else None
        for name in names - found:
            helper = module.get(name)
            if helper is None and isinstance(owner, type):
                helper = getattr(owner, name, None)  # a method of the handler's controller
            if inspect.isfunction(helper) and helper.__module__.startswith("opendata."):
                found |= _calls(helper, depth - 1)
    return found


def security_by_operation(app: Any) -> dict[tuple[str, str], list[dict[str, list[str]]]]:
    """(path, method) → its security requirement, read off the handler's code: one that
    calls ``require_user`` needs a signed-in session (bearer ods_… or the cookie), one
    that calls compute's ``authenticate`` a licence's access token. Handlers that call
    neither are left as they are (public, or declared by hand above)."""
    found: dict[tuple[str, str], list[dict[str, list[str]]]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            kinds = _calls(_function(handler))
            if not kinds:
                continue
            requirement = [item for kind in sorted(kinds) for item in AUTHENTICATORS[kind]]
            for method in handler.http_methods:
                found[(route.path_format, method.lower())] = requirement
    return found


# Handlers whose credentials are read where ``security_by_operation`` does not look.
BY_HAND: dict[tuple[str, str], list[dict[str, list[str]]]] = {
    ("/api/v1/compute/verify", "post"): ACCESS,  # the token travels to compute.service
    ("/api/v1/compute/models/{model_id}/score", "post"): ACCESS,
    ("/api/v1/token", "post"): [{"clientBasic": []}, {}],  # {}: the secret in the form body
    ("/api/v1/compute/jobs", "post"): ACCESS,  # compute/jobs/service.py authenticates
    **{(path, method): ACCESS + SESSION for path, method in (
        ("/api/v1/compute/jobs", "get"), ("/api/v1/compute/jobs/{job_id}", "get"),
        ("/api/v1/compute/jobs/{job_id}", "delete"), ("/api/v1/compute/jobs/{job_id}/cancel", "post"),
        ("/api/v1/compute/jobs/{job_id}/result", "get"))},
}


def apply_security(document: dict[str, Any], security: dict[tuple[str, str], list[dict[str, list[str]]]],
                   prefix: str = "") -> None:
    """Set each operation's ``security`` (unless already declared), with 401 and 403."""
    base = prefix.rstrip("/")
    wanted = {**{(base + path, method): value for (path, method), value in BY_HAND.items()}, **security}
    for path, method, operation in _operations(document):
        requirement = wanted.get((path, method))
        if requirement and "security" not in operation:
            operation["security"] = requirement
            _add_errors(operation, "401", "403")
