"""Malicious metadata on the harvest's own doors: a remote's ids and titles carrying markup
are shown escaped on /admin/harvest and the dataset page, and the harvest log (which names
remote URLs and hosts) is for administrators only, not for any signed-in account."""

from __future__ import annotations

from litestar.testing import TestClient

from opendata import create_app
from opendata.access.principals import SESSION_COOKIE
from opendata.db import Database
from opendata.settings import Settings
from tests.access.helpers import CREDIT_A, make_staff, register_enterprise, sign_in

from opendata_harvest import service, sources
from opendata_harvest.models import ensure_tables
from harvest_support import RecordedCkan, ckan_envelope, json_answer

SCRIPT = "<script>alert('harvested')</script>"
IMAGE = '"><img src=x onerror=alert(1)>'


def test_markup_from_a_remote_is_escaped_and_the_log_is_for_administrators(
        local_db: Database, local_settings: Settings, ckan_server: RecordedCkan) -> None:
    gold = ckan_server.packages[0]
    ckan_server.packages.append(dict(gold, id=IMAGE, name="evil", title=SCRIPT, notes=IMAGE, resources=[],
                                     tags=[{"name": SCRIPT}]))
    broken = {"id": SCRIPT, "name": "broken", "metadata_modified": "2024-01-01T00:00:00"}
    ckan_server.packages.append(broken)
    show = ckan_server.package_show
    ckan_server.routes["/api/3/action/package_show"] = lambda q: (
        (200, {"Content-Type": "text/html"}, f"<html>{SCRIPT}</html>".encode()) if q["id"][0] in (SCRIPT, "broken")
        else show(q))
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, "markup", "ckan", ckan_server.url, domain="economy")
    run = service.run_source(local_db, local_settings, "markup")
    assert run.created == 4 and run.errors == 1, run.summary()

    with TestClient(create_app(local_settings.replace(plugins=("harvest",)))) as local:
        register_enterprise(local, "curious-co", CREDIT_A)
        enterprise = sign_in(local, "curious-co")
        assert local.get("/api/v1/harvest/runs", headers=enterprise).status_code == 403
        assert local.get(f"/api/v1/harvest/runs/{run.id}", headers=enterprise).status_code == 403
        local.cookies.set(SESSION_COOKIE, enterprise["Authorization"].removeprefix("Bearer "))
        refused = local.get("/admin/harvest", follow_redirects=False)
        assert refused.status_code == 403 and SCRIPT not in refused.text
        local.cookies.clear()

        make_staff(local_settings.resolved_database_url, "admin", "admin")
        admin = sign_in(local, "admin")
        log = local.get(f"/api/v1/harvest/runs/{run.id}", headers=admin).json()["log"]
        assert {e["remote_id"] for e in log if e["kind"] == "error"} == {SCRIPT}  # the JSON keeps the text
        local.cookies.set(SESSION_COOKIE, admin["Authorization"].removeprefix("Bearer "))
        page = local.get(f"/admin/harvest?run={run.id}")
        assert page.status_code == 200 and 'data-testid="harvest-log"' in page.text
        assert SCRIPT not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(" in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text

        evil = local.get("/api/v1/datasets/evil").json()
        assert evil["title_zh"] == SCRIPT
        shown = local.get("/datasets/evil")
        assert shown.status_code == 200 and SCRIPT not in shown.text and "<img src=x" not in shown.text
