"""Usage is counted after the work, in a short transaction of its own (issue 10, item 0).

Before, CKAN's package_show and datastore_search and the settling of a download counted
inside the request's own session: on SQLite a count in a transaction whose snapshot had
gone stale failed at once with "database is locked" (a 500, or a download settled without
its count), and a count taken early held the write lock for the rest of the request.
Here many clients at once view, query and download, open and licensed data, through a
real server: every answer is a 200 and every use is counted exactly once.
"""

from __future__ import annotations

import collections
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from litestar.testing import TestClient
from sqlalchemy import func, select

from opendata import create_app
from opendata.db import Database
from opendata.settings import Settings
from opendata.stats.models import UsageCounter
from tests.access.helpers import DOWNLOAD, ROWS, Licensed, bearer
from tests.serving import running_server

CLIENTS = 8
ROUNDS = 6
CKAN = "/api/3/action"


def _requests(token: str) -> list[tuple[str, str, dict, dict]]:
    """(dataset, metric, params, headers) per path: each use one request counts."""
    licensed = bearer(token)
    return [
        ("bus-stops", "view", {"path": f"{CKAN}/package_show", "id": "bus-stops"}, {}),
        ("bus-stops", "rows_query", {"path": f"{CKAN}/datastore_search", "resource_id": "bus-stops.stops", "limit": 2}, {}),
        ("bus-stops", "download", {"path": "/api/v1/datasets/bus-stops/resources/stops/download", "format": "csv"}, {}),
        ("si-headcount", "rows_query", {"path": f"{CKAN}/datastore_search", "resource_id": "si-headcount.monthly",
                                        "fields": "month,headcount"}, licensed),
        ("si-headcount", "rows_query", {"path": ROWS, "fields": "month,headcount"}, licensed),
        ("si-headcount", "download", {"path": DOWNLOAD, "format": "csv", "fields": "month,headcount"}, licensed),
    ]


def _counted(database_url: str) -> dict[tuple[str, str], int]:
    database = Database(database_url)
    with database.session() as session:
        rows = session.execute(select(UsageCounter.dataset_id, UsageCounter.metric, func.sum(UsageCounter.count))
                               .group_by(UsageCounter.dataset_id, UsageCounter.metric)).all()
    database.dispose()
    return {(dataset, metric): int(total) for dataset, metric, total in rows}


def test_concurrent_views_queries_and_downloads_are_all_served_and_each_counted_once(
    client: TestClient, licensed: Licensed, portal_settings: Settings, database_url: str,
) -> None:
    token = licensed.token(client)
    requests = _requests(token)
    before = _counted(database_url)
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    # A second portal on the same database, serving real sockets: the test client's app
    # and this one count into the same counters, as two processes would.
    with running_server(create_app(portal_settings.replace(load_catalogues_on_startup=False))) as base:
        def one_client(index: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                barrier.wait()
                for turn in range(ROUNDS * len(requests)):
                    _, _, params, headers = requests[(index + turn) % len(requests)]
                    query = {k: v for k, v in params.items() if k != "path"}
                    response = http.get(params["path"], params=query, headers=headers)
                    with lock:
                        statuses[response.status_code] += 1
                        if response.status_code != 200:
                            failures.append(f"{params['path']}: {response.status_code} {response.text[:200]}")

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(one_client, range(CLIENTS)))

    assert failures == [], failures[:5]
    assert statuses == {200: CLIENTS * ROUNDS * len(requests)}
    expected: collections.Counter = collections.Counter()
    for dataset, metric, _, _ in requests:
        expected[(dataset, metric)] += CLIENTS * ROUNDS
    after = _counted(database_url)
    assert {key: after.get(key, 0) - before.get(key, 0) for key in expected} == dict(expected)
