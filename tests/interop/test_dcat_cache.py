"""DCAT catalogue pages are kept rendered (interop/dcat_api.py), but never past a change of
the catalogue's metadata: an edit shows in the very next page, in every serialisation."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.access.helpers import make_staff, sign_in


@pytest.mark.parametrize("extension", ["ttl", "jsonld"])
def test_an_edit_shows_in_the_next_catalogue_page(client: TestClient, database_url: str, extension: str) -> None:
    make_staff(database_url, "admin", "admin")
    first = client.get(f"/catalog.{extension}")
    assert first.status_code == 200 and client.get(f"/catalog.{extension}").content == first.content
    assert "广州市电车站点" not in first.text
    response = client.patch("/api/v1/datasets/bus-stops", headers=sign_in(client, "admin"),
                            json={"title_zh": "广州市电车站点"})
    assert response.status_code == 200, response.text
    assert "广州市电车站点" in client.get(f"/catalog.{extension}").text
    page = client.get(f"/catalog.{extension}", params={"page_size": 1})
    assert page.headers["link"].endswith('rel="next"') and page.content != first.content
