"""The plugin sizes the process-wide handler threads to its connection pool, unless the
embedding host says it manages them itself (manage_handler_threads=False)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio.to_thread
from litestar import Litestar, get
from litestar.testing import TestClient

from opendata import OpenDataPlugin, Settings


@get("/threads")
async def threads() -> dict:
    loop = asyncio.get_running_loop()
    executor = loop._default_executor  # noqa: SLF001 - what the plugin replaces
    return {"executor": getattr(executor, "_max_workers", None),
            "limiter": anyio.to_thread.current_default_thread_limiter().total_tokens}


def _host(tmp_path: Path, **settings: object) -> Litestar:
    config = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'e.db'}",
                      load_catalogues_on_startup=False, db_pool_size=12, **settings)
    return Litestar(route_handlers=[threads], plugins=[OpenDataPlugin(config, path_prefix="/open-data")])


def test_the_plugin_sizes_handler_threads_to_the_pool(tmp_path: Path) -> None:
    with TestClient(_host(tmp_path)) as client:
        assert client.get("/threads").json() == {"executor": 6, "limiter": 6}
        assert client.get("/open-data/api/v1/datasets").status_code == 200


def test_a_host_that_manages_threads_keeps_its_own(tmp_path: Path) -> None:
    anyio_default = 40  # anyio's own default limiter size
    with TestClient(_host(tmp_path, manage_handler_threads=False)) as client:
        answer = client.get("/threads").json()
        assert answer["executor"] != 6 and answer["limiter"] == anyio_default
        assert client.get("/open-data/api/v1/datasets").status_code == 200


def test_the_setting_comes_from_the_environment() -> None:
    assert Settings.from_env({"OPENDATA_MANAGE_HANDLER_THREADS": "false"}).manage_handler_threads is False
    assert Settings.from_env({}).manage_handler_threads is True
