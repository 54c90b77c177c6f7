"""Private intersection statistics (联合统计) answered by a job, through POST
/api/v1/compute/jobs: the same statistics as the synchronous answer, epsilon spent once and
only when the job succeeds, and the attacker's cases -- another licence's session, a used,
refused or expired session, a second job on the same session, the budget spent before the
submission or while the job runs, a cancel just before the result (nothing released,
nothing spent), a reply that does not add up (spent, as synchronously); the SDK and the CLI."""

from __future__ import annotations

import dataclasses
import json
import threading
from decimal import Decimal
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from opendata.cli import main
from opendata.client import OpenDataClient
from opendata.compute import psi_service
from opendata.compute.jobs import intersection
from opendata.compute.models import IntersectionSession
from opendata.compute.psi_client import build_reply, read_answer
from opendata.db import Database, utcnow
from tests.access.helpers import assert_refused_and_audited
from tests.compute.calls import audit_records, details
from tests.compute.test_attacks_jobs import in_database, jobs_of
from tests.compute.test_intersection import OPEN, RATINGS, grant, offer, scores
from tests.compute.world import World
from tests.portal.helpers import sign_in

JOBS = "/api/v1/compute/jobs"
SUBMIT = "compute.job.submit"


@pytest.fixture(autouse=True)
def _sqlite_only(world: World) -> None:
    # The budget's conditional UPDATE is the synchronous answer's, tested on both backends
    # in test_intersection.py; the job's transactions are state.py's, tested on both in test_job_cap.py.
    if world.database_url.startswith("postgresql"):
        pytest.skip("runs on SQLite only")


@pytest.fixture
def exact(monkeypatch: pytest.MonkeyPatch) -> None:
    from opendata.compute import privacy

    monkeypatch.setattr(privacy.Release, "noisy_count", lambda self, count: int(count))
    monkeypatch.setattr(privacy.Release, "sum_noise", lambda self: 0)


@pytest.fixture
def licensed(world: World) -> tuple[Any, dict[str, str]]:
    licence = world.licence()
    grant(world, licence.id)  # 1.0 a query, 3.0 in all
    return licence, licence.headers(world.client)


def jobs_runtime(world: World) -> Any:
    return world.client.app.state["opendata"].compute.jobs


