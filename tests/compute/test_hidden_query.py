"""Hidden query (匿踪查询) through the HTTP API, the key holder's side spelled out as the SDK
does it: right values, refused non-one-hot selections and forged proofs, the daily count
(429, not charged on refusal), no grant (403), an audit trail without the subject, and a
server's view whose shape does not depend on the subject."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from gmpy2 import mpz

from opendata.compute.hidden_client import build_selection, randomizer_for, read_record
from opendata.compute.hidden_query import COLS_PURPOSE, ROWS_PURPOSE, Layout
from opendata.compute.hidden_records import RecordFormat
from opendata.compute.policy import subject_digest
from opendata.compute.proofs.arith import embed
from opendata.compute.proofs.onehot import encrypt_bits, prove_one_hot
from tests.compute.calls import audit_records, details
from tests.compute.proving import context
from tests.compute.world import World

LAYOUT = "/api/v1/compute/hidden-query/layout"
QUERY = "/api/v1/compute/hidden-query"
RATINGS = "tax-credit-ratings"
PENALTIES = "administrative-penalties"
RATING_FIELDS = ["score", "rating"]


def grant(world: World, licence_id: int, grants: list[dict[str, Any]]) -> Any:
    response = world.client.put(f"/api/v1/compute/policies/{licence_id}/hidden-query", json={"grants": grants},
                                headers=world.admin)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def licensed(world: World):
    """A fresh licence of the bank with 3 hidden queries a day on the 2021 ratings and penalties."""
    licence = world.licence()
    grant(world, licence.id, [{"dataset": RATINGS, "fields": RATING_FIELDS, "per_day": 3},
                              {"dataset": PENALTIES, "fields": ["amount", "decision_date"], "per_day": 3}])
    return licence, licence.headers(world.client)


def read_layout(world: World, headers, dataset=RATINGS, fields=RATING_FIELDS, where=None) -> dict[str, Any]:
    params = {"dataset": dataset, "fields": ",".join(fields), "key_id": world.bank.kid}
    params.update({f"where.{k}": v for k, v in (where or {"year": "2021"} if dataset == RATINGS else {}).items()})
    response = world.client.get(LAYOUT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def contexts(world: World) -> tuple[bytes, bytes]:
    return context(world.bank.key, ROWS_PURPOSE), context(world.bank.key, COLS_PURPOSE)


def body(world: World, layout: dict[str, Any], selection: dict[str, Any]) -> dict[str, Any]:
    out = {"dataset": layout["dataset"], "resource": layout["resource"], "fields": layout["fields"],
           "key_id": world.bank.kid, "layout": layout["digest"], "selection": selection}
    if layout["where"]:
        out["where"] = layout["where"]
    return out


def query(world: World, headers, layout, subject: str):
    grid = Layout(**layout["layout"])
    selection = build_selection(world.bank.key, grid, layout["subjects"].index(subject), contexts(world))
    return world.client.post(QUERY, json=body(world, layout, selection), headers=headers)


def decrypt(world: World, layout, answer) -> dict[str, Any]:
    return read_record(world.bank.key, Layout(**layout["layout"]), RecordFormat.from_json(layout["format"]),
                       answer["answer"], layout["fields"], layout["types"])


def expected_rating(world: World, subject: str) -> dict[str, Any]:
    row = next(r for r in world.rows(RATINGS) if r["credit_code"] == subject and r["year"] == "2021")
    return {"score": Decimal(row["score"]), "rating": row["rating"]}


def test_a_hidden_query_returns_the_selected_subjects_fields(world: World, licensed):
    _, headers = licensed
    layout = read_layout(world, headers)
    grid = layout["layout"]
    assert grid["rows"] > 1 and grid["rows"] * grid["cols"] >= grid["subjects"] == len(layout["subjects"])
    for subject in (layout["subjects"][0], layout["subjects"][-1], layout["subjects"][grid["cols"] + 1]):
        response = query(world, headers, layout, subject)
        assert response.status_code == 200, response.text
        assert decrypt(world, layout, response.json()) == expected_rating(world, subject)


def test_a_small_resource_uses_one_vector(world: World, licensed):
    _, headers = licensed
    layout = read_layout(world, headers, PENALTIES, ["amount", "decision_date"])
    assert layout["layout"]["rows"] == 1
    subject = layout["subjects"][3]
    response = query(world, headers, layout, subject)
    assert response.status_code == 200, response.text
    row = next(r for r in world.rows(PENALTIES) if r["credit_code"] == subject)
    assert decrypt(world, layout, response.json()) == {"amount": Decimal(row["amount"]),
                                                         "decision_date": row["decision_date"]}


def cheating_vector(world: World, size: int, bits: list[int], claimed: int, purpose: str) -> tuple[list[str], dict]:
    """Ciphertexts of ``bits`` with the honest prover run as if they were one-hot at ``claimed``."""
    randomizer = randomizer_for(world.bank.key)
    n, n2 = randomizer.n, randomizer.n_squared
    cts, rhos = encrypt_bits(randomizer, [0] * size)
    cts = [int(embed(b, n, n2) * c % n2) for b, c in zip(bits, cts)]
    return [str(c) for c in cts], prove_one_hot(randomizer, cts, claimed, rhos, context(world.bank.key, purpose))


def used_today(world: World, headers) -> int:
    return read_layout(world, headers)["used_today"]


@pytest.mark.parametrize("shape", ["two ones", "a two", "zero vector", "two balanced by minus one"])
def test_a_selection_that_is_not_one_hot_is_refused_and_not_charged(world: World, licensed, shape):
    _, headers = licensed
    layout = read_layout(world, headers)
    grid = Layout(**layout["layout"])
    honest = build_selection(world.bank.key, grid, 0, contexts(world))
    n = int(world.bank.key.public_key.n)
    bits = [0] * grid.cols
    if shape == "two ones":
        bits[1] = bits[2] = 1
    elif shape == "a two":
        bits[1] = 2
    elif shape == "two balanced by minus one":
        bits[1], bits[2] = 2, n - 1
    cols, proof = cheating_vector(world, grid.cols, bits, 1, COLS_PURPOSE)
    selection = {**honest, "cols": cols, "proofs": {**honest["proofs"], "cols": proof}}
    response = world.client.post(QUERY, json=body(world, layout, selection), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "selection_proof_invalid"
    assert "cols" in response.json()["error"]["message"]
    assert used_today(world, headers) == 0
    record = audit_records(world.database_url, "compute.hidden_query", 1)[0]
    assert record.outcome == "refused" and record.code == "selection_proof_invalid"


def test_a_forged_or_moved_proof_is_refused(world: World, licensed):
    _, headers = licensed
    layout = read_layout(world, headers)
    grid = Layout(**layout["layout"])
    honest = build_selection(world.bank.key, grid, 5, contexts(world))
    forged = copy.deepcopy(honest)
    forged["proofs"]["rows"]["z0"][1] = str(mpz(forged["proofs"]["rows"]["z0"][1]) * 3
                                            % world.bank.key.public_key.n)
    swapped = copy.deepcopy(honest)  # the column proof made for another purpose
    other = build_selection(world.bank.key, grid, 5, (contexts(world)[1], contexts(world)[0]))
    swapped["proofs"]["rows"] = other["proofs"]["rows"]
    swapped["rows"] = other["rows"]
    for selection in (forged, swapped):
        response = world.client.post(QUERY, json=body(world, layout, selection), headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "selection_proof_invalid"
    assert used_today(world, headers) == 0


def test_wrong_shapes_are_refused_before_any_work(world: World, licensed):
    _, headers = licensed
    layout = read_layout(world, headers)
    grid = Layout(**layout["layout"])
    honest = build_selection(world.bank.key, grid, 0, contexts(world))
    short = {**honest, "cols": honest["cols"][:-1]}
    response = world.client.post(QUERY, json=body(world, layout, short), headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "selection_invalid"
    stale = {**body(world, layout, honest), "layout": "0" * 64}
    response = world.client.post(QUERY, json=stale, headers=headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "layout_changed"


def test_the_daily_number_of_hidden_queries_is_enforced(world: World, licensed):
    _, headers = licensed
    layout = read_layout(world, headers)
    subject = layout["subjects"][2]
    for _ in range(3):
        assert query(world, headers, layout, subject).status_code == 200
    response = query(world, headers, layout, subject)
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "quota_exceeded" and "Retry-After" in response.headers
    assert used_today(world, headers) == 3


def test_without_a_grant_or_a_licensed_field_a_hidden_query_is_forbidden(world: World):
    licence = world.licence()
    headers = licence.headers(world.client)
    params = {"dataset": RATINGS, "fields": "score", "key_id": world.bank.kid, "where.year": "2021"}
    response = world.client.get(LAYOUT, params=params, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "hidden_query_not_licensed"
    grant(world, licence.id, [{"dataset": RATINGS, "fields": ["score"], "per_day": 5}])
    assert world.client.get(LAYOUT, params=params, headers=headers).status_code == 200
    response = world.client.get(LAYOUT, params={**params, "fields": "score,rating"}, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "field_not_licensed"
    response = world.client.get(LAYOUT, params={**params, "fields": "tax_authority"}, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "field_not_licensed"
    response = world.client.post(QUERY, json={"dataset": RATINGS, "fields": ["score"], "key_id": world.bank.kid,
                                              "layout": "x", "selection": {"cols": [], "proofs": {"cols": {}}}})
    assert response.status_code == 401


def test_the_audit_record_never_names_the_subject(world: World, licensed):
    _, headers = licensed
    layout = read_layout(world, headers)
    index = 7
    subject = layout["subjects"][index]
    assert query(world, headers, layout, subject).status_code == 200
    record = audit_records(world.database_url, "compute.hidden_query", 1)[0]
    assert record.outcome == "success"
    data = details(record)
    assert data["fields"] == RATING_FIELDS and data["queries"] == 1 and data["layout"] == layout["digest"]
    text = json.dumps(data) + (record.target or "")
    assert subject not in text and not any(key in data for key in ("subject", "subjects", "index", "position"))
    assert subject_digest(subject_secret(world), subject) not in text  # nor the keyed digest other records use
    usage = world.client.get("/api/v1/compute/usage", headers=headers).json()
    mine = next(r for r in usage if r["action"] == "compute.hidden_query" and r["outcome"] == "success")
    assert subject not in json.dumps(mine) and "duration_ms" not in mine["details"]


def subject_secret(world: World) -> bytes:
    from opendata.compute.runtime import SUBJECT_SECRET_NAME
    from opendata.db import Database
    from opendata.secrets import instance_secret

    database = Database(world.database_url)
    with database.session() as session:
        secret = instance_secret(session, SUBJECT_SECRET_NAME)
        session.commit()
    database.dispose()
    return secret


def test_the_servers_view_has_the_same_shape_for_any_subject(world: World, licensed):
    """Two selections for different subjects (different rows and columns): same members, same
    lengths, same number sizes bounded by the key; both proofs verify; same answer shape."""
    from opendata.compute.proofs.onehot import verify_one_hot

    _, headers = licensed
    layout = read_layout(world, headers)
    grid = Layout(**layout["layout"])
    first = 0  # and the last subject of the last row that is not in the first column
    last = next(i for i in range(grid.subjects - 1, 0, -1) if grid.position(i)[1] != 0)
    assert grid.position(first)[0] != grid.position(last)[0] and grid.position(first)[1] != grid.position(last)[1]
    views = [build_selection(world.bank.key, grid, i, contexts(world)) for i in (first, last)]
    n = int(world.bank.key.public_key.n)

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [len(value)] + sorted({shape(v) for v in value}) if value and not isinstance(value[0], dict) \
                else [shape(v) for v in value]
        return "number" if isinstance(value, str) and value.isdigit() else type(value).__name__

    assert shape(views[0]) == shape(views[1])
    for view in views:
        for name, purpose in (("rows", ROWS_PURPOSE), ("cols", COLS_PURPOSE)):
            assert all(0 < int(c) < n * n for c in view[name])
            verify_one_hot(n, [int(c) for c in view[name]], view["proofs"][name], context(world.bank.key, purpose))
    answers = [world.client.post(QUERY, json=body(world, layout, v), headers=headers).json() for v in views]
    assert [len(a["answer"]) for a in answers] == [len(answers[0]["answer"])] * 2
    assert all(len(chunk) == 2 for a in answers for chunk in a["answer"])
