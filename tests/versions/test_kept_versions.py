"""Kept versions: downloadable through the current download's guard (licence, masks,
audit), and a publisher can roll back to one (API, page, CLI): audited, itself a version."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import select

from opendata.audit.models import AuditRecord
from opendata.cli import main
from opendata.db import Database
from tests.access.helpers import (
    CREDIT_B, basic, bearer, latest_audit, licensed_enterprise, make_staff, register_enterprise, sign_in as api_sign_in,
)
from tests.factories import DATA, manifest
from tests.portal.helpers import post_form, sign_in
from tests.versions.test_history import CHANGED_STOPS, reload


def audit_actions(database_url: str, action: str) -> list[AuditRecord]:
    database = Database(database_url)
    with database.session() as session:
        found = list(session.scalars(select(AuditRecord).where(AuditRecord.action == action)
                                     .order_by(AuditRecord.id)))
        session.expunge_all()
    database.dispose()
    return found


def test_an_open_kept_version_downloads_as_it_was(client: TestClient, database_url: str,
                                                   catalogue_dir: Path) -> None:
    reload(database_url, catalogue_dir, {"data/stops.csv": CHANGED_STOPS})
    old = client.get("/api/v1/datasets/bus-stops/versions/1/download?format=csv")
    assert old.status_code == 200, old.text
    assert old.text.replace("\r\n", "\n") == DATA["data/stops.csv"]
    assert "_v1" in old.headers["content-disposition"]
    current = client.get("/api/v1/datasets/bus-stops/resources/stops/download?format=csv")
    assert current.text.replace("\r\n", "\n") == CHANGED_STOPS
    as_json = client.get("/api/v1/datasets/bus-stops/versions/1/download?format=json&fields=stop_id")
    assert [r["stop_id"] for r in as_json.json()] == ["S001", "S002", "S003"]
    assert client.get("/api/v1/datasets/bus-stops/versions/7/download").status_code == 404
    listing = client.get("/api/v1/datasets/bus-stops/versions").json()
    assert [v["downloadable"] for v in listing] == [True, True]


def test_a_dropped_version_is_gone(client: TestClient, database_url: str, catalogue_dir: Path) -> None:
    for n in range(2, 7):
        reload(database_url, catalogue_dir, {"data/stops.csv": f"stop_id,name,district,lines\nS1,a,b,{n}\n"})
    gone = client.get("/api/v1/datasets/bus-stops/versions/1/download")
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "version_not_kept"


def conditional_with_history(database_url: str, folder: Path) -> None:
    raw = manifest()
    reload(database_url, folder, {}, raw)
    reload(database_url, folder, {"data/headcount.csv": DATA["data/headcount.csv"] + "91440101MA5CYYYY2B,2024-02-01,9\n"},
           raw)


def test_an_old_version_of_conditional_data_needs_a_licence_and_is_masked_and_audited(
        client: TestClient, database_url: str, catalogue_dir: Path) -> None:
    conditional_with_history(database_url, catalogue_dir)
    path = "/api/v1/datasets/si-headcount/versions/1/download"
    anonymous = client.get(path, params={"format": "csv"})
    current_anonymous = client.get("/api/v1/datasets/si-headcount/resources/monthly/download")
    assert anonymous.status_code == current_anonymous.status_code == 403  # the same guard as the current rows
    assert anonymous.json()["error"]["code"] == current_anonymous.json()["error"]["code"]
    assert "91440101" not in anonymous.text
    # An enterprise with an API client but no licence for this dataset.
    register_enterprise(client, "other", CREDIT_B)
    other = api_sign_in(client, "other")
    created = client.post("/api/v1/clients", json={"name": "别的系统"}, headers=other)
    token = client.post("/api/v1/token", data={"grant_type": "client_credentials"},
                        headers=basic(created.json()["client_id"], created.json()["client_secret"]))
    assert token.status_code == 400, token.text  # no licence: no access token at all
    for headers in (other, {}):  # its session token, or nothing: refused like the current rows
        unlicensed = client.get(path, params={"format": "csv"}, headers=headers)
        assert unlicensed.status_code in (401, 403) and "91440101" not in unlicensed.text
        assert latest_audit(database_url).outcome == "refused"

    licensed = licensed_enterprise(client, database_url)  # licensed for month and headcount only
    access = bearer(licensed.token(client))
    outside = client.get(path, params={"format": "csv", "fields": "credit_code,month"}, headers=access)
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "field_not_licensed"
    old = client.get(path, params={"format": "json", "fields": "month,headcount"}, headers=access)
    assert old.status_code == 200, old.text
    assert old.json() == [{"month": "2024-01-01", "headcount": 35}]  # version 1 had one row
    current = client.get("/api/v1/datasets/si-headcount/resources/monthly/download",
                         params={"format": "json", "fields": "month,headcount"}, headers=access)
    assert len(current.json()) == 2
    downloads = [r for r in audit_actions(database_url, "data.download") if r.outcome == "success"]
    assert [json.loads(r.details).get("version") for r in downloads] == [1, None]
    assert json.loads(downloads[0].details)["rows"] == 1
    assert json.loads(downloads[0].details)["licence"] == licensed.licence_id


def test_a_publisher_rolls_back_through_the_api_page_and_cli(client: TestClient, database_url: str,
                                                            catalogue_dir: Path) -> None:
    reload(database_url, catalogue_dir, {"data/stops.csv": CHANGED_STOPS})
    api = "/api/v1/datasets/bus-stops/versions"
    assert client.post(f"{api}/1/rollback").status_code == 401
    make_staff(database_url, "hr-clerk", "publisher", "gz-hrss")
    other = client.post(f"{api}/1/rollback", headers=api_sign_in(client, "hr-clerk"))
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_your_dataset"
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    clerk = api_sign_in(client, "clerk")
    done = client.post(f"{api}/1/rollback", headers=clerk)
    assert done.status_code == 201, done.text
    restored = done.json()
    assert (restored["number"], restored["origin"], restored["restored_from"], restored["actor"]) == (
        3, "rollback", 1, "user:clerk")
    assert (restored["added"], restored["removed"], restored["changed"]) == (1, 1, 1)
    rows = client.get("/api/v1/datasets/bus-stops/resources/stops/download?format=csv").text
    assert rows.replace("\r\n", "\n") == DATA["data/stops.csv"]
    assert client.get("/api/v1/datasets/bus-stops").json()["version_number"] == 3
    again = client.post(f"{api}/1/rollback", headers=clerk)  # version 1's rows are served: the same rows
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_change"
    assert [json.loads(r.details)["restored"] for r in audit_actions(database_url, "dataset.rollback")
            if r.outcome == "success"] == [1]

    sign_in(client, "clerk")
    page = client.get("/publisher/datasets/bus-stops").text
    assert 'data-testid="rollback-2"' in page and "回滚到此版本" in page
    form = post_form(client, "/publisher/datasets/bus-stops/versions/2/rollback")
    assert form.status_code == 303 and "notice=rolled_back" in form.headers["location"]
    assert client.get(f"{api}/4").json()["restored_from"] == 2
    assert client.get("/api/v1/datasets/bus-stops/resources/stops/download?format=csv").text.replace(
        "\r\n", "\n") == CHANGED_STOPS

    cli = CliRunner().invoke(main, ["--database-url", database_url, "catalogue", "rollback", "bus-stops", "3"])
    assert cli.exit_code == 0, cli.output
    assert "version 5 restores version 3" in cli.output
    missing = CliRunner().invoke(main, ["--database-url", database_url, "catalogue", "rollback", "bus-stops", "99"])
    assert missing.exit_code == 1 and "no version 99" in missing.output
    actors = [r.actor for r in audit_actions(database_url, "dataset.rollback") if r.outcome == "success"]
    assert actors[:2] == ["user:clerk", "user:clerk"] and actors[2].startswith("cli:")


def test_todays_masks_apply_to_old_rows(client: TestClient, database_url: str, catalogue_dir: Path) -> None:
    raw = manifest()
    fields = raw["datasets"][0]["resources"][0]["fields"]
    fields[1]["mask"] = "keep_first:1"   # name
    fields[2]["mask"] = "drop"           # district
    reload(database_url, catalogue_dir, {"data/stops.csv": CHANGED_STOPS}, raw)
    old = client.get("/api/v1/datasets/bus-stops/versions/1/download", params={"format": "json"})
    assert old.status_code == 200, old.text
    rows = old.json()
    assert [r["stop_id"] for r in rows] == ["S001", "S002", "S003"]
    assert rows[0]["name"] == "天****" and "district" not in rows[0]  # version 1 was unmasked when loaded