def opened_reply(world: World, headers: dict[str, str], ids: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    opened = offer(world, headers)
    assert opened.status_code == 201, opened.text
    return opened.json(), build_reply(opened.json(), ids, world.bank.key.private_key).body()


def submit(world: World, headers: dict[str, str], session_id: Any, reply: Any) -> Any:
    return world.client.post(JOBS, json={"kind": "intersection", "session": session_id, "reply": reply},
                             headers=headers)


def finished(world: World, headers: dict[str, str], created: Any) -> dict[str, Any]:
    assert created.status_code == 202, created.text
    jobs_runtime(world).join(created.json()["id"], timeout=120)
    return world.client.get(f"{JOBS}/{created.json()['id']}", headers=headers).json()


def epsilon_left(world: World, headers: dict[str, str]) -> float:
    return world.client.get("/api/v1/compute/intersection/grants", headers=headers).json()["grants"][0]["epsilon_left"]


def session_state(world: World, session_id: str) -> tuple[str, float | None]:
    row = in_database(world, select(IntersectionSession.state).where(IntersectionSession.id == session_id))
    spent = in_database(world, select(IntersectionSession.epsilon).where(IntersectionSession.id == session_id))
    return row, spent


def answers_of(world: World, job_id: str) -> list[Any]:
    return [r for r in audit_records(world.database_url, psi_service.ACTION, 5) if details(r).get("job") == job_id]


def expire(world: World, session_id: str) -> None:
    database = Database(world.database_url)
    with database.session() as session:
        session.execute(update(IntersectionSession).where(IntersectionSession.id == session_id)
                        .values(expires_at=utcnow()))
        session.commit()
    database.dispose()


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Every chunk done, the job held just before its result is computed and recorded (the
    moment a cancel or another spend would matter most): (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    conclude = intersection.IntersectionPlan.conclude

    def waiting(self: Any) -> dict[str, Any]:
        reached.set()
        assert release.wait(60)
        return conclude(self)

    monkeypatch.setattr(intersection.IntersectionPlan, "conclude", waiting)
    yield reached, release
    release.set()


def test_the_answer_as_a_job_is_the_synchronous_answer(world: World, licensed, exact) -> None:
    licence, headers = licensed
    table = scores(world)
    members = sorted(table)[2:8]
    opened, reply = opened_reply(world, headers, members + ["91440000NOTINDATA1"])
    job = finished(world, headers, submit(world, headers, opened["session"], reply))
    assert job["state"] == "succeeded" and job["kind"] == "intersection", job
    assert job["summary"] | {} == {**job["summary"], "session": opened["session"], "ids": 7, "epsilon": 1.0}
    assert job["progress"]["done"] == job["progress"]["total"] >= 2  # the check and the blinding
    result = world.client.get(f"{JOBS}/{job['id']}/result", headers=headers).json()
    stats = read_answer(result["statistics"], world.bank.key.private_key)
    assert (stats.count, stats.sum, stats.ids) == (6, sum(table[m] for m in members), 7)
    assert (stats.epsilon_spent, stats.epsilon_left) == (1.0, 2.0) and epsilon_left(world, headers) == 2.0
    assert session_state(world, opened["session"]) == ("answered", 1.0)
    # Nothing else of the protocol is served or stored: no blinded id, no point, no position.
    assert set(result) == {"job", "kind", *job["summary"], "statistics"}
    assert not any(p in json.dumps(result) for p in reply["ids"][:3] + opened["points"][:3])
    # The session is used: neither the synchronous answer nor a second job gets it.
    again = world.client.post(f"{OPEN}/{opened['session']}", json=reply, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "session_used"
    second = submit(world, headers, opened["session"], reply)
    assert_refused_and_audited(second, 409, "session_used", world.database_url, SUBMIT)
    assert epsilon_left(world, headers) == 2.0
    # Audited once as an answer (ids counted, the job named, never an id), per chunk as steps.
    answers = answers_of(world, job["id"])
    assert len(answers) == 1 and details(answers[0])["ids"] == 7 and details(answers[0])["epsilon"] == 1.0
    steps = [r for r in audit_records(world.database_url, "compute.intersection.step", 10)
             if details(r).get("job") == job["id"]]
    assert len(steps) == job["progress"]["total"]
    assert not any(m in r.details for r in answers + steps for m in members)
    # The workspace lists it with the number of ids, never which.
    world.client.cookies.clear()
    sign_in(world.client, "bank")
    page = world.client.get("/workspace/compute/jobs")
    world.client.cookies.clear()
    assert page.status_code == 200 and job["id"] in page.text and "7 个盲化标识" in page.text
    assert licence.id == job["licence_id"]


def test_another_licences_session_is_no_session(world: World, licensed) -> None:
    licence, headers = licensed
    opened, reply = opened_reply(world, headers, sorted(scores(world))[:4])
    rival = world.licence(world.rival)
    grant(world, rival.id)
    sibling = world.licence()  # the bank's own other licence, with a grant of its own
    grant(world, sibling.id)
    for other in (rival, sibling):
        refused = submit(world, other.headers(world.client), opened["session"], reply)
        assert_refused_and_audited(refused, 404, "not_found", world.database_url, SUBMIT)
        assert jobs_of(world, other.id) == 0
    for junk in ("0" * 32, "x", 7, None, ["a"]):
        refused = submit(world, headers, junk, reply)
        assert_refused_and_audited(refused, 404, "not_found", world.database_url, SUBMIT)
    assert session_state(world, opened["session"]) == ("open", None) and epsilon_left(world, headers) == 3.0
    assert jobs_of(world, licence.id) == 0


def test_used_refused_and_expired_sessions_are_refused(world: World, licensed) -> None:
    licence, headers = licensed
    ids = sorted(scores(world))[:4]
    answered, reply = opened_reply(world, headers, ids)
    assert world.client.post(f"{OPEN}/{answered['session']}", json=reply, headers=headers).status_code == 200
    used = submit(world, headers, answered["session"], reply)
    assert_refused_and_audited(used, 409, "session_used", world.database_url, SUBMIT)
    refused, good = opened_reply(world, headers, ids)
    guess = {**good, "mask_total": str(int(good["mask_total"]) + 1)}
    assert world.client.post(f"{OPEN}/{refused['session']}", json=guess, headers=headers).status_code == 400
    closed = submit(world, headers, refused["session"], good)
    assert_refused_and_audited(closed, 409, "session_used", world.database_url, SUBMIT)
    late, late_reply = opened_reply(world, headers, ids)
    expire(world, late["session"])
    expired = submit(world, headers, late["session"], late_reply)
    assert_refused_and_audited(expired, 410, "session_expired", world.database_url, SUBMIT)
    malformed = submit(world, headers, late["session"], {**late_reply, "ids": late_reply["ids"] * 13})
    assert malformed.status_code in (400, 410)
    assert epsilon_left(world, headers) == 1.0  # one answer, one refused reply; nothing for the jobs
    assert jobs_of(world, licence.id) == 0


def test_a_spent_budget_refuses_the_job_before_it_starts(world: World) -> None:
    licence = world.licence()
    grant(world, licence.id, epsilon_total=1.0)
    headers = licence.headers(world.client)
    ids = sorted(scores(world))[:4]
    first, first_reply = opened_reply(world, headers, ids)
    second, second_reply = opened_reply(world, headers, ids)  # opened while a query was left
    assert world.client.post(f"{OPEN}/{first['session']}", json=first_reply, headers=headers).status_code == 200
    refused = submit(world, headers, second["session"], second_reply)
    assert_refused_and_audited(refused, 429, "privacy_budget_exhausted", world.database_url, SUBMIT)
    assert jobs_of(world, licence.id) == 0 and session_state(world, second["session"]) == ("open", None)


def test_a_budget_spent_while_the_job_runs_releases_nothing(world: World, held) -> None:
    reached, release = held
    licence = world.licence()
    grant(world, licence.id, epsilon_total=1.0)
    headers = licence.headers(world.client)
    ids = sorted(scores(world))[:4]
    first, first_reply = opened_reply(world, headers, ids)
    second, second_reply = opened_reply(world, headers, ids)
    created = submit(world, headers, second["session"], second_reply)
    assert created.status_code == 202, created.text
    assert reached.wait(60)
    # The last query goes to a synchronous answer while the job is about to record its own.
    assert world.client.post(f"{OPEN}/{first['session']}", json=first_reply, headers=headers).status_code == 200
    release.set()
    job = finished(world, headers, created)
    assert (job["state"], job["error"]["code"]) == ("failed", "privacy_budget_exhausted"), job
    result = world.client.get(f"{JOBS}/{job['id']}/result", headers=headers)
    assert_refused_and_audited(result, 409, "job_failed", world.database_url, "compute.job.result")
    assert epsilon_left(world, headers) == 0.0
    spent = world.client.get(f"/api/v1/compute/policies/{licence.id}/intersection", headers=world.admin).json()
    assert spent["grants"][0]["epsilon_spent"] == 1.0  # not 2: never over the budget
    assert session_state(world, second["session"]) == ("cancelled", None)


def test_a_cancel_before_the_result_releases_and_spends_nothing(world: World, licensed, held) -> None:
    reached, release = held
    _, headers = licensed
    opened, reply = opened_reply(world, headers, sorted(scores(world))[:5])
    created = submit(world, headers, opened["session"], reply)
    assert created.status_code == 202, created.text
    assert reached.wait(60)
    cancelled = world.client.post(f"{JOBS}/{created.json()['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
    release.set()
    job = finished(world, headers, created)
    assert job["state"] == "cancelled", job
    gone = world.client.get(f"{JOBS}/{job['id']}/result", headers=headers)
    assert_refused_and_audited(gone, 409, "job_cancelled", world.database_url, "compute.job.result")
    assert epsilon_left(world, headers) == 3.0
    assert session_state(world, opened["session"]) == ("cancelled", None)
    assert not answers_of(world, job["id"])
    # The cancelled session stays closed: a replay of the same reply gets nothing.
    replay = world.client.post(f"{OPEN}/{opened['session']}", json=reply, headers=headers)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "session_used"
    resubmitted = submit(world, headers, opened["session"], reply)
    assert_refused_and_audited(resubmitted, 409, "session_used", world.database_url, SUBMIT)
    again = world.client.post(f"{JOBS}/{job['id']}/cancel", headers=headers)
    assert_refused_and_audited(again, 409, "job_finished", world.database_url, "compute.job.cancel")
    assert epsilon_left(world, headers) == 3.0


def test_a_cancel_after_the_result_is_too_late_and_spends_nothing_more(world: World, licensed, exact) -> None:
    _, headers = licensed
    opened, reply = opened_reply(world, headers, sorted(scores(world))[:5])
    job = finished(world, headers, submit(world, headers, opened["session"], reply))
    assert job["state"] == "succeeded"
    late = world.client.post(f"{JOBS}/{job['id']}/cancel", headers=headers)
    assert_refused_and_audited(late, 409, "job_finished", world.database_url, "compute.job.cancel")
    discarded = world.client.delete(f"{JOBS}/{job['id']}", headers=headers)
    assert discarded.status_code == 200 and discarded.json()["state"] == "expired"
    assert epsilon_left(world, headers) == 2.0 and session_state(world, opened["session"]) == ("answered", 1.0)


def test_a_reply_that_does_not_add_up_fails_the_job_and_spends_once(world: World, licensed) -> None:
    _, headers = licensed
    opened, good = opened_reply(world, headers, sorted(scores(world))[:4])
    guess = {**good, "mask_total": str(int(good["mask_total"]) + 1)}
    job = finished(world, headers, submit(world, headers, opened["session"], guess))
    assert (job["state"], job["error"]["code"]) == ("failed", "reply_inconsistent"), job
    assert "epsilon spent" in job["error"]["message"]
    assert epsilon_left(world, headers) == 2.0 and session_state(world, opened["session"]) == ("refused", 1.0)
    record = next(r for r in audit_records(world.database_url, psi_service.ACTION, 3) if r.code == "reply_inconsistent")
    assert record.outcome == "refused" and details(record)["epsilon"] == 1.0
    honest = submit(world, headers, opened["session"], good)  # no second guess on the same session
    assert_refused_and_audited(honest, 409, "session_used", world.database_url, SUBMIT)
    assert epsilon_left(world, headers) == 2.0


def test_on_a_two_worker_dask_cluster_the_chunks_run_there(world: World, licensed, exact) -> None:
    distributed = pytest.importorskip("distributed")
    _, headers = licensed
    table = scores(world)
    members = sorted(table)[:5]
    opened, reply = opened_reply(world, headers, members)
    runtime = world.client.app.state["opendata"].compute
    before = runtime.settings
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        runtime.settings = dataclasses.replace(before, job_chunk_subjects=2, dask_scheduler=cluster.scheduler_address)
        try:
            job = finished(world, headers, submit(world, headers, opened["session"], reply))
        finally:
            runtime.settings = before
    assert (job["state"], job["engine"], job["progress"]["total"]) == ("succeeded", "dask", 4), job  # check + 3 slices
    result = world.client.get(f"{JOBS}/{job['id']}/result", headers=headers).json()
    stats = read_answer(result["statistics"], world.bank.key.private_key)
    assert (stats.count, stats.sum) == (5, sum(table[m] for m in members))
    assert epsilon_left(world, headers) == 2.0


def test_the_sdk_and_the_cli_run_the_answer_as_a_job(world: World, portal: str, tmp_path, exact) -> None:
    licence = world.licence()
    grant(world, licence.id)
    table = scores(world)
    members = sorted(table)[1:6]
    with OpenDataClient(portal, client_id=world.bank.client_id, client_secret=world.bank.client_secret,
                        scope=f"licence:{licence.id}", key=world.bank.key) as od:
        job = od.intersection_job(RATINGS, "score", members + ["91440000NOTINDATA1"], where={"year": 2021})
        stats = job.wait(progress=False)
        assert (stats.count, stats.sum, stats.epsilon_left) == (5, sum(table[m] for m in members), 2.0)
        assert od.job(job.id).result().count == 5  # read again by id
    key_file = OpenDataClient.save_key(world.bank.key, tmp_path / "key.json")
    env = {"OPENDATA_PORTAL_URL": portal, "OPENDATA_CLIENT_ID": world.bank.client_id,
           "OPENDATA_CLIENT_SECRET": world.bank.client_secret, "OPENDATA_SCOPE": f"licence:{licence.id}",
           "OPENDATA_COMPUTE_KEY": str(key_file)}
    (tmp_path / "ids.txt").write_text("\n".join(members[:4]) + "\n", encoding="utf-8")
    args = ["compute", "job", "intersection", "--dataset", RATINGS, "--field", "score", "--where", "year=2021",
            "--ids", str(tmp_path / "ids.txt")]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    lines = dict(line.split("\t", 1) for line in result.stdout.splitlines())  # the progress bar is on stderr
    assert lines["count"].startswith("4\t") and Decimal(lines["sum"].split("\t")[0]) == sum(table[m]
                                                                                          for m in members[:4])
    assert lines["epsilon"] == "spent 1, left 1"
    queued = CliRunner().invoke(main, [*args, "--no-wait", "--json"], env=env)
    assert queued.exit_code == 0, queued.output
    job_id = json.loads(queued.stdout)["id"]
    waited = CliRunner().invoke(main, ["compute", "job", "wait", job_id, "--json"], env=env)
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.stdout)["count"] == 4
