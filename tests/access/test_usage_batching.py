"""API row queries are counted in memory and written in batches (opendata.stats.batch);
a licence's quota charge and audit record are still written before its page is sent.

The portal here holds its counts for up to an hour, so that what reaches the database
before a report, a timer or the shutdown is exactly what the request paths wrote.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from opendata import create_app
from opendata.access.models import LicenceUsage
from opendata.db import Database
from opendata.settings import Settings
from opendata.stats import batch
from opendata.stats.models import UsageCounter
from tests.access.helpers import ROWS, Licensed, bearer, latest_audit, licensed_enterprise

STOPS = "/api/v1/datasets/bus-stops/resources/stops/rows"


@pytest.fixture
def portal_settings(settings: Settings, catalogue_dir: Path) -> Settings:
    return settings.replace(catalogues=(catalogue_dir,), load_catalogues_on_startup=True, usage_flush_seconds=3600)


def written(database_url: str, dataset: str, metric: str = "rows_query") -> int:
    """The count in the database itself, read by another engine (as another process would)."""
    database = Database(database_url)
    with database.session() as session:
        total = session.scalar(select(func.sum(UsageCounter.count))
                               .where(UsageCounter.dataset_id == dataset, UsageCounter.metric == metric))
    database.dispose()
    return int(total or 0)


def test_open_rows_pages_write_nothing_until_a_report_reads_them(client: TestClient, database_url: str) -> None:
    for _ in range(5):
        assert client.get(STOPS, params={"limit": 1}).status_code == 200
    assert written(database_url, "bus-stops") == 0  # held by the process, not one write per page
    stats = client.get("/api/v1/stats").json()
    stops = next(d for d in stats["datasets"] if d["dataset_id"] == "bus-stops")
    assert stops["rows_queries"] == 5  # the report flushed them first
    assert written(database_url, "bus-stops") == 5
    assert client.get("/api/v1/stats").json()["totals"]["rows_queries"] == 5  # nothing counted twice


def test_counts_taken_before_the_shutdown_are_written_by_it(portal_settings: Settings, database_url: str) -> None:
    with TestClient(create_app(portal_settings)) as client:
        for _ in range(7):
            assert client.get(STOPS, params={"limit": 1}).status_code == 200
        assert written(database_url, "bus-stops") == 0
    assert written(database_url, "bus-stops") == 7


def test_the_timer_writes_them_without_a_report(portal_settings: Settings, database_url: str) -> None:
    with TestClient(create_app(portal_settings.replace(usage_flush_seconds=0.2))) as client:
        for _ in range(3):
            assert client.get(STOPS, params={"limit": 1}).status_code == 200
        deadline = time.monotonic() + 30
        while written(database_url, "bus-stops") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert written(database_url, "bus-stops") == 3
        assert client.get(STOPS, params={"limit": 1}).status_code == 200
    assert written(database_url, "bus-stops") == 4


def test_views_are_still_written_at_once(client: TestClient, database_url: str) -> None:
    assert client.get("/api/v1/datasets/bus-stops").status_code == 200
    assert written(database_url, "bus-stops", "view") == 1


def test_zero_seconds_writes_every_count_at_once(portal_settings: Settings, database_url: str) -> None:
    with TestClient(create_app(portal_settings.replace(usage_flush_seconds=0))) as client:
        assert client.get(STOPS, params={"limit": 1}).status_code == 200
        assert written(database_url, "bus-stops") == 1


def test_a_licensed_page_is_charged_and_audited_before_it_is_sent(
    client: TestClient, database_url: str,
) -> None:
    licensed: Licensed = licensed_enterprise(client, database_url, approval={"quotas": {"rows_per_day": 4}})
    token = licensed.token(client)
    first = client.get(ROWS, headers=bearer(token), params={"limit": 2})
    assert first.status_code == 200 and len(first.json()["items"]) == 2
    database = Database(database_url)
    with database.session() as session:
        used = session.scalar(select(LicenceUsage.used).where(LicenceUsage.licence_id == licensed.licence_id,
                                                              LicenceUsage.kind == "rows"))
    database.dispose()
    assert used == 2  # in the database already, before any flush of the statistics
    record = latest_audit(database_url)
    assert (record.action, record.outcome) == ("data.query", "success") and '"rows_used_today":2' in record.details
    assert written(database_url, "si-headcount") == 0  # only the statistic waits
    # The quota stays exact whatever the batch holds: two rows left, then a refusal.
    assert client.get(ROWS, headers=bearer(token), params={"limit": 2}).status_code == 200
    refused = client.get(ROWS, headers=bearer(token), params={"limit": 1})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "quota_exceeded"
    assert latest_audit(database_url).outcome == "refused"
    assert client.get("/api/v1/stats").json()["totals"]["rows_queries"] == 2  # a refused page is no query


class _Flaky:
    """write_counts that fails its first call, as a database busy past the retries would."""

    def __init__(self, real) -> None:  # noqa: ANN001
        self.real, self.calls = real, 0

    def __call__(self, engine, counts) -> None:  # noqa: ANN001
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database is locked")
        self.real(engine, counts)


def test_a_failed_write_keeps_the_counts_for_the_next_flush(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    flaky = _Flaky(batch.write_counts)
    monkeypatch.setattr(batch, "write_counts", flaky)
    for _ in range(2):
        assert client.get(STOPS, params={"limit": 1}).status_code == 200
    # The first report's flush fails: it still answers (what was written), and keeps the counts.
    assert client.get("/api/v1/stats").status_code == 200
    assert written(database_url, "bus-stops") == 0
    assert client.get(STOPS, params={"limit": 1}).status_code == 200
    stats = client.get("/api/v1/stats").json()
    assert stats["totals"]["rows_queries"] == 3 and written(database_url, "bus-stops") == 3
    assert flaky.calls == 2


def test_a_full_batch_the_database_refuses_never_fails_the_page(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = batch.write_counts

    def refused(engine, counts):  # noqa: ANN001, ANN202
        raise RuntimeError("database refuses writes")

    monkeypatch.setattr(batch, "MAX_PENDING_KEYS", 0)  # every count fills the batch: flushed in the request
    monkeypatch.setattr(batch, "write_counts", refused)
    for _ in range(3):
        assert client.get(STOPS, params={"limit": 1}).status_code == 200  # served, not a 500
    assert written(database_url, "bus-stops") == 0
    monkeypatch.setattr(batch, "write_counts", real)
    assert client.get("/api/v1/stats").json()["totals"]["rows_queries"] == 3  # kept, then written
    assert written(database_url, "bus-stops") == 3


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "3601", "soon"])
def test_a_bad_flush_interval_names_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="OPENDATA_USAGE_FLUSH_SECONDS"):
        Settings.from_env({"OPENDATA_USAGE_FLUSH_SECONDS": value})

