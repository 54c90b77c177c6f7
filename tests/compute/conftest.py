"""Fixtures of the compute API tests: real 2048-bit keys (made once per session) and one
portal per database backend, shared by the package's tests (each test makes the licences
it changes, so tests do not see one another's quotas or policies)."""

from __future__ import annotations

from typing import Iterator

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from opendata import create_app
from opendata.access import passwords
from opendata.compute.keyholder import KeyHolder, generate_keypair
from opendata.settings import Settings
from tests.compute.world import World, build_world, write_catalogue
from tests.conftest import postgres_schema_url
from tests.serving import running_server

# Few obfuscators per key: the background fillers must not eat the CPU the tests need.
# The per-subject caps are high here: many tests verify the same few subjects; the caps'
# own tests lower them on the running portal (test_probing.py).
COMPUTE_ENV = {"OPENDATA_COMPUTE_WORKERS": "2", "OPENDATA_COMPUTE_OBFUSCATOR_CAPACITY": "16",
               "OPENDATA_COMPUTE_MAX_SCORE_BATCH": "200", "OPENDATA_COMPUTE_MAX_SUBJECT_COMPUTATIONS_PER_DAY": "100000",
               "OPENDATA_COMPUTE_MAX_FIELD_GUESSES_PER_DAY": "100000", "OPENDATA_COMPUTE_PROBE_ALERT_SUBJECT": "100000",
               "OPENDATA_COMPUTE_PROBE_ALERT_FIELD": "100000", "OPENDATA_COMPUTE_MAX_ACTIVE_KEYS": "1000",
               "OPENDATA_COMPUTE_KEY_REGISTRATIONS_PER_HOUR": "1000",
               "OPENDATA_COMPUTE_HIDDEN_QUERY_LINEAR_MAX": "8"}


@pytest.fixture(scope="session")
def bank_key() -> KeyHolder:
    return generate_keypair(2048)


@pytest.fixture(scope="session")
def rival_key() -> KeyHolder:
    return generate_keypair(2048)


@pytest.fixture(scope="package", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def compute_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('compute-db') / 'opendata.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture(scope="package")
def world(compute_database_url: str, tmp_path_factory: pytest.TempPathFactory, bank_key: KeyHolder,
          rival_key: KeyHolder) -> Iterator[World]:
    folder = write_catalogue(tmp_path_factory.mktemp("compute-catalogue"))
    settings = Settings(data_dir=tmp_path_factory.mktemp("compute-data"), database_url=compute_database_url,
                        catalogues=(folder,), load_catalogues_on_startup=True, secure_cookies=False)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in COMPUTE_ENV.items():
            patch.setenv(name, value)
        # Real argon2id with the smallest costs: sign-ins are not what these tests measure.
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with TestClient(create_app(settings)) as client:
            yield build_world(client, settings, folder, bank_key, rival_key)


@pytest.fixture
def client(world: World) -> TestClient:
    return world.client



@pytest.fixture(scope="package")
def portal(world: World) -> Iterator[str]:
    """A second portal on the same database, on a real socket: for the SDK and the CLI."""
    with running_server(create_app(world.settings)) as base:
        yield base
