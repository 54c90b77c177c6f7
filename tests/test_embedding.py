"""Embedding: OpenDataPlugin mounts our API into a host app that keeps its own routes."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from opendata import OpenDataPlugin, Settings


@get("/hello")
async def hello() -> dict[str, str]:
    return {"host": "mine"}


def test_plugin_mounts_under_a_prefix_beside_host_routes(portal_settings: Settings) -> None:
    plugin = OpenDataPlugin(portal_settings, path_prefix="/open-data")
    app = Litestar(route_handlers=[hello], plugins=[plugin])
    with TestClient(app) as client:
        assert client.get("/hello").json() == {"host": "mine"}
        body = client.get("/open-data/api/v1/datasets", params={"q": "公交"}).json()
        assert [d["id"] for d in body["items"]] == ["bus-stops"]
        assert client.get("/open-data/api/v1/publishers").status_code == 200
        # our routes live only under the prefix; the host's 404s stay the host's
        assert client.get("/api/v1/datasets").status_code == 404
        missing = client.get("/open-data/api/v1/datasets/nope")
        assert missing.json()["error"]["code"] == "not_found"


def test_prefix_can_come_from_settings(portal_settings: Settings) -> None:
    app = Litestar(plugins=[OpenDataPlugin(portal_settings.replace(api_prefix="/gov/data"))])
    with TestClient(app) as client:
        assert client.get("/gov/data/api/v1/domains").status_code == 200
