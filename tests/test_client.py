"""The Python SDK against a real portal over HTTP."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

import pytest

from opendata import create_app
from opendata.client import OpenDataClient, OpenDataError
from opendata.settings import Settings
from tests.serving import running_server


@pytest.fixture
def sdk(data_settings: Settings) -> Iterator[OpenDataClient]:
    with running_server(create_app(data_settings)) as base, OpenDataClient(base) as client:
        yield client


def test_search_and_dataset(sdk: OpenDataClient) -> None:
    result = sdk.search("公交", open_level="unconditional")
    assert [d["id"] for d in result["items"]] == ["bus-stops"]
    assert sdk.search(domain=["交通", "城市建设"])["total"] == 2
    assert sdk.dataset("people")["resources"][0]["id"] == "list"
    assert {p["id"] for p in sdk.publishers()} == {"gz-transport", "gz-hrss"}


def test_rows_iterates_through_every_page(sdk: OpenDataClient) -> None:
    ages = [r["age"] for r in sdk.rows("people", "list", fields=["age"], sort="age", page_size=1)]
    assert ages == [24, 34, 39, 47]
    tianhe = list(sdk.rows("people", "list", district="天河区", age__in=[24, 47, 34]))
    assert sorted(r["age"] for r in tianhe) == [24, 34]


def test_download_streams_to_disk(sdk: OpenDataClient, tmp_path: Path) -> None:
    path = sdk.download("people", "list", "csv", tmp_path / "people.csv", bom=True, member=True)
    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(content[3:].decode().splitlines()))
    assert sorted(r["age"] for r in rows) == ["34", "47"]


def test_errors_carry_status_and_code_and_leave_no_file(sdk: OpenDataClient, tmp_path: Path) -> None:
    out = tmp_path / "downloads"
    out.mkdir()
    with pytest.raises(OpenDataError) as caught:
        sdk.download("si-headcount", "monthly", "csv", out / "x.csv")
    assert caught.value.status == 403 and caught.value.code == "licence_required"
    assert list(out.iterdir()) == []
    with pytest.raises(OpenDataError, match="unknown_field"):
        list(sdk.rows("people", "list", nope=1))


def test_an_unreachable_portal_is_an_open_data_error(tmp_path: Path) -> None:
    from opendata.client import PortalUnreachable

    with OpenDataClient("http://127.0.0.1:1") as offline:
        for call in (lambda: offline.search("x"), lambda: list(offline.rows("d", "r")),
                     lambda: offline.download("d", "r", "csv", tmp_path / "x.csv")):
            with pytest.raises(OpenDataError) as caught:
                call()
            assert isinstance(caught.value, PortalUnreachable) and caught.value.status == 0
            assert "cannot reach the portal at http://127.0.0.1:1" in caught.value.message
    assert list(tmp_path.iterdir()) == []
