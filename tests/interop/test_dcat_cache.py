"""DCAT catalogue pages are kept rendered (interop/dcat_api.py), but never past a change of
the catalogue's metadata or rows: an edit or new rows show in the very next page."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient
from rdflib import Graph, Literal

from opendata.catalogue.commands import load_into, read_catalogue
from opendata.db import Database
from opendata.interop.dcat_api import _PageCache
from opendata.interop.dcat_vocab import DCT, SPDX
from opendata.settings import Settings

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



def stops_distribution(client: TestClient) -> tuple[int, str]:
    """The row count and the checksum value the catalogue page gives bus-stops' table."""
    graph = Graph().parse(data=client.get("/catalog.ttl").text, format="turtle")
    (distribution,) = graph.subjects(DCT.identifier, Literal("bus-stops.stops"))
    values = {str(p).rsplit("#", 1)[-1]: o for p, o in graph.predicate_objects(distribution)}
    return int(values["rowCount"]), str(graph.value(values["checksum"], SPDX.checksumValue))


def test_new_rows_show_in_the_next_catalogue_page(client: TestClient, portal_settings: Settings,
                                                  catalogue_dir: Path) -> None:
    """A reload that changes only a data file (no metadata edit: the search index is not
    touched) changes the distribution's row count and checksum: a harvester that checks
    the download against spdx:checksum must not be given the old one."""
    rows, checksum = stops_distribution(client)
    stops = catalogue_dir / "data" / "stops.csv"
    stops.write_text(stops.read_text(encoding="utf-8") + "S004,体育中心,天河区,9\n", encoding="utf-8")
    database = Database(portal_settings.resolved_database_url)  # another engine: as another process
    load_into(database, read_catalogue(catalogue_dir))
    database.dispose()
    after_rows, after_checksum = stops_distribution(client)
    assert (after_rows, after_rows - rows) == (4, 1) and after_checksum != checksum


def test_the_page_cache_is_bounded_by_bytes() -> None:
    """Pages of any size under any key (page numbers, page sizes, Host names) never make
    the process keep more than its byte budget."""
    cache = _PageCache(size=100, max_bytes=1000)
    for page in range(50):
        cache.put(("page", page), b"x" * 200, None)
        assert cache._bytes <= 1000 and len(cache) <= 5
    cache.put(("page", 0), b"x" * 200, None)
    cache.put(("page", 0), b"y" * 100, None)  # the same key again counts once
    assert cache.get(("page", 0)) == (b"y" * 100, None)
    cache.put(("huge",), b"z" * 300, "next")  # over a quarter of the budget: served, not kept
    assert cache.get(("huge",)) is None and cache.get(("page", 0)) is not None
