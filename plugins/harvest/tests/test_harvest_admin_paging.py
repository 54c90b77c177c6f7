"""/admin/harvest lists every run, newest first, a page at a time: a source scheduled every
few minutes adds hundreds of runs a day, and the page showed only the newest 30."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from opendata import create_app
from opendata.access.principals import SESSION_COOKIE
from opendata.db import Database
from opendata.portal import paging
from opendata.settings import Settings
from tests.access.helpers import make_staff, sign_in

from opendata_harvest import sources
from opendata_harvest.models import HarvestRun, ensure_tables


def _run_ids(html: str) -> list[int]:
    table = html.split('data-testid="harvest-runs"', 1)[1].split("</table>", 1)[0]
    return [int(n) for n in re.findall(r'href="/admin/harvest\?run=(\d+)"', table)]


def test_every_run_is_reachable_page_by_page(local_db: Database, local_settings: Settings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "ADMIN_PAGE_SIZE", 2)
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, "often", "ckan", "https://data.example.org", domain="economy")
        runs = [HarvestRun(source_name="often", status="ok", listed=n) for n in range(5)]
        session.add_all(runs)
        session.flush()
        ids = sorted((r.id for r in runs), reverse=True)

    with TestClient(create_app(local_settings.replace(plugins=("harvest",)))) as local:
        make_staff(local_settings.resolved_database_url, "admin", "admin")
        admin = sign_in(local, "admin")
        local.cookies.set(SESSION_COOKIE, admin["Authorization"].removeprefix("Bearer "))

        first = local.get("/admin/harvest?lang=en")
        assert first.status_code == 200 and _run_ids(first.text) == ids[:2]
        assert 'data-testid="harvest-runs-pager"' in first.text and "page=2" in first.text
        assert f"Log of run {ids[0]}" in first.text  # the newest run's log by default

        seen = [_run_ids(local.get(f"/admin/harvest?page={n}").text) for n in (1, 2, 3)]
        assert sum(seen, []) == ids  # each run once, newest first, none skipped
        assert _run_ids(local.get("/admin/harvest?page=999").text) == ids[4:]  # past the end: the last page
        assert _run_ids(local.get("/admin/harvest?page=%C2%B2").text) == ids[:2]  # not a page number: the first

        oldest = local.get(f"/admin/harvest?page=3&run={ids[4]}&lang=en")
        assert oldest.status_code == 200 and f"Log of run {ids[4]}" in oldest.text
