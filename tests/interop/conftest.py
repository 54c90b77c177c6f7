"""One running portal for the interoperability tests: the access tests' catalogue (two
conditional datasets, a closed one) plus the masked ``people`` table, and an enterprise
licensed to query si-headcount's month and headcount. Built once per module: standard
clients (ckanapi, frictionless, rdflib) talk to it over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from argon2 import PasswordHasher

from opendata import create_app
from opendata.access import passwords
from opendata.settings import Settings
from tests.access.conftest import ACCESS_DATA, ARREARS
from tests.access.helpers import Licensed, licensed_enterprise
from tests.data_fixtures import PEOPLE_CSV, data_manifest
from tests.factories import write_catalogue
from tests.serving import running_server


@dataclass
class Portal:
    url: str
    database_url: str
    licensed: Licensed
    token: str
    http: httpx.Client
    settings: Settings


def interop_catalogue(folder: Path) -> Path:
    raw = data_manifest()
    raw["datasets"].append(ARREARS)
    data = {**ACCESS_DATA, "data/people.csv": PEOPLE_CSV, "data/empty.csv": "a,when\n"}
    return write_catalogue(folder, raw, data)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    tmp = tmp_path_factory.mktemp("interop")
    database_url = f"sqlite:///{tmp / 'opendata.db'}"
    settings = Settings(data_dir=tmp / "data", database_url=database_url,
                        catalogues=(interop_catalogue(tmp / "catalogue"),), secure_cookies=False)
    saved = passwords._hasher
    # Cheap argon2 parameters, as in tests/access (the production cost is tested there).
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        with running_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
            licensed = licensed_enterprise(http, database_url)  # type: ignore[arg-type]
            yield Portal(url, database_url, licensed, licensed.token(http), http, settings)  # type: ignore[arg-type]
    finally:
        passwords._hasher = saved
