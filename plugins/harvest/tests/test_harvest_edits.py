"""Fields edited on this portal (PATCH /api/v1/datasets/{id}) are never overwritten
silently by a harvest: kept and logged as conflicts, until --overwrite-local, which the
log reports too. The remote is the recorded CKAN (fixtures/ckan)."""

from __future__ import annotations

from litestar.testing import TestClient

from opendata import create_app
from opendata.access.principals import SESSION_COOKIE
from opendata.db import Database
from opendata.settings import Settings
from tests.access.helpers import make_staff, sign_in

from opendata_harvest import service, sources
from opendata_harvest.models import ensure_tables
from harvest_support import RecordedCkan

GOLD = "c322307a-b871-44fe-a602-32ee8437ff04"


def _remote_change(server: RecordedCkan, stamp: str, **fields: str) -> None:
    package = next(p for p in server.packages if p["id"] == GOLD)
    package.update(fields, metadata_modified=f"2024-07-0{stamp}T10:00:00.000001")


def _entries(local_db: Database, run_id: int, kind: str) -> list:
    with local_db.session() as session:
        return [e for e in service.run_log(session, run_id) if e.kind == kind]


def test_local_edits_are_kept_and_reported_until_overwritten(local_db: Database, local_settings: Settings,
                                                             ckan_server: RecordedCkan) -> None:
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, "demo", "ckan", ckan_server.url, domain="economy")
    service.run_source(local_db, local_settings, "demo")
    with TestClient(create_app(local_settings.replace(plugins=("harvest",)))) as local:
        make_staff(local_settings.resolved_database_url, "admin", "admin")
        admin = sign_in(local, "admin")
        edited = local.patch("/api/v1/datasets/gold-prices", headers=admin,
                             json={"title_zh": "黄金价格（本地修订）", "tags": ["黄金"]})
        assert edited.status_code == 200, edited.text

        _remote_change(ckan_server, "1", title="Gold prices, monthly", notes="Monthly gold prices (LBMA).")
        run = service.run_source(local_db, local_settings, "demo")
        assert (run.updated, run.conflicts) == (1, 1)
        conflict, = _entries(local_db, run.id, "conflict")
        assert (conflict.remote_id, conflict.dataset_id) == (GOLD, "gold-prices")
        assert conflict.details["fields"] == {
            "title_zh": {"local": "黄金价格（本地修订）", "remote": "Gold prices, monthly"},
            "tags": {"local": ["黄金"], "remote": ["commodities", "gold", "prices"]}}
        shown = local.get("/api/v1/datasets/gold-prices").json()
        # The local edits stay; the field nobody edited here follows the remote.
        assert (shown["title_zh"], shown["tags"], shown["description_zh"]) == (
            "黄金价格（本地修订）", ["黄金"], "Monthly gold prices (LBMA).")

        _remote_change(ckan_server, "2", title="Gold prices (USD)")
        kept = service.run_source(local_db, local_settings, "demo")
        assert kept.conflicts == 1 and local.get("/api/v1/datasets/gold-prices").json()["title_zh"] == "黄金价格（本地修订）"

        _remote_change(ckan_server, "3", title="Gold prices")
        taken = service.run_source(local_db, local_settings, "demo", overwrite_local=True)
        overwritten, = _entries(local_db, taken.id, "overwritten")
        assert overwritten.details["fields"]["title_zh"] == {"local": "黄金价格（本地修订）", "remote": "Gold prices"}
        shown = local.get("/api/v1/datasets/gold-prices").json()
        assert (shown["title_zh"], shown["tags"]) == ("Gold prices", ["commodities", "gold", "prices"])

        # Edited here no more: the next remote change comes through without a conflict.
        _remote_change(ckan_server, "4", title="Gold")
        quiet = service.run_source(local_db, local_settings, "demo")
        assert (quiet.updated, quiet.conflicts) == (1, 0)
        assert local.get("/api/v1/datasets/gold-prices").json()["title_zh"] == "Gold"

        # Where it came from, in the dataset's API and CKAN outputs.
        assert local.get("/api/v1/datasets/gold-prices").json()["extensions"]["harvest"]["remote_id"] == GOLD
        extras = local.get("/api/3/action/package_show", params={"id": "gold-prices"}).json()["result"]["extras"]
        assert {"key": "harvest.source", "value": "demo"} in extras

        # The same log for administrators over HTTP and on the portal; nobody else sees it.
        assert local.get("/api/v1/harvest/runs").status_code == 401
        runs = local.get("/api/v1/harvest/runs", params={"source": "demo"}, headers=admin).json()["items"]
        assert [r["id"] for r in runs] == [quiet.id, taken.id, kept.id, run.id, run.id - 1]
        logged = local.get(f"/api/v1/harvest/runs/{run.id}", headers=admin).json()
        assert {"kind": "conflict", "remote_id": GOLD, "dataset": "gold-prices"}.items() <= next(
            e for e in logged["log"] if e["kind"] == "conflict").items()
        assert local.get("/api/v1/harvest/runs/999", headers=admin).json()["error"]["code"] == "not_found"
        assert local.get("/api/v1/harvest/runs", params={"limit": 0}, headers=admin).json()["error"]["code"] == (
            "invalid_limit")
        assert local.get("/api/v1/harvest/runs", params={"source": "nope"}, headers=admin).status_code == 404
        local.cookies.clear()
        assert local.get("/admin/harvest", follow_redirects=False).status_code in (302, 303)
        # One sign-in serves the pages too: the session token is the portal's session cookie.
        local.cookies.set(SESSION_COOKIE, admin["Authorization"].removeprefix("Bearer "))
        page = local.get(f"/admin/harvest?run={run.id}&lang=en")
        assert page.status_code == 200 and 'data-testid="harvest-log"' in page.text
        assert "kept local edits of title_zh, tags" in page.text and "Log of run" in page.text


