"""No input makes any endpoint answer 5xx: schemathesis fuzzes the app's own OpenAPI document.

Every operation of /schema/openapi.json gets a few generated requests (parameters and
bodies from the schema, valid and not), sent as an administrator (so that handlers get past
authentication and reach their input handling) against a portal with the mini catalogue
on SQLite and PostgreSQL, in both generation modes (valid and invalid) with NUL characters allowed. The only check is ``not_a_server_error``: conformance to the document itself is
tested by tests/interop. The budget is fixed (examples per operation, no shrinking), so the
run takes tens of seconds, not minutes. tests/test_bad_input.py holds the hand-aimed cases,
on both backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from opendata import create_app
from opendata.settings import Settings
from tests.access.helpers import make_staff, sign_in
from tests.conftest import postgres_schema_url
from tests.factories import write_catalogue

EXAMPLES_PER_OPERATION = 3


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('fuzz-db') / 'opendata.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("fuzz")
    url = database_url
    settings_ = Settings(data_dir=folder / "data", database_url=url, catalogues=(write_catalogue(folder / "mini"),),
                         secure_cookies=False)
    with TestClient(create_app(settings_)) as client:  # runs the lifespan: migrations, catalogue
        make_staff(url, "fuzz-admin", "admin")
        yield client, sign_in(client, "fuzz-admin")


@pytest.fixture(scope="module")
def api_schema(portal: tuple[TestClient, dict[str, str]]):
    client, _ = portal
    config = SchemathesisConfig()
    # Invalid inputs as well as valid ones, and NUL characters in text (PostgreSQL's bane).
    config.projects.default.generation.update(modes=list(GenerationMode), allow_x00=True)
    return schemathesis.openapi.from_asgi("/schema/openapi.json", client.app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_endpoint_answers_5xx(case, portal: tuple[TestClient, dict[str, str]]) -> None:
    _, admin = portal
    headers = {**(case.headers or {}), **admin}
    response = case.call(headers=headers)
    case.validate_response(response, checks=[not_a_server_error])
