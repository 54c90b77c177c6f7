"""计算作业 pages: the enterprise workspace lists its jobs with progress, cancels and
downloads the encrypted result; the administrator sees every job and no result; another
organisation sees none of them."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from opendata.compute.jobs.models import ComputeJob, ComputeJobChunk
from opendata.compute.jobs.state import runner_name
from opendata.db import Database
from tests.compute.sme_model import expected_scores, firms
from tests.compute.test_api_models import approved_model, decrypt
from tests.compute.world import World
from tests.portal.helpers import post_form, sign_in

JOBS = "/workspace/compute/jobs"


@pytest.fixture(scope="module")
def finished(world: World) -> dict:
    headers = world.main.headers(world.client)
    created = world.client.post("/api/v1/compute/jobs", headers=headers, json={
        "kind": "score", "model_id": approved_model(world, headers), "subjects": firms(world)[:5]})
    assert created.status_code == 202, created.text
    world.client.app.state["opendata"].compute.jobs.join(created.json()["id"], timeout=120)
    return created.json()


@pytest.fixture
def browser(world: World) -> Iterator[World]:
    world.client.cookies.clear()
    yield world
    world.client.cookies.clear()


def running_job(world: World, like: dict) -> str:
    """A job in flight (its chunk not done), as the process running it would have it."""
    database = Database(world.database_url)
    with database.session() as session:
        base = session.get(ComputeJob, like["id"])
        job = ComputeJob(id="job_run" + like["id"][-10:], kind="score", licence_id=base.licence_id,
                         organisation_id=base.organisation_id, created_by=base.created_by, state="running",
                         summary=base.summary, total_chunks=1, done_chunks=0, units=5, refunded=0,
                         charged_on=base.charged_on, engine="local", runner=runner_name())
        session.add(job)
        session.flush()
        session.add(ComputeJobChunk(job_id=job.id, index=0, units=5, input=firms(world)[:5]))
        session.commit()
        job_id = job.id
    database.dispose()
    return job_id


def test_the_workspace_lists_jobs_with_progress_and_downloads_the_result(browser: World, finished: dict) -> None:
    world = browser
    assert world.client.get(JOBS, follow_redirects=False).status_code in (302, 303)  # signed out: to the login
    sign_in(world.client, "bank")
    page = world.client.get(JOBS)
    assert page.status_code == 200 and finished["id"] in page.text and "已完成" in page.text
    assert f'<progress max="1" value="1">' in page.text and "密文" in page.text
    assert 'http-equiv="refresh"' not in page.text  # nothing runs: no reload
    result = world.client.get(f"{JOBS}/{finished['id']}/result")
    assert result.status_code == 200 and "attachment" in result.headers["content-disposition"]
    assert decrypt(world, json.loads(result.content)) == expected_scores(world, firms(world)[:5])

    job_id = running_job(world, finished)
    assert 'http-equiv="refresh"' in world.client.get(JOBS).text  # progress reloads while a job runs
    cancelled = post_form(world.client, f"{JOBS}/{job_id}/cancel")
    assert cancelled.status_code == 303 and "notice=job_cancelled" in cancelled.headers["location"]
    after = world.client.get(JOBS).text
    assert "已取消" in after and "已退还 5 个计算额度" in after
    assert post_form(world.client, f"{JOBS}/{finished['id']}/cancel").status_code == 409  # nothing to cancel
    english = world.client.get(f"{JOBS}?lang=en").text
    assert "Compute jobs" in english and "unit(s) refunded" in english


def test_another_organisation_sees_none_of_it(browser: World, finished: dict) -> None:
    sign_in(browser.client, "rival")
    assert finished["id"] not in browser.client.get(JOBS).text
    assert browser.client.get(f"{JOBS}/{finished['id']}/result").status_code == 404
    assert post_form(browser.client, f"{JOBS}/{finished['id']}/cancel").status_code == 404


def test_the_administrator_sees_every_job_but_no_result(browser: World, finished: dict) -> None:
    sign_in(browser.client, "admin")
    page = browser.client.get("/admin/compute/jobs")
    assert page.status_code == 200 and finished["id"] in page.text and 'href="/admin/compute/jobs"' in page.text
    assert "job-result" not in page.text
    assert browser.client.get(f"{JOBS}/{finished['id']}/result").status_code == 403  # the workspace is not theirs


def test_the_job_lists_page(browser: World, finished: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """One job a page (made small): the newest first, the next on page 2, for the
    administrator and for the organisation alike."""
    import re

    from opendata.portal import paging

    database = Database(browser.database_url)
    with database.session() as session:  # a later job of the same organisation, already ended
        base = session.get(ComputeJob, finished["id"])
        session.add(ComputeJob(id="job_paged" + finished["id"][-10:], kind="score", licence_id=base.licence_id,
                               organisation_id=base.organisation_id, created_by=base.created_by, state="cancelled",
                               summary=base.summary, total_chunks=1, done_chunks=0, units=5, refunded=5,
                               charged_on=base.charged_on, engine="local", runner=base.runner))
        session.commit()
    database.dispose()
    monkeypatch.setattr(paging, "ADMIN_PAGE_SIZE", 1)
    rows = re.compile(r'<tr data-job="([\w-]+)">')
    for who, path in (("admin", "/admin/compute/jobs"), ("bank", JOBS)):
        sign_in(browser.client, who)
        first = browser.client.get(path).text
        assert rows.findall(first) == ["job_paged" + finished["id"][-10:]] and 'data-testid="jobs-pager"' in first
        second = browser.client.get(f"{path}?page=2").text
        assert len(rows.findall(second)) == 1 and rows.findall(second) != rows.findall(first)
        browser.client.cookies.clear()
