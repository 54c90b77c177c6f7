"""Attacks on the hidden query (匿踪查询) by a malicious enterprise choosing its key and
ciphertexts, as raw HTTP: ciphertexts outside Z*_{N^2} (0, N, a multiple of p, N^2), another
organisation's key, a selection made under another key or for another organisation. Each is
refused with a 4xx, not charged, and audited as refused."""

from __future__ import annotations

import pytest

from opendata.compute.hidden_client import build_selection
from opendata.compute.hidden_query import COLS_PURPOSE, ROWS_PURPOSE, Layout
from tests.compute.calls import audit_records
from tests.compute.proving import context
from tests.compute.test_hidden_query import RATINGS, RATING_FIELDS, QUERY, body, contexts, grant, read_layout, used_today
from tests.compute.world import World


@pytest.fixture
def licensed(world: World):
    licence = world.licence()
    grant(world, licence.id, [{"dataset": RATINGS, "fields": RATING_FIELDS, "per_day": 3}])
    return licence, licence.headers(world.client)


def refused(world: World, headers, payload, status: int, code: str) -> None:
    response = world.client.post(QUERY, json=payload, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    record = audit_records(world.database_url, "compute.hidden_query", 1)[0]
    assert record.outcome == "refused" and record.code == code
    assert used_today(world, headers) == 0


@pytest.mark.parametrize("bad", ["zero", "n", "multiple of p", "n squared"])
def test_a_ciphertext_outside_the_units_mod_n_squared_is_refused(world: World, licensed, bad) -> None:
    _, headers = licensed
    layout = read_layout(world, headers)
    honest = build_selection(world.bank.key, Layout(**layout["layout"]), 0, contexts(world))
    private = world.bank.key.private_key
    n = int(private.public_key.n)
    value = {"zero": 0, "n": n, "multiple of p": int(private.p) * 7, "n squared": n * n}[bad]
    for vector in ("rows", "cols"):
        selection = {**honest, vector: [str(value), *honest[vector][1:]]}
        response = world.client.post(QUERY, json=body(world, layout, selection), headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"].startswith("ciphertext_"), response.text
        record = audit_records(world.database_url, "compute.hidden_query", 1)[0]
        assert record.outcome == "refused"
    assert used_today(world, headers) == 0


def test_another_organisations_key_is_not_the_callers(world: World, licensed) -> None:
    _, headers = licensed
    layout = read_layout(world, headers)
    grid = Layout(**layout["layout"])
    rival = world.rival.key
    own_contexts = (context(rival, ROWS_PURPOSE), context(rival, COLS_PURPOSE))
    selection = build_selection(rival, grid, 0, own_contexts)
    refused(world, headers, {**body(world, layout, selection), "key_id": world.rival.kid}, 404, "key_not_found")


def test_a_selection_under_another_key_or_for_another_organisation_is_refused(world: World, licensed) -> None:
    _, headers = licensed
    layout = read_layout(world, headers)
    grid = Layout(**layout["layout"])
    # Proved under the rival's key, sent as the bank's: the proofs are for another N.
    rival = world.rival.key
    foreign = build_selection(rival, grid, 0, (context(rival, ROWS_PURPOSE), context(rival, COLS_PURPOSE)))
    response = world.client.post(QUERY, json=body(world, layout, foreign), headers=headers)
    assert response.status_code == 400, response.text
    assert used_today(world, headers) == 0
    # The bank's key, but the proof bound to another organisation's context (a replay from
    # another portal or organisation that holds the same key).
    other = b"another-portal|another-organisation"
    replayed = build_selection(world.bank.key, grid, 0, (other + b"|rows", other + b"|cols"))
    refused(world, headers, body(world, layout, replayed), 400, "selection_proof_invalid")


def test_the_free_directory_does_not_reveal_a_value_column_through_where(world: World, licensed) -> None:
    """The layout is free (no quota): filtered by a value column (rating) it would list every
    subject with that rating, i.e. read the column for the whole table without a query."""
    _, headers = licensed
    by_year = read_layout(world, headers, where={"year": "2021"})
    ratings = {r["rating"] for r in world.rows(RATINGS) if r["year"] == "2021"}
    for rating in ratings:
        narrowed = read_layout(world, headers, where={"year": "2021", "rating": rating})
        assert narrowed["subjects"] == by_year["subjects"], f"the directory of rating {rating} names its subjects"
