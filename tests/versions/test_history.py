"""Versions through every door: catalogue loads and uploads make them, the API, the CLI and
the pages show them; an identical upload moves nothing forward."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import inspect, select

from opendata.catalogue.commands import load_into, read_catalogue
from opendata.catalogue.models import Dataset
from opendata.cli import main
from opendata.db import Database
from tests.factories import DATA, manifest, write_catalogue
from tests.portal.helpers import make_staff, post_form, sign_in, sign_out, text_of

CHANGED_STOPS = ("stop_id,name,district,lines\n"
                 "S001,天河客运站,天河区,13\n"          # changed
                 "S002,\"北京路, 步行街\",越秀区,8\n"    # same
                 "S004,广州塔,海珠区,9\n")              # added; S003 removed


def reload(database_url: str, folder: Path, data: dict[str, str], raw: dict | None = None) -> None:
    write_catalogue(folder, raw, {**DATA, **data})
    database = Database(database_url)
    try:
        load_into(database, read_catalogue(folder), versions_kept=3)
    finally:
        database.dispose()


def upload(client: TestClient, content: bytes, name: str = "stops.csv"):
    return post_form(client, "/publisher/datasets/bus-stops/resources/stops/upload",
                     files={"file": (name, content, "text/csv")})


def test_a_catalogue_reload_with_new_rows_is_a_version_with_its_diff(
        client: TestClient, database_url: str, catalogue_dir: Path) -> None:
    first = client.get("/api/v1/datasets/bus-stops/versions").json()
    assert [(v["number"], v["origin"], v["actor"], v["row_count"], v["added"]) for v in first] == [
        (1, "load", "catalogue load", 3, 3)]
    assert first[0]["file_digest"] == hashlib.sha256(DATA["data/stops.csv"].encode()).hexdigest()
    assert client.get("/api/v1/datasets/bus-stops").json()["version_number"] == 1

    reload(database_url, catalogue_dir, {"data/stops.csv": CHANGED_STOPS})
    listing = client.get("/api/v1/datasets/bus-stops/versions").json()
    assert [v["number"] for v in listing] == [2, 1]
    latest = client.get("/api/v1/datasets/bus-stops/versions/2").json()
    assert (latest["added"], latest["removed"], latest["changed"], latest["row_count"]) == (1, 1, 1, 3)
    assert latest["samples"]["added"] == ["S004"] and latest["samples"]["removed"] == ["S003"]
    assert latest["samples"]["changed"] == ["S001"] and latest["diff_key"] == "stop_id"
    assert latest["file_digest"] == hashlib.sha256(CHANGED_STOPS.encode()).hexdigest()
    dataset = client.get("/api/v1/datasets/bus-stops").json()
    assert dataset["version_number"] == 2
    assert dataset["modified"] == datetime.now(timezone.utc).date().isoformat()
    # Other datasets' files did not change: no new version for them.
    assert [v["number"] for v in client.get("/api/v1/datasets/si-headcount/versions").json()] == [1]

    missing = client.get("/api/v1/datasets/bus-stops/versions/9")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/datasets/nope/versions").status_code == 404

    runner = CliRunner()
    text = runner.invoke(main, ["--database-url", database_url, "catalogue", "history", "bus-stops"])
    assert text.exit_code == 0, text.output
    assert "version 2, 2 recorded" in text.output and "+1 -1 ~1" in text.output and "catalogue load" in text.output
    as_json = runner.invoke(main, ["--database-url", database_url, "catalogue", "history", "bus-stops", "--json"])
    document = json.loads(as_json.output)
    assert document["version_number"] == 2 and document["versions"][0]["samples"]["changed"] == ["S001"]
    unknown = runner.invoke(main, ["--database-url", database_url, "catalogue", "history", "nope"])
    assert unknown.exit_code == 1 and "nope" in unknown.output

    page = text_of(client.get("/datasets/bus-stops/history").text)
    assert "版本历史" in page and "v2" in page and "S004" in page and "目录加载" in page
    english = text_of(client.get("/datasets/bus-stops/history?lang=en").text)
    assert "Version history" in english and "Added keys (sample)" in english
    dataset_page = text_of(client.get("/datasets/bus-stops?lang=zh").text)
    assert "版本历史" in dataset_page and "数据版本" in dataset_page and "v2" in dataset_page


def test_an_identical_upload_moves_nothing_and_a_changed_one_is_the_uploaders_version(
        client: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    before = client.get("/api/v1/datasets/bus-stops").json()
    # The same rows in another encoding-neutral spelling (CRLF): same rows, no version.
    same = upload(client, DATA["data/stops.csv"].replace("\n", "\r\n").encode())
    assert same.status_code == 303 and "notice=upload_unchanged" in same.headers["location"]
    after = client.get("/api/v1/datasets/bus-stops").json()
    assert (after["version_number"], after["updated_at"], after["modified"]) == (
        before["version_number"], before["updated_at"], before["modified"])
    assert len(client.get("/api/v1/datasets/bus-stops/versions").json()) == 1

    changed = upload(client, CHANGED_STOPS.encode(), "新站点.csv")
    assert changed.status_code == 303 and "version=2" in changed.headers["location"]
    version = client.get("/api/v1/datasets/bus-stops/versions/2").json()
    assert (version["actor"], version["origin"], version["file_name"]) == ("user:clerk", "upload", "新站点.csv")
    assert (version["added"], version["removed"], version["changed"]) == (1, 1, 1)
    assert client.get("/api/v1/datasets/bus-stops").json()["version_number"] == 2
    rows = client.get("/api/v1/datasets/bus-stops/resources/stops/rows").json()
    assert [r["stop_id"] for r in rows["items"]] == ["S001", "S002", "S004"]


def test_sample_keys_of_conditional_data_are_for_its_publisher_only(
        client: TestClient, database_url: str, catalogue_dir: Path) -> None:
    raw = manifest()
    raw["datasets"][1]["resources"][0]["primary_key"] = "credit_code"
    reload(database_url, catalogue_dir, {}, raw)
    reload(database_url, catalogue_dir, {"data/headcount.csv": DATA["data/headcount.csv"]
                                         + "91440101MA5CYYYY2B,2024-01-01,12\n"}, raw)
    path = "/api/v1/datasets/si-headcount/versions"
    number = client.get(path).json()[0]["number"]
    anonymous = client.get(f"{path}/{number}").json()
    assert anonymous["added"] == 1 and anonymous["samples"]["added"] == [] and anonymous["samples"]["keys_hidden"]
    assert "91440101MA5CYYYY2B" not in client.get("/datasets/si-headcount/history").text
    make_staff(database_url, "hr-clerk", "publisher", "gz-hrss")
    sign_in(client, "hr-clerk")
    assert client.get(f"{path}/{number}").json()["samples"]["added"] == ["91440101MA5CYYYY2B"]
    assert "91440101MA5CYYYY2B" in client.get("/datasets/si-headcount/history").text
    sign_out(client)
    make_staff(database_url, "bus-clerk", "publisher", "gz-transport")
    sign_in(client, "bus-clerk")  # another department's publisher
    assert client.get(f"{path}/{number}").json()["samples"]["added"] == []


@pytest.mark.parametrize("staged", [True, False], ids=["staged", "one-transaction"])
def test_old_generations_beyond_versions_kept_are_dropped(database_url: str, tmp_path: Path, staged: bool) -> None:
    database = Database(database_url)
    database.migrate()
    folder = write_catalogue(tmp_path / "c")
    try:
        for lines in range(1, 7):
            write_catalogue(folder, None, {**DATA, "data/stops.csv": f"stop_id,name,district,lines\nS1,a,b,{lines}\n"})
            load_into(database, read_catalogue(folder), versions_kept=2, staged=staged)
        write_catalogue(folder, None, {**DATA, "data/stops.csv": "stop_id,name,district,lines\nS1,a,b,6\r\n"})
        load_into(database, read_catalogue(folder), versions_kept=2, staged=staged)  # same rows: no version
        with database.session() as session:
            stops = session.scalars(select(Dataset).where(Dataset.id == "bus-stops")).one()
            assert stops.version_number == 6
            current = stops.resources[0].table_name
        names = {n for n in inspect(database.engine).get_table_names() if n.startswith("rows_")}
        bus_tables = {n for n in names if n.startswith(current.rsplit("_", 1)[0] + "_")}
        assert len(bus_tables) == 3 and current in bus_tables  # the current one and two kept
        with database.session() as session:
            from opendata.versions.service import versions_of
            kept = [v.number for v in versions_of(session, "bus-stops") if v.table_name]
        assert kept == [6, 5, 4]
    finally:
        database.dispose()
