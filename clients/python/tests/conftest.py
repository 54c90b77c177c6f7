"""Fixtures of the SDK's tests: a fake portal behind httpx.MockTransport (for retries,
Retry-After and the quota, which a real portal cannot be made to fail on cue), and a
real portal of this repository served over a loopback socket."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from odc_support import HEADCOUNT_CSV, FakePortal, LivePortal, Sleeps

REPO = Path(__file__).resolve().parents[3]
# The live portal is this repository's server, driven with its own test helpers.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("OPENDATA_COMPUTE_PARAMETERS_FILE",
                      str(REPO / "tests" / "compute" / "proofs" / "fixtures" / "ring_pedersen_2048.json"))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fake() -> FakePortal:
    return FakePortal()


@pytest.fixture
def mock_client(fake: FakePortal, sleeps: Sleeps) -> Iterator[Callable[..., Any]]:
    from opendata_client import Client

    made: list[Any] = []

    def make(**options: Any) -> Any:
        client = Client("http://portal.test", transport=httpx.MockTransport(fake), sleep=sleeps, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="module")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    """The real portal with the test catalogue, and an enterprise whose licence to
    si-headcount (5 rows) allows 3 rows a day."""
    from opendata import create_app
    from opendata.settings import Settings
    from tests.access.helpers import licensed_enterprise
    from tests.data_fixtures import PEOPLE_CSV, data_manifest
    from tests.factories import DATA, write_catalogue
    from tests.serving import running_server

    root = tmp_path_factory.mktemp("sdk-portal")
    data = {**DATA, "data/people.csv": PEOPLE_CSV, "data/empty.csv": "a,when\n", "data/headcount.csv": HEADCOUNT_CSV}
    catalogue = write_catalogue(root / "catalogue", data_manifest(), data)
    database_url = f"sqlite:///{root / 'opendata.db'}"
    settings = Settings(data_dir=root / "data", database_url=database_url, catalogues=(catalogue,),
                        load_catalogues_on_startup=True, secure_cookies=False)
    with running_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        licensed = licensed_enterprise(http, database_url, approval={"quotas": {"rows_per_day": 3}})  # type: ignore[arg-type]
        yield LivePortal(url, licensed.client_id, licensed.client_secret, licensed.licence_id, database_url)
