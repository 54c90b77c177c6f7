"""Private model scoring (模型服务) over HTTP: register (pending), approve, score; and the
scores equal the same linear model computed in plaintext on the same demo rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from opendata.compute.features import canonical
from opendata.compute.models import ComputeModel
from opendata.compute.paillier import PublicKey
from opendata.compute.model_registry import mode_digest
from opendata.db import Database
from tests.access.helpers import assert_refused_and_audited
from tests.compute.calls import MODELS, approval, audit_records, details, model_body, secret_model_body
from tests.compute.sme_model import BIAS, FEATURES, SCORE_SCALE, WEIGHTS, expected_scores, firms
from tests.compute.world import World

def register(world: World, headers: dict[str, str], features: list[dict[str, Any]] | None = None,
             weights: list[Any] | None = None) -> Any:
    body = model_body(world.bank.key, features or FEATURES, weights or WEIGHTS, BIAS, SCORE_SCALE)
    return world.client.post(MODELS, json=body, headers=headers)


def approved_model(world: World, headers: dict[str, str]) -> int:
    created = register(world, headers)
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    decided = world.client.post(f"{MODELS}/{model_id}/approve", json=approval(),
                                headers=world.admin)
    assert decided.status_code == 200, decided.text
    return model_id


def score(world: World, headers: dict[str, str], model_id: int, subjects: list[str]) -> Any:
    return world.client.post(f"{MODELS}/{model_id}/score", json={"subjects": subjects}, headers=headers)


def decrypt(world: World, answer: dict[str, Any]) -> dict[str, Decimal]:
    return {s: world.bank.key.decrypt(c, answer["score_scale"]) for s, c in answer["scores"].items()}


def test_scores_equal_the_plaintext_model_on_the_demo_rows(world: World) -> None:
    headers = world.main.headers(world.client)
    model_id = approved_model(world, headers)
    subjects = firms(world)
    answer = score(world, headers, model_id, subjects)
    assert answer.status_code == 200, answer.text
    assert answer.json()["not_found"] is None and list(answer.json()["scores"]) == subjects
    assert decrypt(world, answer.json()) == expected_scores(world, subjects)
    record = audit_records(world.database_url, "compute.score", 1)[0]
    assert (record.target, record.id) == (f"model:{model_id}", answer.json()["reference"])
    recorded = details(record)
    assert len(recorded["subjects"]) == len(subjects) and subjects[0] not in record.details
    assert recorded["compute_used_today"] >= len(subjects)


def test_a_registered_model_is_pending_and_pinned_by_its_digest(world: World) -> None:
    headers = world.main.headers(world.client)
    body = secret_model_body(world.bank.key, FEATURES, [1, 2, 3, 4, 5], 7, [100], score_scale=SCORE_SCALE)
    created = world.client.post(MODELS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    model = created.json()
    assert model["state"] == "pending" and "enc_weights" not in model
    assert (model["output_mode"], model["thresholds"], model["weight_bits"]) == ("decision", 1, 64)
    assert [f["resource"] for f in model["features"]] == ["ratings", "ratings", "headcounts", "penalties", "penalties"]
    digest = mode_digest(PublicKey(world.bank.key.public_key.n), [canonical(f) for f in model["features"]],
                         [f["scale"] for f in model["features"]], SCORE_SCALE, body["enc_weights"], body["enc_bias"],
                         "decision", body["enc_thresholds"], 64, 96, None)
    assert model["digest"] == digest  # the key holder can check what the administrator will approve
    unapproved = score(world, headers, model["id"], firms(world)[:2])
    assert_refused_and_audited(unapproved, 409, "model_not_approved", world.database_url, "compute.score")
    pending = world.client.get(MODELS, params={"state": "pending"}, headers=world.admin).json()
    assert model["id"] in [m["id"] for m in pending]
    record = audit_records(world.database_url, "compute.model.register", 1)[0]
    assert details(record)["digest"] == model["digest"]


def test_a_reviewed_model_shows_the_administrator_its_plaintext_weights(world: World) -> None:
    created = register(world, world.main.headers(world.client))
    assert created.status_code == 201, created.text
    seen = world.client.get(f"{MODELS}/{created.json()['id']}", headers=world.admin).json()
    assert seen["output_mode"] == "reviewed" and seen["leakage_bits_per_subject"] is None
    assert seen["reviewed_weights"] == {"weights": [str(w) for w in WEIGHTS], "bias": str(BIAS)}
    record = audit_records(world.database_url, "compute.model.register", 1)[0]
    assert details(record)["weights"] == seen["reviewed_weights"]


def test_only_administrators_decide_and_only_once(world: World) -> None:
    headers = world.main.headers(world.client)
    model_id = register(world, headers).json()["id"]
    by_enterprise = world.client.post(f"{MODELS}/{model_id}/approve", json={"reason": "自己批准"},
                                      headers=world.bank.session)
    assert_refused_and_audited(by_enterprise, 403, "forbidden_role", world.database_url, "compute.model.approve")
    no_reason = world.client.post(f"{MODELS}/{model_id}/reject", json={}, headers=world.admin)
    assert_refused_and_audited(no_reason, 400, "missing_field", world.database_url, "compute.model.reject")
    rejected = world.client.post(f"{MODELS}/{model_id}/reject", json={"reason": "处罚金额特征超出用途"},
                                 headers=world.admin)
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert rejected.json()["decision_reason"] == "处罚金额特征超出用途"
    record = audit_records(world.database_url, "compute.model.reject", 1)[0]
    assert record.actor == "user:admin" and details(record)["reason"] == "处罚金额特征超出用途"
    twice = world.client.post(f"{MODELS}/{model_id}/approve", json=approval(reason="改批"), headers=world.admin)
    assert_refused_and_audited(twice, 409, "invalid_transition", world.database_url, "compute.model.approve")
    refused = score(world, headers, model_id, firms(world)[:1])
    assert_refused_and_audited(refused, 409, "model_not_approved", world.database_url, "compute.score")


def test_the_administrator_grants_exactly_the_output_mode_the_model_was_built_for(world: World) -> None:
    model_id = register(world, world.main.headers(world.client)).json()["id"]
    unnamed = world.client.post(f"{MODELS}/{model_id}/approve", json={"reason": "同意"}, headers=world.admin)
    assert_refused_and_audited(unnamed, 400, "missing_field", world.database_url, "compute.model.approve")
    other = world.client.post(f"{MODELS}/{model_id}/approve", json=approval("decision"), headers=world.admin)
    assert_refused_and_audited(other, 409, "output_mode_mismatch", world.database_url, "compute.model.approve")
    granted = world.client.post(f"{MODELS}/{model_id}/approve", json=approval("reviewed"), headers=world.admin)
    assert granted.status_code == 200 and granted.json()["output_mode"] == "reviewed"
    assert details(audit_records(world.database_url, "compute.model.approve", 1)[0])["output_mode"] == "reviewed"


def test_a_scoring_request_cannot_bring_its_own_weights(world: World) -> None:
    headers = world.main.headers(world.client)
    model_id = approved_model(world, headers)
    body = {"subjects": firms(world)[:1], "enc_weights": ["1"] * len(FEATURES)}
    response = world.client.post(f"{MODELS}/{model_id}/score", json=body, headers=headers)
    assert_refused_and_audited(response, 400, "unexpected_field", world.database_url, "compute.score")


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"field": "tax_authority"}, 400, "field_not_computable"),
    ({"field": "enterprise_name", "map": {"x": 1}}, 403, "field_not_licensed"),
    ({"where": {}}, 400, "ambiguous_subject"),
    ({"aggregate": "median"}, 400, "invalid_feature"),
    ({"scale": 13}, 400, "scale_invalid"),
    ({"default": "abc"}, 400, "invalid_default"),
    ({"dataset": "no-such-dataset"}, 404, "not_found"),
    ({"weights": [1]}, 400, "unexpected_field"),
])
def test_features_are_checked_against_catalogue_and_licence(world: World, change: dict, status: int,
                                                             code: str) -> None:
    body = model_body(world.bank.key, [FEATURES[0]], ["1"], BIAS, SCORE_SCALE)
    body["features"] = [{**FEATURES[0], **change}]
    response = world.client.post(MODELS, json=body, headers=world.main.headers(world.client))
    assert_refused_and_audited(response, status, code, world.database_url, "compute.model.register")


def test_model_bodies_are_checked(world: World) -> None:
    headers = world.main.headers(world.client)
    reviewed = model_body(world.bank.key, FEATURES, WEIGHTS, BIAS, SCORE_SCALE)
    secret = secret_model_body(world.bank.key, FEATURES, [1, 2, 3, 4, 5], 7, [100], score_scale=SCORE_SCALE)
    for body, change, code in [
        (reviewed, {"weights": reviewed["weights"][:-1]}, "feature_count_mismatch"),
        (reviewed, {"weights": ["0.00001"] + reviewed["weights"][1:]}, "invalid_weight"),  # finer than its scale
        (reviewed, {"weights": [str(2**70)] + reviewed["weights"][1:]}, "invalid_weight"),
        (reviewed, {"enc_weights": secret["enc_weights"]}, "unexpected_field"),
        (reviewed, {"output_mode": "exact"}, "invalid_output_mode"),
        (secret, {"enc_weights": secret["enc_weights"][:-1]}, "feature_count_mismatch"),
        (secret, {"enc_bias": "0"}, "ciphertext_out_of_range"),
        (secret, {"enc_thresholds": secret["enc_thresholds"] * 2}, "invalid_thresholds"),
        (secret, {"output_mode": "banded"}, "invalid_thresholds"),
        (secret, {"weight_bits": 65}, "invalid_bound"),
        (secret, {"weights": WEIGHTS}, "unexpected_field"),
        (reviewed, {"score_scale": 0}, "scale_invalid"),
        (reviewed, {"key_id": world.rival.kid}, "key_not_found"),
        (reviewed, {"features": []}, "invalid_features"),
    ]:
        response = world.client.post(MODELS, json={**body, **change}, headers=headers)
        status = 404 if code == "key_not_found" else 400
        assert_refused_and_audited(response, status, code, world.database_url, "compute.model.register")


@pytest.mark.parametrize(("subjects", "code"), [
    ([], "invalid_subjects"),
    (["91440101MA5CAAAA4Q", "91440101MA5CAAAA4Q"], "duplicate_subject"),
    (["not a code"], "invalid_subject"),
    ([f"9144010100000{i:05d}" for i in range(201)], "batch_too_large"),
])
def test_scoring_requests_are_checked(world: World, subjects: list[str], code: str) -> None:
    headers = world.main.headers(world.client)
    model_id = approved_model(world, headers)
    assert_refused_and_audited(score(world, headers, model_id, subjects), 400, code, world.database_url,
                               "compute.score")


def test_models_are_private_to_their_licence_and_organisation(world: World) -> None:
    headers = world.main.headers(world.client)
    model_id = approved_model(world, headers)
    rival = world.licence(world.rival)
    other_org = score(world, rival.headers(world.client), model_id, firms(world)[:1])
    assert_refused_and_audited(other_org, 404, "not_found", world.database_url, "compute.score")
    hidden = world.client.get(f"{MODELS}/{model_id}", headers=world.rival.session)
    assert_refused_and_audited(hidden, 404, "not_found", world.database_url, "compute.model.read")
    other_licence = score(world, world.licence().headers(world.client), model_id, firms(world)[:1])
    assert_refused_and_audited(other_licence, 403, "model_other_licence", world.database_url, "compute.score")
    assert world.client.get(f"{MODELS}/{model_id}", headers=world.bank.session).json()["state"] == "approved"


def test_a_model_changed_after_approval_is_refused(world: World) -> None:
    headers = world.main.headers(world.client)
    model_id = approved_model(world, headers)
    database = Database(world.database_url)
    with database.transaction() as session:  # someone with database access swaps the weights
        stored = session.get(ComputeModel, model_id).enc_weights
        session.execute(update(ComputeModel).where(ComputeModel.id == model_id)
                        .values(enc_weights=list(reversed(stored))))
    database.dispose()
    response = score(world, headers, model_id, firms(world)[:1])
    assert_refused_and_audited(response, 409, "model_integrity", world.database_url, "compute.score")


def test_not_found_subjects_are_listed_only_when_the_policy_reveals_it(world: World) -> None:
    licence = world.licence()
    headers = licence.headers(world.client)
    model_id = approved_model(world, headers)
    unknown = "91440101MA5CZZZZ0X"
    subjects = [firms(world)[0], unknown]
    hidden = score(world, headers, model_id, subjects).json()
    assert hidden["not_found"] is None and set(hidden["scores"]) == set(subjects)
    # Scored with every feature at its default: a plausible score, not an error.
    assert decrypt(world, hidden)[unknown] == Decimal("0.5") * 60 + Decimal(BIAS)
    world.set_policy(licence.id, reveal_not_found=True, all_subjects=True)
    revealed = score(world, headers, model_id, subjects).json()
    assert revealed["not_found"] == [unknown] and list(revealed["scores"]) == [firms(world)[0]]