def test_rows_replaced_here_are_kept_and_reported_until_overwritten(local_db: Database, local_settings: Settings,
                                                                    ckan_server: RecordedCkan, tmp_path) -> None:
    from sqlalchemy import select

    from opendata.catalogue.models import Resource
    from opendata.catalogue.rowstore import ingest_file
    from opendata.versions.record import VersionSource

    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, "demo", "ckan", ckan_server.url, domain="economy", with_data=True)
    service.run_source(local_db, local_settings, "demo")

    def table() -> Resource:
        with local_db.session() as session:
            return session.scalars(select(Resource).where(Resource.dataset_id == "gold-prices",
                                                          Resource.format == "csv")).one()

    assert table().row_count == 5
    upload = tmp_path / "corrected.csv"
    upload.write_text("month,price_usd,source\n2024-01-01,2034.00,LBMA\n2024-02-01,2025.00,LBMA\n", encoding="utf-8")
    with local_db.transaction() as session:  # what a publisher's upload does (portal/publisher.py)
        resource = session.get(Resource, table().pk)
        ingest_file(session, resource, upload, fmt="csv", source=VersionSource(actor="clerk", origin="upload"))
    assert table().row_count == 2

    _remote_change(ckan_server, "1", notes="Monthly gold prices, revised.")
    run = service.run_source(local_db, local_settings, "demo")
    conflict, = _entries(local_db, run.id, "conflict")
    assert conflict.details == {"resource": table().id} and "kept the rows" in conflict.message
    assert table().row_count == 2  # the local rows stay; the metadata change came through
    _remote_change(ckan_server, "2", notes="Monthly gold prices.")
    assert _entries(local_db, service.run_source(local_db, local_settings, "demo").id, "conflict")

    _remote_change(ckan_server, "3", notes="Monthly gold prices (LBMA).")
    taken = service.run_source(local_db, local_settings, "demo", overwrite_local=True)
    assert "replaced the local rows" in _entries(local_db, taken.id, "overwritten")[0].message
    assert table().row_count == 5
    _remote_change(ckan_server, "4", notes="Gold.")
    assert not _entries(local_db, service.run_source(local_db, local_settings, "demo").id, "conflict")
