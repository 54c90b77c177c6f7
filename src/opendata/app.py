"""create_app(settings): the ready-made opendata portal."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Tag

from opendata import __version__
from opendata.api_docs import LocalSwaggerPlugin, assets_router
from opendata.plugin import OpenDataPlugin
from opendata.portal import PortalPlugin
from opendata.settings import Settings


@get("/api", summary="Where to start", tags=["meta"], include_in_schema=True)
async def api_index() -> dict[str, object]:
    return {
        "name": "opendata",
        "version": __version__,
        "openapi": "/schema/openapi.json",
        "docs": "/schema",
        "endpoints": {
            "datasets": "/api/v1/datasets",
            "publishers": "/api/v1/publishers",
            "domains": "/api/v1/domains",
        },
    }


@get("/healthz", summary="Liveness probe", tags=["meta"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the full portal: the API at its root, OpenAPI docs at /schema, and the
    server-rendered pages (opendata.portal) for people."""
    settings = settings if settings is not None else Settings.from_env()
    plugin = OpenDataPlugin(settings, path_prefix=settings.api_prefix or "/")
    return Litestar(
        route_handlers=[api_index, healthz, assets_router()],
        plugins=[plugin, PortalPlugin(plugin)],
        openapi_config=OpenAPIConfig(
            title="opendata",
            version=__version__,
            description="Public-data open platform and authorised-operations marketplace.",
            path="/schema",
            # Our own page and assets: the CDN ones are blocked by the CSP (opendata.api_docs).
            render_plugins=[LocalSwaggerPlugin()],
            tags=[Tag(name="catalogue", description="Datasets, publishers and domains")],
        ),
        debug=settings.debug,
    )
