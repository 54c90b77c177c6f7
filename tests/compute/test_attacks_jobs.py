"""The job endpoints (/api/v1/compute/jobs, /workspace/compute/jobs) against a client that
writes its own requests: a finished job's result after its licence ended, malformed and
oversized job specs (the cap on unfinished jobs: test_job_cap.py). Every refusal is an
audited error, creates no job and charges nothing (docs/security/compute-threat-model.md,
Jobs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select, update

from opendata.access.models import Licence, LicenceUsage
from opendata.compute.jobs.models import ComputeJob
from opendata.compute.runtime import ComputeRuntime
from opendata.db import Database, utcnow
from tests.access.helpers import assert_refused_and_audited
from tests.compute.attacks import tuned
from tests.compute.sme_model import firms
from tests.compute.test_api_models import approved_model
from tests.compute.world import World
from tests.portal.helpers import sign_in

JOBS = "/api/v1/compute/jobs"


def runtime_of(world: World) -> ComputeRuntime:
    return world.client.app.state["opendata"].compute


@pytest.fixture
def local(world: World) -> Iterator[ComputeRuntime]:
    runtime = runtime_of(world)
    before = tuned(runtime, job_chunk_subjects=2, dask_scheduler="")
    yield runtime
    runtime.settings = before


def in_database(world: World, query: Any) -> Any:
    database = Database(world.database_url)
    with database.session() as session:
        value = session.scalar(query)
    database.dispose()
    return value


def jobs_of(world: World, licence_id: int) -> int:
    return in_database(world, select(func.count()).select_from(ComputeJob).where(ComputeJob.licence_id == licence_id))


def used_today(world: World, licence_id: int) -> int:
    return in_database(world, select(func.coalesce(func.sum(LicenceUsage.used), 0))
                       .where(LicenceUsage.licence_id == licence_id)) or 0


def end_licence(world: World, licence_id: int, how: str) -> None:
    if how == "revoked":
        revoked = world.client.post(f"/api/v1/licences/{licence_id}/revoke", json={"reason": "违规使用"},
                                    headers=world.admin)
        assert revoked.status_code == 200, revoked.text
        return
    database = Database(world.database_url)
    with database.session() as session:
        session.execute(update(Licence).where(Licence.id == licence_id)
                        .values(valid_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    database.dispose()


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_finished_jobs_result_is_not_served_once_its_licence_has_ended(world: World, local: ComputeRuntime,
                                                                        how: str) -> None:
    licence = world.licence(quotas={"compute_calls_per_day": 100})
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    created = world.client.post(JOBS, json={"kind": "score", "model_id": model_id, "subjects": firms(world)[:3]},
                                headers=headers)
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    local.jobs.join(job_id, timeout=120)
    result = f"{JOBS}/{job_id}/result"
    assert world.client.get(result, headers=world.bank.session).status_code == 200

    end_licence(world, licence.id, how)
    for door in (headers, world.bank.session):  # the licence's token, the organisation's user
        refused = world.client.get(result, headers=door)
        assert_refused_and_audited(refused, 403, "licence_inactive", world.database_url, "compute.job.result")
    status = world.client.get(f"{JOBS}/{job_id}", headers=world.bank.session)
    assert status.status_code == 200 and status.json()["state"] == "succeeded"  # what happened stays visible
    again = world.client.post(JOBS, json={"kind": "score", "model_id": model_id, "subjects": firms(world)[3:5]},
                              headers=headers)
    assert_refused_and_audited(again, 403, "licence_inactive", world.database_url, "compute.job.submit")
    assert (jobs_of(world, licence.id), used_today(world, licence.id)) == (1, 3)

    world.client.cookies.clear()
    try:
        sign_in(world.client, "bank")
        page = world.client.get("/workspace/compute/jobs")
        assert page.status_code == 200 and job_id in page.text
        assert f"/workspace/compute/jobs/{job_id}/result" not in page.text  # no download offered
        download = world.client.get(f"/workspace/compute/jobs/{job_id}/result")
        assert download.status_code == 403 and b"ciphertext" not in download.content
    finally:
        world.client.cookies.clear()


MODEL = object()  # replaced by the approved model's id


@pytest.fixture(scope="module")
def spec_licence(world: World) -> tuple[Any, dict[str, str], int]:
    """A licence with an approved model that every malformed spec is sent under: none of
    them may leave a job or a charge behind."""
    licence = world.licence(quotas={"compute_calls_per_day": 100})
    headers = licence.headers(world.client)
    return licence, headers, approved_model(world, headers)


def _score(subjects: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": "score", "model_id": MODEL, "subjects": subjects, **extra}


@pytest.mark.parametrize("body, code", [
    (b"{\"kind\": \"score\"", "invalid_json"),
    (b"\xff\xfe", "invalid_json"),
    (b"[]", "unknown_kind"),
    (b"\"score\"", "unknown_kind"),
    ({"kind": ["score"]}, "unknown_kind"),
    ({"kind": "Score"}, "unknown_kind"),
    ({"kind": "score", "model_id": MODEL}, "missing_field"),
    (_score(["x"], priority=1), "unexpected_field"),
    ({"kind": "score", "model_id": True, "subjects": ["x"]}, "invalid_model"),
    ({"kind": "score", "model_id": 1.0, "subjects": ["x"]}, "invalid_model"),
    ({"kind": "score", "model_id": -1, "subjects": ["x"]}, "invalid_model"),
    ({"kind": "score", "model_id": 2**63, "subjects": ["x"]}, "invalid_model"),
    (_score([]), "invalid_subjects"),
    (_score("91440101MA504XG26L"), "invalid_subjects"),
    (_score({"a": 1}), "invalid_subjects"),
    (_score(["a", "a"]), "duplicate_subject"),
    (_score([None]), None),
    (_score([True]), None),
    (_score([1.5]), None),
    (_score([["nested"]]), None),
    (_score([{"id": 1}]), None),
    (_score(["x" * 100_000]), None),
    (_score(["91440101MA504XG26L\u202e"]), None),
    (_score([f"s{i}" for i in range(11)]), "batch_too_large"),
    ({"kind": "hidden_query"}, "missing_field"),
    ({"kind": "hidden_query", "dataset": 5, "fields": "score", "key_id": [], "layout": {}, "selections": "all"},
     None),
    ({"kind": "hidden_query", "dataset": "tax-credit-ratings", "fields": ["rating"], "key_id": "k", "layout": "d",
      "selections": []}, None),
    ({"kind": "hidden_query", "dataset": "tax-credit-ratings", "fields": ["rating"], "key_id": "k", "layout": "d",
      "selections": [1, None]}, None),
])
def test_malformed_job_specs_are_refused_and_charge_nothing(world: World, local: ComputeRuntime,
                                                            spec_licence: tuple[Any, dict[str, str], int], body: Any,
                                                            code: str | None) -> None:
    licence, headers, model_id = spec_licence
    before = tuned(local, job_max_subjects=10)
    try:
        if isinstance(body, dict) and body.get("model_id") is MODEL:
            body = {**body, "model_id": model_id}
        sent = {"content": body} if isinstance(body, bytes) else {"json": body}
        response = world.client.post(JOBS, headers={**headers, "Content-Type": "application/json"}, **sent)
    finally:
        local.settings = before
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["message"] and (code is None or error["code"] == code), response.text
    assert_refused_and_audited(response, response.status_code, error["code"], world.database_url,
                               "compute.job.submit")
    assert (jobs_of(world, licence.id), used_today(world, licence.id)) == (0, 0)


def test_an_oversized_job_spec_is_refused(world: World) -> None:
    """The door takes a job's body up to upload_max_bytes (an intersection's reply is ~2.5 KB
    per offered subject); every other kind stays under request_body_max_bytes, refused
    (audited, nothing planned) once the caller is known."""
    headers = world.main.headers(world.client)
    limit = world.settings.request_body_max_bytes
    body = b'{"kind": "score", "model_id": 1, "subjects": ["' + b"9" * limit + b'"]}'
    response = world.client.post(JOBS, content=body, headers={**headers, "Content-Type": "application/json"})
    assert_refused_and_audited(response, 413, "body_too_large", world.database_url, "compute.job.submit")
    over = b'{"kind": "intersection", "session": "x", "reply": "' + b"9" * world.settings.upload_max_bytes + b'"}'
    response = world.client.post(JOBS, content=over, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large", response.text


@pytest.mark.parametrize("path", [f"{JOBS}/{'j' * 5000}", f"{JOBS}/job_%00", f"{JOBS}/..%2F..%2Fadmin",
                                  f"{JOBS}/job_x/result/extra", f"{JOBS}?state=%E2%80%AE"])
def test_odd_job_paths_are_client_errors(world: World, path: str) -> None:
    response = world.client.get(path, headers=world.main.headers(world.client))
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"], response.text
