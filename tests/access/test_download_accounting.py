"""Charge only what is served: refusals cost nothing, a download counts when it completes.

Before: a download refused for filtering or sorting on an unlicensed field still used up
a download from the daily quota and was audited as a successful download; and every
download was counted (charged and audited as a success) before a byte was sent, so a
download broken off by the client counted as served.
"""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from opendata.audit.models import AuditRecord
from opendata.db import Database
from opendata.stats.models import UsageCounter
from tests.access.helpers import DOWNLOAD, Licensed, assert_refused_and_audited, bearer, latest_audit


def usage(client: TestClient, licensed: Licensed) -> dict[str, int]:
    response = client.get(f"/api/v1/licences/{licensed.licence_id}", headers=licensed.enterprise)
    assert response.status_code == 200, response.text
    return response.json()["usage_today"]


def downloads_counted(database_url: str) -> int:
    database = Database(database_url)
    with database.session() as session:
        counts = session.scalars(select(UsageCounter.count).where(UsageCounter.dataset_id == "si-headcount",
                                                                  UsageCounter.metric == "download")).all()
    database.dispose()
    return sum(counts)


@pytest.mark.parametrize("params", [
    {"credit_code": "91440101MA5CXXXX1A"},           # a filter on a field the licence does not grant
    {"credit_code__in": "a,b"},
    {"sort": "-credit_code"},                          # a sort key
    {"sort": "month", "headcount__gte": "1", "credit_code__ne": "x"},
])
def test_a_download_refused_for_an_unlicensed_filter_or_sort_field_costs_nothing(
    client: TestClient, licensed: Licensed, database_url: str, params: dict[str, str],
) -> None:
    token = licensed.token(client)
    response = client.get(DOWNLOAD, params={"format": "csv", "fields": "month,headcount", **params},
                          headers=bearer(token))
    record = assert_refused_and_audited(response, 403, "field_not_licensed", database_url, action="data.download")
    assert "credit_code" in record.details
    assert usage(client, licensed)["downloads"] == 0
    assert downloads_counted(database_url) == 0
    database = Database(database_url)
    with database.session() as session:
        successes = session.scalars(select(AuditRecord).where(AuditRecord.action == "data.download",
                                                              AuditRecord.outcome == "success")).all()
    database.dispose()
    assert successes == []


def test_a_download_sent_whole_is_charged_counted_and_audited_once(
    client: TestClient, licensed: Licensed, database_url: str,
) -> None:
    response = client.get(DOWNLOAD, params={"format": "csv", "fields": "month,headcount"},
                          headers=bearer(licensed.token(client)))
    assert response.status_code == 200, response.text
    assert response.text.splitlines()[0] == "month,headcount"
    assert usage(client, licensed)["downloads"] == 1
    assert downloads_counted(database_url) == 1
    record = latest_audit(database_url)
    assert (record.action, record.outcome) == ("data.download", "success")
    assert '"rows":3' in record.details and f'"bytes":{len(response.content)}' in record.details
