"""Hidden queries (匿踪查询) as a job: several proven selections on one layout, one chunk
each; the grant's day is charged per query and refunded for what was not answered; a
selection that is not one-hot fails the job at its chunk; the audit names no subject."""

from __future__ import annotations

from typing import Any

from opendata.client import OpenDataClient
from opendata.compute.hidden_client import build_selection
from opendata.compute.hidden_query import COLS_PURPOSE, Layout
from tests.compute.calls import audit_records, details
from tests.compute.test_hidden_query import (
    RATING_FIELDS, RATINGS, cheating_vector, contexts, decrypt, expected_rating, grant, read_layout,
)
from tests.compute.world import World
from tests.portal.helpers import sign_in

JOBS = "/api/v1/compute/jobs"


def job_body(world: World, layout: dict[str, Any], selections: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "hidden_query", "dataset": layout["dataset"], "fields": layout["fields"], "key_id": world.bank.kid,
            "layout": layout["digest"], "where": layout["where"], "selections": selections}


def run(world: World, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    created = world.client.post(JOBS, json=body, headers=headers)
    assert created.status_code == 202, created.text
    world.client.app.state["opendata"].compute.jobs.join(created.json()["id"], timeout=120)
    return world.client.get(f"{JOBS}/{created.json()['id']}", headers=headers).json()


def test_hidden_queries_as_a_job(world: World) -> None:
    licence = world.licence()
    grant(world, licence.id, [{"dataset": RATINGS, "fields": RATING_FIELDS, "per_day": 10}])
    headers = licence.headers(world.client)
    layout = read_layout(world, headers)
    grid = Layout(**layout["layout"])
    wanted = [layout["subjects"][0], layout["subjects"][-1]]
    selections = [build_selection(world.bank.key, grid, layout["subjects"].index(s), contexts(world)) for s in wanted]
    job = run(world, headers, job_body(world, layout, selections))
    assert (job["state"], job["progress"]["done"], job["summary"]["queries"]) == ("succeeded", 2, 2), job
    assert "subjects" not in job["summary"]
    result = world.client.get(f"{JOBS}/{job['id']}/result", headers=headers).json()
    for subject, answer in zip(wanted, result["answers"]):
        assert decrypt(world, layout, {"answer": answer}) == expected_rating(world, subject)
    assert read_layout(world, headers)["used_today"] == 2  # the grant's day, one per query
    chunks = [r for r in audit_records(world.database_url, "compute.hidden_query", 10) if details(r).get("job") == job["id"]]
    assert len(chunks) == 2 and all(details(r)["queries"] == 1 and "subjects" not in details(r) for r in chunks)
    assert not any(s in r.details for r in chunks for s in wanted)

    cols, proof = cheating_vector(world, grid.cols, [0, 1, 1] + [0] * (grid.cols - 3), 1, COLS_PURPOSE)
    cheat = {**selections[0], "cols": cols, "proofs": {**selections[0]["proofs"], "cols": proof}}
    failed = run(world, headers, job_body(world, layout, [selections[0], cheat]))
    assert (failed["state"], failed["error"]["code"]) == ("failed", "selection_proof_invalid"), failed
    assert read_layout(world, headers)["used_today"] == 2 + failed["progress"]["done"]  # the rest refunded
    over = world.client.post(JOBS, json=job_body(world, layout, selections * 5), headers=headers)
    assert over.status_code == 429 and over.json()["error"]["code"] == "quota_exceeded"

    world.client.cookies.clear()
    sign_in(world.client, "bank")
    page = world.client.get("/workspace/compute/jobs")
    world.client.cookies.clear()
    assert page.status_code == 200 and job["id"] in page.text and "2 次查询" in page.text
    assert not any(s in page.text for s in wanted)  # the workspace shows how many queries, never whose


def test_the_sdk_reads_hidden_query_jobs(world: World, portal: str) -> None:
    licence = world.licence()
    grant(world, licence.id, [{"dataset": RATINGS, "fields": RATING_FIELDS, "per_day": 10}])
    layout = read_layout(world, licence.headers(world.client))
    wanted = layout["subjects"][1:3]
    with OpenDataClient(portal, client_id=world.bank.client_id, client_secret=world.bank.client_secret,
                        scope=f"licence:{licence.id}", key=world.bank.key) as od:
        job = od.hidden_query_job(RATINGS, wanted, RATING_FIELDS, where={"year": "2021"})
        assert job.wait(progress=False) == {s: expected_rating(world, s) for s in wanted}
