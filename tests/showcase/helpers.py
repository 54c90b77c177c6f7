"""A portal on the mini catalogue for a whole test module, and showcase bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from litestar.testing import TestClient

from tests.factories import write_catalogue

XSS_TITLE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "公交到站预测小程序", "description": "用公交站点数据预测到站时间，服务通勤市民。",
        "url": "https://bus.example.com/app", "datasets": ["bus-stops"], "kind": "app",
    }
    data.update(changes)
    return data


def portal_client(folder: Path, database_url: str) -> TestClient:
    from opendata import create_app
    from opendata.settings import Settings

    settings = Settings(data_dir=folder / "data", database_url=database_url,
                        catalogues=(write_catalogue(folder / "mini"),), load_catalogues_on_startup=True,
                        secure_cookies=False)
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def module_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """(client, database URL) of one SQLite portal shared by a module's tests."""
    folder = tmp_path_factory.mktemp("showcase")
    url = f"sqlite:///{folder / 'od.db'}"
    with portal_client(folder, url) as client:
        yield client, url
