"""The cap on a licence's unfinished jobs (OPENDATA_COMPUTE_MAX_ACTIVE_JOBS_PER_LICENCE)
against a client flooding the job endpoint, one request after another and all at once:
the count is taken again under a lock on the licence, so racing submissions cannot pass it.
Runs on both backends (the lock is a row lock on PostgreSQL, the write lock on SQLite)."""

from __future__ import annotations

import threading

import pytest

from opendata.compute.runtime import ComputeRuntime
from tests.access.helpers import assert_refused_and_audited
from tests.compute.attacks import tuned
from tests.compute.sme_model import firms
from tests.compute.test_api_models import approved_model
from tests.compute.test_attacks_jobs import JOBS, jobs_of, runtime_of, used_today
from tests.compute.world import World


@pytest.fixture
def held(world: World, monkeypatch: pytest.MonkeyPatch) -> ComputeRuntime:
    """Jobs are accepted but never started: they stay queued (unfinished) until cancelled,
    as behind a busy runner."""
    runtime = runtime_of(world)
    monkeypatch.setattr(runtime.jobs, "start", lambda *args, **kwargs: None)
    return runtime


def test_unfinished_jobs_per_licence_are_capped(world: World, held: ComputeRuntime) -> None:
    licence = world.licence(quotas={"compute_calls_per_day": 100})
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    before = tuned(held, max_active_jobs_per_licence=1)
    try:
        body = {"kind": "score", "model_id": model_id, "subjects": firms(world)[:2]}
        first = world.client.post(JOBS, json=body, headers=headers)
        assert first.status_code == 202, first.text
        over = world.client.post(JOBS, json=body, headers=headers)
        assert_refused_and_audited(over, 429, "too_many_jobs", world.database_url, "compute.job.submit")
        assert over.headers["retry-after"]
        assert used_today(world, licence.id) == 2  # the queued job's, not the refused one's
        other = world.licence(quotas={"compute_calls_per_day": 100})  # another licence is not held back
        other_headers = other.headers(world.client)
        accepted = world.client.post(JOBS, json={**body, "model_id": approved_model(world, other_headers)},
                                     headers=other_headers)
        assert accepted.status_code == 202, accepted.text
        cancelled = world.client.post(f"{JOBS}/{first.json()['id']}/cancel", headers=headers)
        assert cancelled.status_code == 200 and cancelled.json()["refunded"] == 2
        again = world.client.post(JOBS, json=body, headers=headers)
        assert again.status_code == 202, again.text
        for job in (again.json()["id"], accepted.json()["id"]):
            world.client.post(f"{JOBS}/{job}/cancel", headers=world.bank.session)
    finally:
        held.settings = before


def test_submissions_racing_the_cap_on_unfinished_jobs_do_not_pass_it(world: World, held: ComputeRuntime) -> None:
    licence = world.licence(quotas={"compute_calls_per_day": 100})
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    racers = 4
    before = tuned(held, max_active_jobs_per_licence=1)
    start = threading.Barrier(racers)
    statuses: list[int] = []

    def submit(subject: str) -> None:
        start.wait()
        response = world.client.post(JOBS, json={"kind": "score", "model_id": model_id, "subjects": [subject]},
                                     headers=headers)
        statuses.append(response.status_code)

    try:
        threads = [threading.Thread(target=submit, args=(s,)) for s in firms(world)[:racers]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        held.settings = before
    assert sorted(statuses) == [202] + [429] * (racers - 1), statuses
    assert (jobs_of(world, licence.id), used_today(world, licence.id)) == (1, 1)
    for job in world.client.get(JOBS, headers=headers).json():
        world.client.post(f"{JOBS}/{job['id']}/cancel", headers=headers)
