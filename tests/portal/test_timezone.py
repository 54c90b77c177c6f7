"""Days run in the portal's time zone (the ``timezone`` setting, default Asia/Shanghai):
a quota resets at local midnight, a licence "to 2026-12-31" lasts to the end of that local
day, and pages show local times; what is stored stays UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Iterator

import pytest
from litestar.testing import TestClient

from opendata import create_app, localtime
from opendata.access.licences import status_of
from opendata.settings import Settings
from tests.access.helpers import DOWNLOAD, bearer, licensed_enterprise, local_today
from tests.portal.helpers import sign_in, text_of

BEIJING = localtime.zone("Asia/Shanghai")


def _at(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """The clock local days are read from says ``instant`` (tokens keep the real clock)."""
    monkeypatch.setattr(localtime, "now", lambda: instant)


def _midnight_after(day: date) -> datetime:
    return localtime.start_of_day(day + timedelta(days=1), BEIJING).astimezone(UTC)


def test_the_download_quota_resets_at_beijing_midnight_not_utc(
        client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    licensed = licensed_enterprise(client, database_url, approval={"quotas": {
        "rows_per_day": 100, "downloads_per_day": 1, "compute_calls_per_day": 0}})
    token = licensed.token(client)
    midnight = _midnight_after(local_today())
    assert midnight.hour == 16  # 00:00 in Beijing is 16:00 UTC of the day before

    _at(monkeypatch, midnight - timedelta(minutes=1))  # 23:59 Beijing, 15:59 UTC
    assert client.get(DOWNLOAD, headers=bearer(token)).status_code == 200
    refused = client.get(DOWNLOAD, headers=bearer(token))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"  # one minute to local midnight
    message = refused.json()["error"]["message"]
    assert "每日下载次数配额 1" in message and "Asia/Shanghai (UTC+08:00) 00:00 重置" in message
    assert "resets at 00:00 Asia/Shanghai" in message and "UTC," not in message

    # 00:01 Beijing, 16:01 UTC: still the same UTC day, but a new day for the quota.
    _at(monkeypatch, midnight + timedelta(minutes=1))
    assert client.get(DOWNLOAD, headers=bearer(token)).status_code == 200
    licence = client.get(f"/api/v1/licences/{licensed.licence_id}", headers=licensed.enterprise).json()
    assert licence["usage_today"]["downloads"] == 1
    assert client.get(DOWNLOAD, headers=bearer(token)).status_code == 429


def test_a_licence_to_a_date_lasts_to_the_end_of_that_beijing_day(client: TestClient, database_url: str) -> None:
    start, end = local_today() - timedelta(days=1), local_today() + timedelta(days=30)
    licensed = licensed_enterprise(client, database_url, start_date=start.isoformat(), end_date=end.isoformat())
    licence = client.get(f"/api/v1/licences/{licensed.licence_id}", headers=licensed.enterprise).json()
    valid_from = datetime.fromisoformat(licence["valid_from"])
    valid_until = datetime.fromisoformat(licence["valid_until"])
    assert valid_from == localtime.start_of_day(start, BEIJING)
    assert valid_until == _midnight_after(end) and valid_until.hour == 16 and valid_until.date() == end

    # 23:59 of the last day in Beijing (15:59 UTC) the licence holds; 00:01 it has expired.
    assert status_of("active", valid_from, valid_until, valid_until - timedelta(minutes=1)) == "active"
    assert status_of("active", valid_from, valid_until, valid_until + timedelta(minutes=1)) == "expired"

    sign_in(client, "acme")
    overview = text_of(client.get("/workspace").text)
    assert f"有效期 {start.isoformat()} 至 {end.isoformat()}" in overview  # not "08:00 至 08:00"


@pytest.fixture
def utc_client(portal_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(portal_settings.replace(timezone="UTC"))) as client:
        yield client


def test_the_timezone_setting_moves_the_days(utc_client: TestClient, database_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    today = datetime.now(UTC).date()
    licensed = licensed_enterprise(utc_client, database_url, approval={"quotas": {
        "rows_per_day": 100, "downloads_per_day": 1, "compute_calls_per_day": 0}},
        start_date=today.isoformat(), end_date=(today + timedelta(days=5)).isoformat())
    licence = utc_client.get(f"/api/v1/licences/{licensed.licence_id}", headers=licensed.enterprise).json()
    assert datetime.fromisoformat(licence["valid_until"]) == datetime.combine(
        today + timedelta(days=6), datetime.min.time(), UTC)
    token = licensed.token(utc_client)
    midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    _at(monkeypatch, midnight - timedelta(hours=8, minutes=1))  # 00:01 Beijing, still today in UTC
    assert utc_client.get(DOWNLOAD, headers=bearer(token)).status_code == 200
    refused = utc_client.get(DOWNLOAD, headers=bearer(token))
    assert refused.status_code == 429 and refused.headers["retry-after"] == str(8 * 3600 + 60)
    assert "00:00 UTC (UTC+00:00)" in refused.json()["error"]["message"]


def test_an_unknown_timezone_is_refused_at_start_up_with_its_name(portal_settings: Settings) -> None:
    with pytest.raises(ValueError, match="OPENDATA_TIMEZONE: 'Mars/Olympus' is not a time zone"):
        Settings.from_env({"OPENDATA_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ValueError, match="'Mars/Olympus' is not a time zone"):
        create_app(portal_settings.replace(timezone="Mars/Olympus"))


def test_use_is_counted_on_the_beijing_day(client: TestClient, database_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    from opendata.db import Database
    from opendata.stats.models import UsageCounter

    today = local_today()
    midnight = _midnight_after(today)
    _at(monkeypatch, midnight + timedelta(minutes=1))  # 00:01 Beijing: the UTC date is still the day before
    assert client.get("/datasets/bus-stops").status_code == 200
    database = Database(database_url)
    with database.session() as session:
        days = set(session.scalars(select(UsageCounter.day).where(UsageCounter.metric == "view")))
    database.dispose()
    assert days == {today + timedelta(days=1)} and midnight.date() == today
    index = client.get("/open-index").text  # the index's last day is the Beijing day
    assert (today + timedelta(days=1)).strftime("%m-%d") in index
