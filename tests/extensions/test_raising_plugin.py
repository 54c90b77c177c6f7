"""Attacks by a buggy plugin: one that registers cleanly, then raises in everything it is
called for (tests/extensions/example_plugin/opendata_example/raising.py). The portal must
keep serving everything else, tell the client nothing of the plugin's internals, and say
in its log which plugin failed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, select

from opendata import create_app
from opendata.access import passwords
from opendata.cli import main
from opendata.db import Database
from opendata.settings import Settings
from opendata.stats.models import UsageCounter
from tests.access.helpers import bearer, licensed_enterprise
from tests.extensions.fake_dist import installed_plugins
from tests.factories import manifest, write_catalogue

STOPS = "/api/v1/datasets/bus-stops/resources/stops/download"
HEADCOUNT = "/api/v1/datasets/si-headcount/resources/monthly/download"


@pytest.fixture(scope="module")
def plugin_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("site")
    with installed_plugins(folder, {"raising": "opendata_example.raising"}, distribution="opendata_raising_test"):
        yield folder


@pytest.fixture(scope="module")
def portal(plugin_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The mini catalogue on a portal with the raising plugin: its start-up load already
    fired a dataset.updated hook that raised for every dataset."""
    root = tmp_path_factory.mktemp("portal")
    url = f"sqlite:///{root / 'opendata.db'}"
    settings = Settings(data_dir=root / "data", database_url=url, catalogues=(write_catalogue(root / "mini"),),
                        secure_cookies=False, plugins=("raising",))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield client, url


def _downloads(url: str, fmt: str) -> int:
    database = Database(url)
    try:
        with database.session() as session:
            return session.scalar(select(func.coalesce(func.sum(UsageCounter.count), 0))
                                  .where(UsageCounter.metric == "download", UsageCounter.format == fmt))
    finally:
        database.dispose()


def test_a_format_whose_supports_raises_is_left_out_and_breaks_no_listing(
        portal: tuple[TestClient, str], caplog: pytest.LogCaptureFixture) -> None:
    client, _ = portal
    with caplog.at_level(logging.ERROR, logger="opendata.extensions"):
        page = client.get("/datasets/bus-stops")
        dataset = client.get("/api/v1/datasets/bus-stops")
        package = client.get("/api/3/action/package_show", params={"id": "bus-stops"})
        turtle = client.get("/catalog.ttl")
        asked = client.get(STOPS, params={"format": "brittle"})
    for answer in (page, dataset, package, turtle):
        assert answer.status_code == 200, (answer.request.url, answer.text[:300])
    assert 'data-format="download.boom"' in page.text and "download.brittle" not in page.text
    assert [d["format"] for d in dataset.json()["resources"][0]["downloads"]] == ["csv", "xlsx", "json", "ndjson",
                                                                                   "boom"]
    assert "BRITTLE" not in {r["format"] for r in package.json()["result"]["resources"]}
    assert "format=brittle" not in turtle.text and "format=boom" in turtle.text
    assert asked.status_code == 400 and asked.json()["error"]["code"] == "format_not_supported"
    assert any("plugin raising" in r.getMessage() and "brittle" in r.getMessage() for r in caplog.records), \
        [r.getMessage() for r in caplog.records]


def test_a_format_that_raises_mid_stream_is_never_counted_as_served(portal: tuple[TestClient, str]) -> None:
    client, url = portal
    before = _downloads(url, "boom")
    broken = None
    try:
        broken = client.get(STOPS, params={"format": "boom"})
    except Exception:  # the stream ends with an error after its headers: the client sees a cut-off body
        pass
    if broken is not None:
        assert broken.content in (b"", b"name\n")
    assert _downloads(url, "boom") == before
    whole = client.get(STOPS, params={"format": "csv"})  # the next download is unaffected
    assert whole.status_code == 200 and whole.text.startswith("stop_id,")


def test_hooks_that_raise_undo_and_fail_nothing(portal: tuple[TestClient, str],
                                                caplog: pytest.LogCaptureFixture) -> None:
    client, url = portal
    assert client.get("/api/v1/datasets/bus-stops").status_code == 200  # loaded despite dataset.updated
    before = _downloads(url, "csv")
    with caplog.at_level(logging.ERROR, logger="opendata.extensions"):
        served = client.get(STOPS, params={"format": "csv"})
        licensed = licensed_enterprise(client, url, username="hooked-co")
    assert served.status_code == 200 and served.text.startswith("stop_id,")
    assert _downloads(url, "csv") == before + 1
    token = licensed.token(client)
    client.cookies.clear()
    rows = client.get(HEADCOUNT, params={"format": "csv"}, headers=bearer(token))
    assert rows.status_code == 200 and rows.text.startswith("month,headcount")
    failed = {r.getMessage() for r in caplog.records}
    assert "plugin raising: its download.served hook failed" in failed
    assert "plugin raising: its licence.approved hook failed" in failed


def test_a_route_that_raises_is_a_500_that_tells_nothing(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    answer = client.get("/api/v1/raising/fail")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "hunter2" not in answer.text and "db.internal" not in answer.text and "Traceback" not in answer.text
    assert client.get("/api/v1/datasets/bus-stops").status_code == 200


def test_a_metadata_extension_that_raises_is_a_problem_naming_it(plugin_folder: Path, tmp_path: Path) -> None:
    raw = manifest()
    raw["datasets"][0]["extensions"] = {"shaky": {"other": 1}}
    folder = write_catalogue(tmp_path / "shaky", raw)
    result = CliRunner().invoke(main, ["catalogue", "validate", str(folder)], env={"OPENDATA_PLUGINS": "raising"})
    assert result.exit_code == 1, result.output
    assert "bus-stops" in result.output and "shaky: the metadata extension failed: KeyError: 'level'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    raw["datasets"][0]["extensions"] = {"shaky": {"level": 2}}
    fine = CliRunner().invoke(main, ["catalogue", "validate", str(write_catalogue(tmp_path / "fine", raw))],
                              env={"OPENDATA_PLUGINS": "raising"})
    assert fine.exit_code == 0, fine.output
