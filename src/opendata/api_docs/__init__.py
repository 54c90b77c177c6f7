"""The interactive API docs at /schema, served from this server under the portal's CSP.

Litestar's render plugins load Redoc/Swagger/Scalar from CDNs and start them with an
inline script: the Content-Security-Policy (``script-src 'self'``, no inline script)
blocks both, and /schema was blank. Here the page is our own HTML with no inline script
or style; Swagger UI 5 (OpenAPI 3.1) comes from the ``swagger-ui-py`` wheel's static
files, and our ``swagger-init.js`` starts it on ``/schema/openapi.json``. All of it is
served from ``/schema/assets/``, same origin, so the CSP stays unchanged.
"""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

HERE = Path(__file__).parent
ASSETS_PATH = "/schema/assets"


def swagger_ui_dir() -> Path:
    """The swagger-ui-py wheel's ``static`` folder, found without importing the package
    (its __init__ imports adapters for several web frameworks we do not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: pip install swagger-ui-py")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI at /schema (and /schema/swagger), every asset from this origin."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"])

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        schema_url = escape(self.get_openapi_json_route(request))
        assets = escape(request.app.route_reverse("api-docs-assets", file_path="/").rstrip("/"))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="/static/emblem.svg">
<script src="{assets}/swagger-ui-bundle.js" defer></script>
<script src="{assets}/swagger-init.js" defer></script>
</head>
<body data-openapi-url="{schema_url}">
<noscript>The interactive documentation needs JavaScript; the document itself is at
<a href="{schema_url}">{schema_url}</a>.</noscript>
<div id="swagger-ui"></div>
</body>
</html>
""".encode()


def assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH, directories=[HERE / "static", swagger_ui_dir()], name="api-docs-assets",
        include_in_schema=False,
    )
