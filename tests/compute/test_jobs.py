"""Compute jobs (issue 15 item 3): a scoring over a list of subjects as a job, on a real
two-worker Dask cluster and on the local process pool; progress, cancel, expiry, restart;
the job belongs to its licence (another enterprise's token sees 404) and every check of
the synchronous scoring applies."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import select, update

from opendata.access.models import LicenceUsage
from opendata.compute.jobs.models import ComputeJob, ComputeJobChunk
from opendata.compute.runtime import ComputeRuntime
from opendata.db import Database, utcnow
from tests.access.helpers import assert_refused_and_audited
from tests.compute.calls import audit_records, details
from tests.compute.sme_model import expected_scores, firms
from tests.compute.test_api_models import approved_model, decrypt
from tests.compute.world import World

distributed = pytest.importorskip("distributed")

JOBS = "/api/v1/compute/jobs"
CHUNK = 8


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def holder(cluster: Any) -> Iterator[Any]:
    """A client of the cluster that can keep its workers busy (the job's chunks then wait)."""
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        yield client


def runtime_of(world: World) -> ComputeRuntime:
    return world.client.app.state["opendata"].compute


@pytest.fixture
def on_dask(world: World, cluster: Any) -> Iterator[ComputeRuntime]:
    runtime = runtime_of(world)
    before = runtime.settings
    runtime.settings = dataclasses.replace(before, job_chunk_subjects=CHUNK, dask_scheduler=cluster.scheduler_address)
    yield runtime
    runtime.settings = before


@pytest.fixture
def on_local(world: World) -> Iterator[ComputeRuntime]:
    runtime = runtime_of(world)
    before = runtime.settings
    runtime.settings = dataclasses.replace(before, job_chunk_subjects=CHUNK, dask_scheduler="")
    yield runtime
    runtime.settings = before


def submit(world: World, headers: dict[str, str], model_id: int, subjects: list[str]) -> Any:
    return world.client.post(JOBS, json={"kind": "score", "model_id": model_id, "subjects": subjects}, headers=headers)


def run_job(world: World, runtime: ComputeRuntime, headers: dict[str, str], model_id: int,
            subjects: list[str]) -> dict[str, Any]:
    created = submit(world, headers, model_id, subjects)
    assert created.status_code == 202, created.text
    job = created.json()
    assert created.headers["location"] == f"{JOBS}/{job['id']}"
    runtime.jobs.join(job["id"], timeout=120)
    return world.client.get(created.headers["location"], headers=headers).json()


def used_today(world: World, licence_id: int) -> int:
    database = Database(world.database_url)
    with database.session() as session:
        used = session.scalar(select(LicenceUsage.used).where(LicenceUsage.licence_id == licence_id,
                                                              LicenceUsage.kind == "compute")) or 0
    database.dispose()
    return used


def change_job(world: World, job_id: str, **values: Any) -> list[str | None]:
    database = Database(world.database_url)
    with database.session() as session:
        if values:
            session.execute(update(ComputeJob).where(ComputeJob.id == job_id).values(**values))
            session.commit()
        outputs = list(session.scalars(select(ComputeJobChunk.output).where(ComputeJobChunk.job_id == job_id)))
    database.dispose()
    return outputs


def test_a_scoring_job_on_two_dask_workers_equals_the_plaintext_model(world: World, on_dask: ComputeRuntime) -> None:
    licence = world.licence(quotas={"compute_calls_per_day": 1000})
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    subjects = firms(world)
    job = run_job(world, on_dask, headers, model_id, subjects)
    chunks = -(-len(subjects) // CHUNK)
    assert job["state"] == "succeeded", job
    assert (job["engine"], job["progress"]["done"], job["progress"]["total"]) == ("dask", chunks, chunks)
    assert job["summary"]["subjects"] == len(subjects) and job["expires_at"] is not None

    result = world.client.get(f"{JOBS}/{job['id']}/result", headers=headers)
    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["job"], body["model_id"], body["output_mode"]) == (job["id"], model_id, "reviewed")
    assert decrypt(world, body) == expected_scores(world, subjects)
    assert used_today(world, licence.id) == len(subjects)  # one unit per subject, as synchronously

    chunk_records = [r for r in audit_records(world.database_url, "compute.score", limit=50)
                     if details(r).get("job") == job["id"]]
    assert len(chunk_records) == chunks  # each chunk audited like a synchronous scoring, subjects as digests
    assert sum(len(details(r)["subjects"]) for r in chunk_records) == len(subjects)
    assert not any(s in r.details for r in chunk_records for s in subjects)
    submitted = audit_records(world.database_url, "compute.job.submit", limit=1)[0]
    assert (details(submitted)["job"], details(submitted)["units"]) == (job["id"], len(subjects))


def test_jobs_run_on_the_local_worker_processes_by_default(world: World, on_local: ComputeRuntime) -> None:
    headers = world.main.headers(world.client)
    model_id = approved_model(world, headers)
    subjects = firms(world)[:10]
    job = run_job(world, on_local, headers, model_id, subjects)
    assert (job["state"], job["engine"], job["progress"]["done"]) == ("succeeded", "local", 2)
    body = world.client.get(f"{JOBS}/{job['id']}/result", headers=headers).json()
    assert decrypt(world, body) == expected_scores(world, subjects)
    listed = world.client.get(JOBS, headers=world.bank.session).json()
    assert job["id"] in [j["id"] for j in listed]


def _wait_for(name: str) -> bool:
    return distributed.Event(name).wait(60)


@contextmanager
def held_job(world: World, runtime: ComputeRuntime, holder: Any) -> Iterator[tuple[Any, dict[str, str], str]]:
    """A fresh licence's job over every firm, submitted while both Dask workers are kept busy
    (its chunks wait behind) until the block ends; then the job's coordinator is joined."""
    licence = world.licence(quotas={"compute_calls_per_day": 1000})
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    event = distributed.Event(f"hold-{utcnow().timestamp()}", client=holder)
    busy = [holder.submit(_wait_for, event.name, pure=False, workers=[w], allow_other_workers=False)
            for w in holder.scheduler_info()["workers"]]
    job_id = None
    try:
        created = submit(world, headers, model_id, firms(world))
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        yield licence, headers, job_id
    finally:
        event.set()
        if job_id is not None:
            runtime.jobs.join(job_id, timeout=60)
        holder.gather(busy)


def test_a_cancelled_job_stops_and_refunds_what_it_did_not_compute(world: World, on_dask: ComputeRuntime,
                                                                    holder: Any) -> None:
    with held_job(world, on_dask, holder) as (licence, headers, job_id):
        assert used_today(world, licence.id) == len(firms(world))
        early = world.client.get(f"{JOBS}/{job_id}/result", headers=headers)
        assert_refused_and_audited(early, 409, "job_not_finished", world.database_url, "compute.job.result")
        cancelled = world.client.post(f"{JOBS}/{job_id}/cancel", headers=headers)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["state"] == "cancelled"
    job = world.client.get(f"{JOBS}/{job_id}", headers=headers).json()
    assert (job["state"], job["progress"]["done"], job["refunded"]) == ("cancelled", 0, len(firms(world)))
    assert used_today(world, licence.id) == 0
    again = world.client.post(f"{JOBS}/{job_id}/cancel", headers=headers)
    assert_refused_and_audited(again, 409, "job_finished", world.database_url, "compute.job.cancel")
    gone = world.client.get(f"{JOBS}/{job_id}/result", headers=headers)
    assert_refused_and_audited(gone, 409, "job_cancelled", world.database_url, "compute.job.result")


def test_a_revoked_licence_stops_its_running_job(world: World, on_dask: ComputeRuntime, holder: Any) -> None:
    with held_job(world, on_dask, holder) as (licence, _, job_id):
        revoked = world.client.post(f"/api/v1/licences/{licence.id}/revoke", json={"reason": "违规使用"},
                                    headers=world.admin)
        assert revoked.status_code == 200, revoked.text
    job = world.client.get(f"{JOBS}/{job_id}", headers=world.bank.session).json()
    assert (job["state"], job["error"]["code"]) == ("failed", "licence_inactive")
    assert job["progress"]["done"] < job["progress"]["total"]


@pytest.fixture(scope="module")
def finished(world: World) -> dict[str, Any]:
    """A succeeded job of the main licence (local pool), for the access and expiry tests."""
    runtime = runtime_of(world)
    before = runtime.settings
    runtime.settings = dataclasses.replace(before, job_chunk_subjects=CHUNK, dask_scheduler="")
    try:
        headers = world.main.headers(world.client)
        model_id = approved_model(world, headers)
        return run_job(world, runtime, headers, model_id, firms(world)[:3])
    finally:
        runtime.settings = before


@pytest.mark.parametrize("method, suffix", [("GET", ""), ("GET", "/result"), ("POST", "/cancel"), ("DELETE", "")])
def test_another_enterprises_token_or_licence_gets_404(world: World, finished: dict[str, Any], method: str,
                                                       suffix: str) -> None:
    url = f"{JOBS}/{finished['id']}{suffix}"
    action = {"": "compute.job.read", "/result": "compute.job.result", "/cancel": "compute.job.cancel"}[suffix] \
        if method != "DELETE" else "compute.job.cancel"
    rival = world.licence(world.rival).headers(world.client)
    for headers in (rival, world.rival.session, world.licence().headers(world.client)):  # the last: same bank
        response = world.client.request(method, url, headers=headers)
        assert_refused_and_audited(response, 404, "job_not_found", world.database_url, action)
    unknown = world.client.request(method, f"{JOBS}/job_{'0' * 24}{suffix}", headers=world.main.headers(world.client))
    assert unknown.status_code == 404
    assert finished["id"] not in [j["id"] for j in world.client.get(JOBS, headers=rival).json()]


@pytest.mark.parametrize("method, path, code", [
    ("POST", JOBS, "token_required"), ("GET", JOBS, "authentication_required"),
    ("GET", f"{JOBS}/job_x", "authentication_required"), ("GET", f"{JOBS}/job_x/result", "authentication_required"),
    ("POST", f"{JOBS}/job_x/cancel", "authentication_required"), ("DELETE", f"{JOBS}/job_x", "authentication_required"),
])
def test_jobs_are_refused_without_a_token(world: World, method: str, path: str, code: str) -> None:
    response = world.client.request(method, path, json={"kind": "score"} if method == "POST" else None)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == code


def test_the_administrator_sees_jobs_but_not_their_results(world: World, finished: dict[str, Any]) -> None:
    assert finished["id"] in [j["id"] for j in world.client.get(JOBS, headers=world.admin).json()]
    result = world.client.get(f"{JOBS}/{finished['id']}/result", headers=world.admin)
    assert_refused_and_audited(result, 403, "forbidden_role", world.database_url, "compute.job.result")


def test_a_result_is_purged_when_its_time_is_up(world: World, finished: dict[str, Any]) -> None:
    headers = world.main.headers(world.client)
    assert world.client.get(f"{JOBS}/{finished['id']}/result", headers=headers).status_code == 200
    outputs = change_job(world, finished["id"], expires_at=utcnow() - timedelta(seconds=1))
    assert all(outputs)
    expired = world.client.get(f"{JOBS}/{finished['id']}/result", headers=headers)
    assert_refused_and_audited(expired, 410, "job_expired", world.database_url, "compute.job.result")
    assert change_job(world, finished["id"]) == [None] * finished["progress"]["total"]
    assert world.client.get(f"{JOBS}/{finished['id']}", headers=headers).json()["state"] == "expired"


@pytest.mark.parametrize("body, status, code", [
    ({"kind": "histogram"}, 400, "unknown_kind"),
    ({"kind": "score", "model_id": 1}, 400, "missing_field"),
    ({"kind": "score", "model_id": "1", "subjects": ["x"]}, 400, "invalid_model"),
    ({"kind": "score", "model_id": 999999, "subjects": ["x"]}, 404, "not_found"),
])
def test_job_requests_are_checked(world: World, body: dict[str, Any], status: int, code: str) -> None:
    response = world.client.post(JOBS, json=body, headers=world.main.headers(world.client))
    assert_refused_and_audited(response, status, code, world.database_url, "compute.job.submit")


def test_a_job_passes_the_synchronous_scorings_checks(world: World, on_local: ComputeRuntime) -> None:
    licence = world.licence(quotas={"compute_calls_per_day": 5}, all_subjects=False)
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    outside = submit(world, headers, model_id, firms(world)[:2])
    assert_refused_and_audited(outside, 403, "subject_not_authorised", world.database_url, "compute.job.submit")
    world.set_policy(licence.id, all_subjects=True)
    over = submit(world, headers, model_id, firms(world)[:6])
    assert_refused_and_audited(over, 429, "quota_exceeded", world.database_url, "compute.job.submit")
    other = submit(world, world.main.headers(world.client), model_id, firms(world)[:2])
    assert_refused_and_audited(other, 403, "model_other_licence", world.database_url, "compute.job.submit")
    assert used_today(world, licence.id) == 0


def test_a_job_whose_process_died_is_failed_at_the_next_start(world: World, finished: dict[str, Any]) -> None:
    database = Database(world.database_url)
    with database.session() as session:
        base = session.get(ComputeJob, finished["id"])
        ghost = ComputeJob(id="job_ghost" + finished["id"][-8:], kind="score", licence_id=base.licence_id,
                           organisation_id=base.organisation_id, created_by=base.created_by, state="running",
                           summary=base.summary, total_chunks=1, done_chunks=0, units=3, refunded=0,
                           charged_on=base.charged_on, engine="local", runner=f"{runner_host()}:999999999")
        session.add(ghost)
        session.flush()
        session.add(ComputeJobChunk(job_id=ghost.id, index=0, units=3, input=["x"]))
        session.commit()
        ghost_id = ghost.id
    database.dispose()
    world.client.app.state["opendata"]._recover_jobs()  # what every start-up runs
    job = world.client.get(f"{JOBS}/{ghost_id}", headers=world.bank.session).json()
    assert (job["state"], job["error"]["code"], job["refunded"]) == ("failed", "runner_lost", 3)


def runner_host() -> str:
    from opendata.compute.jobs.state import runner_name

    return runner_name().rpartition(":")[0]
