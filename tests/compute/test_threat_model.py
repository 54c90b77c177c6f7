"""What a malicious licensee could try, and what stops it (docs/security/compute-threat-model.md).

Some tests show an attack *succeeding* within its documented bounds: a registered model
can single out licensed features of authorised subjects. What must hold is the bound --
only approved models, only licensed fields, only authorised subjects, charged per subject,
every use in the audit trail.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from opendata.audit.chain import verify_chain
from opendata.db import Database
from tests.access.helpers import assert_refused_and_audited
from tests.compute.calls import MODELS, approval, audit_records, claim, details, model_body, verify, verify_body
from tests.compute.world import World

PACKED = [
    {"dataset": "tax-credit-ratings", "field": "score", "where": {"year": 2023}},
    {"dataset": "social-insurance-headcounts", "field": "headcount", "where": {"month": "2024-10-01"}},
    {"dataset": "administrative-penalties", "aggregate": "count"},
]
SLOT = 40  # bits per packed feature


def approve(world: World, headers: dict[str, str], features: list[dict[str, Any]], weights: list[Any],
            score_scale: int = 0) -> int:
    created = world.client.post(MODELS, json=model_body(world.bank.key, features, weights, 0, score_scale),
                                headers=headers)
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    assert world.client.post(f"{MODELS}/{model_id}/approve", json=approval(),
                             headers=world.admin).status_code == 200
    return model_id


def score(world: World, headers: dict[str, str], model_id: int, subjects: list[str]) -> Any:
    return world.client.post(f"{MODELS}/{model_id}/score", json={"subjects": subjects}, headers=headers)


def fined_firms(world: World) -> list[str]:
    return sorted({r["credit_code"] for r in world.rows("administrative-penalties")})


def test_a_packed_weight_model_is_refused_or_shown_to_the_administrator(world: World) -> None:
    """v1 returned every packed feature exactly. Exact scores now come only from reviewed
    weights: beyond 2^64 they are refused, below they are what the administrator reads."""
    headers = world.licence().headers(world.client)
    wide = world.client.post(MODELS, json=model_body(world.bank.key, PACKED, [2 ** (SLOT * i) for i in range(3)],
                                                     0, 0), headers=headers)
    assert_refused_and_audited(wide, 400, "invalid_weight", world.database_url, "compute.model.register")
    narrow = world.client.post(MODELS, json=model_body(world.bank.key, PACKED, [1, 2**20, 2**40], 0, 0),
                               headers=headers)
    assert narrow.status_code == 201, narrow.text
    seen = world.client.get(f"{MODELS}/{narrow.json()['id']}", headers=world.admin).json()
    assert seen["reviewed_weights"]["weights"] == ["1", "1048576", "1099511627776"]  # plain to see, and reject
    rejected = world.client.post(f"{MODELS}/{seen['id']}/reject", json={"reason": "权重为打包读取，拒绝"},
                                 headers=world.admin)
    assert rejected.status_code == 200


def test_a_model_reads_only_authorised_subjects_and_every_use_is_audited(world: World) -> None:
    licence = world.licence()
    headers = licence.headers(world.client)
    model_id = approve(world, headers, PACKED, [1, 1, 1])
    authorised = fined_firms(world)[:3]
    outsider = fined_firms(world)[3]
    world.client.put(f"/api/v1/compute/policies/{licence.id}",
                     json={"reveal_not_found": False, "authorised_subjects": authorised}, headers=world.admin)

    refused = score(world, headers, model_id, [*authorised, outsider])
    record = assert_refused_and_audited(refused, 403, "subject_not_authorised", world.database_url, "compute.score")
    assert "scores" not in refused.text and details(record)["outside"] == 1
    assert outsider not in record.details  # named by its digest only

    answer = score(world, headers, model_id, authorised)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["scores"]) == set(authorised)
    used = audit_records(world.database_url, "compute.score", 1)[0]
    assert details(used)["model"] == model_id and len(details(used)["subjects"]) == 3
    assert details(used)["output_mode"] == "reviewed"
    assert details(used)["digest"] == world.client.get(f"{MODELS}/{model_id}", headers=headers).json()["digest"]


def test_probing_many_subjects_is_charged_per_subject(world: World) -> None:
    licence = world.licence(quotas={"compute_calls_per_day": 5})
    headers = licence.headers(world.client)
    model_id = approve(world, headers, PACKED[:1], [1])
    firms = sorted({r["credit_code"] for r in world.rows("tax-credit-ratings")})
    too_many = score(world, headers, model_id, firms[:6])
    record = assert_refused_and_audited(too_many, 429, "quota_exceeded", world.database_url, "compute.score")
    assert int(too_many.headers["retry-after"]) > 0 and details(record)["units"] == 6
    assert score(world, headers, model_id, firms[:5]).status_code == 200
    person = world.rows("personal-social-insurance")[0]
    one_more = verify(world.client, headers, verify_body(
        world.bank.key, person["id_number"], {"contribution_base": claim(world.bank.key, "1.00", "decimal", 2)},
        where={"month": person["month"]}))
    assert_refused_and_audited(one_more, 429, "quota_exceeded", world.database_url, "compute.verify")
    usage = world.client.get(f"/api/v1/licences/{licence.id}", headers=world.bank.session).json()["usage_today"]
    assert usage["compute"] == 5


def test_a_unit_vector_model_reveals_a_feature_only_if_it_is_licensed(world: World) -> None:
    narrow = world.licence(items=[{"dataset": "social-insurance-headcounts", "operations": ["compute"],
                                   "fields": ["headcount", "month"]}])
    headers = narrow.headers(world.client)
    unlicensed = {"dataset": "social-insurance-headcounts", "field": "contribution_total",
                  "where": {"month": "2024-10-01"}, "scale": 2}
    body = model_body(world.bank.key, [unlicensed], [1], 0, 2)
    refused = world.client.post(MODELS, json=body, headers=headers)
    assert_refused_and_audited(refused, 403, "field_not_licensed", world.database_url, "compute.model.register")
    # Reviewed weights: a licensed feature with weight 1 comes back in the clear -- which the
    # administrator saw (weights [1]) and approved; decision mode would give one bit.
    model_id = approve(world, headers, [PACKED[1]], [1])
    firm = next(r for r in world.rows("social-insurance-headcounts") if r["month"] == "2024-10-01")
    answer = score(world, headers, model_id, [firm["credit_code"]]).json()
    assert world.bank.key.decrypt_int(answer["scores"][firm["credit_code"]]) == int(firm["headcount"])


def test_a_verification_cannot_be_turned_into_a_range_query(world: World) -> None:
    """Claims are compared exactly: a coarse scale does not round the stored value."""
    firm = next(r for r in world.rows("tax-credit-ratings") if not r["score"].endswith(".0"))
    stored = Decimal(firm["score"])
    key = world.bank.key
    headers = world.main.headers(world.client)

    def matches(value: Decimal, scale: int) -> bool:
        body = verify_body(key, firm["credit_code"], {"score": claim(key, str(value), "decimal", scale)},
                           dataset="tax-credit-ratings", where={"year": int(firm["year"])})
        return key.verification_results(verify(world.client, headers, body).json()["results"])["score"]

    assert matches(stored, 1) and matches(stored, 3)  # any scale that holds the value exactly
    assert not matches(stored.quantize(Decimal(1), ROUND_HALF_EVEN), 0)  # "about 86" says nothing


def test_the_audit_chain_is_intact_after_all_of_it(world: World) -> None:
    database = Database(world.database_url)
    with database.session() as session:
        report = verify_chain(session)
    database.dispose()
    assert report.intact and report.records > 0
