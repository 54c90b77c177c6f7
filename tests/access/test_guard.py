"""What the guard lets through under a licence: granted fields only, counted quotas, and
computations (the compute endpoints are not written yet: a probe route stands in)."""

from __future__ import annotations

from typing import Iterator

import pytest
from litestar import Litestar, Request, get
from litestar.params import FromPath
from litestar.testing import TestClient

from opendata.access.guard import authorize_data
from opendata.catalogue import service as catalogue
from opendata.errors import EXCEPTION_HANDLERS
from opendata.plugin import OpenDataPlugin
from opendata.settings import Settings
from tests.access.helpers import (
    DOWNLOAD, ROWS, Licensed, assert_refused_and_audited, bearer, latest_audit, licensed_enterprise,
)


def test_without_fields_the_licence_narrows_to_its_fields(client: TestClient, licensed: Licensed) -> None:
    body = client.get(ROWS, headers=bearer(licensed.token(client))).json()
    assert [f["name"] for f in body["fields"]] == ["month", "headcount"]
    assert all(len(item) == 2 for item in body["items"])
    subset = client.get(ROWS, params={"fields": "headcount"}, headers=bearer(licensed.token(client))).json()
    assert [f["name"] for f in subset["fields"]] == ["headcount"]


def test_rows_served_are_charged_and_audited(client: TestClient, licensed: Licensed, database_url: str) -> None:
    token = licensed.token(client)
    client.get(ROWS, params={"limit": 2}, headers=bearer(token))
    client.get(ROWS, headers=bearer(token))
    record = latest_audit(database_url)
    assert (record.action, record.target, record.outcome) == ("data.query", "dataset:si-headcount", "success")
    assert '"rows":3' in record.details and '"rows_used_today":5' in record.details
    licence = client.get(f"/api/v1/licences/{licensed.licence_id}", headers=licensed.enterprise).json()
    assert licence["usage_today"] == {"rows": 5, "downloads": 0, "compute": 0}


def test_a_page_is_cut_to_the_rows_left_today_then_refused(client: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(client, database_url, approval={"quotas": {"rows_per_day": 2}})
    first = client.get(ROWS, headers=bearer(licensed.token(client)))  # 3 rows, 2 left today
    assert first.status_code == 200
    assert len(first.json()["items"]) == 2 and first.json()["next"]
    rest = client.get(ROWS, params={"cursor": first.json()["next"]}, headers=bearer(licensed.token(client)))
    assert_refused_and_audited(rest, 429, "quota_exceeded", database_url)


def test_downloads_are_counted_one_per_request(client: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(client, database_url, approval={"quotas": {"downloads_per_day": 1}})
    token = licensed.token(client)
    first = client.get(DOWNLOAD, params={"format": "csv"}, headers=bearer(token))
    assert first.status_code == 200 and first.text.splitlines()[0] == "month,headcount"
    assert latest_audit(database_url).action == "data.download"
    second = client.get(DOWNLOAD, params={"format": "csv"}, headers=bearer(token))
    assert_refused_and_audited(second, 429, "quota_exceeded", database_url, "data.download")
    assert int(second.headers["retry-after"]) > 0


@get("/probe/compute/{dataset_id:str}", sync_to_thread=True)
def compute_probe(request: Request, dataset_id: FromPath[str]) -> dict:
    """Stands in for a compute endpoint of the host application: authorise, report the grant."""
    with request.app.state["opendata"].database.session() as session:
        dataset = catalogue.get_dataset(session, dataset_id)
        fields = request.query_params.get("fields", "").split(",")
        grant = authorize_data(request, session, dataset, "compute", fields, fields_explicit=True)
    return {"licence": grant.licence_id, "fields": sorted(grant.fields or [])}


@pytest.fixture
def embedded(portal_settings: Settings) -> Iterator[TestClient]:
    """A host application embedding the plugin, with the probe route of its own (and the
    plugin's error handlers, so that the guard's refusals render as they do in the API)."""
    plugin = OpenDataPlugin(portal_settings, path_prefix="/")
    app = Litestar(route_handlers=[compute_probe], plugins=[plugin], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        yield client


def test_closed_data_can_be_computed_on_under_a_compute_licence(embedded: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(embedded, database_url, approval={"quotas": {"compute_calls_per_day": 1}}, items=[
        {"dataset": "personal-si-base", "operations": ["compute"], "fields": ["id_number", "base"]}])
    token = licensed.token(embedded)
    allowed = embedded.get("/probe/compute/personal-si-base", params={"fields": "base"}, headers=bearer(token))
    assert allowed.json() == {"licence": licensed.licence_id, "fields": ["base"]}
    assert latest_audit(database_url).action == "data.compute"
    over = embedded.get("/probe/compute/personal-si-base", params={"fields": "base"}, headers=bearer(token))
    assert_refused_and_audited(over, 429, "quota_exceeded", database_url, "data.compute")
    rows = embedded.get("/api/v1/datasets/personal-si-base/resources/bases/rows", headers=bearer(token))
    assert_refused_and_audited(rows, 403, "closed_dataset", database_url)


def test_compute_needs_a_compute_grant(embedded: TestClient, database_url: str) -> None:
    licensed = licensed_enterprise(embedded, database_url)  # query + download only
    response = embedded.get("/probe/compute/si-headcount", params={"fields": "headcount"},
                            headers=bearer(licensed.token(embedded)))
    assert_refused_and_audited(response, 403, "operation_not_licensed", database_url, "data.compute")


def test_filtering_or_sorting_on_an_unlicensed_field_is_refused_and_audited(
    client: TestClient, licensed: Licensed, database_url: str
) -> None:
    token = licensed.token(client)
    by_filter = client.get(ROWS, params={"credit_code": "91440101MA5CXXXX1A"}, headers=bearer(token))
    assert_refused_and_audited(by_filter, 403, "field_not_licensed", database_url)
    by_sort = client.get(ROWS, params={"sort": "credit_code"}, headers=bearer(token))
    assert_refused_and_audited(by_sort, 403, "field_not_licensed", database_url)
