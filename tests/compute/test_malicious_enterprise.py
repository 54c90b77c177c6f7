"""Issue 9's attacks, as a malicious licensed enterprise would run them: its own keys,
ciphertexts, proofs and weights, sent with raw HTTP (no SDK). Each attack read rows on v1;
each must now be refused (audited, nothing computed, nothing charged) or yield only what
the licence states (docs/security/compute-threat-model.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import gmpy2
from gmpy2 import mpz
from sqlalchemy import update

from opendata.compute.models import ComputeKey
from opendata.compute.proofs.arith import crt
from opendata.compute.proofs.ranges import range_attempt
from opendata.compute.proofs import randomness_of
from opendata.compute.values import claim_integer
from opendata.db import Database
from tests.access.helpers import assert_refused_and_audited
from tests.compute.attacks import credit_code, malicious_model
from tests.compute.calls import KEYS, MODELS, VERIFY, approval, audit_records, claim, details, verify_body
from tests.compute.proofs.malicious import cheating_mod_proof, issue_key, many_prime_key
from tests.compute.proving import context, key_registration, learn_context, published_params
from tests.compute.world import World, make_organisation
from opendata.compute.keyholder import generate_keypair

PACKED = [
    {"dataset": "tax-credit-ratings", "field": "score", "where": {"year": 2023}},
    {"dataset": "social-insurance-headcounts", "field": "headcount", "where": {"month": "2024-10-01"}},
    {"dataset": "administrative-penalties", "aggregate": "count"},
]
SLOT = 40


def person(world: World) -> dict[str, str]:
    return world.rows("personal-social-insurance")[0]


def compute_used(world: World, licence_id: int) -> int:
    return world.client.get(f"/api/v1/licences/{licence_id}", headers=world.bank.session).json()["usage_today"]["compute"]


# --- 1. proven keys ---------------------------------------------------------------------------

def _full_size(build: Any) -> tuple[mpz, list[mpz]]:
    """A malformed modulus of at least 2,048 bits, so that only its proof can refuse it."""
    while True:
        n, primes = build()
        if 2048 <= n.bit_length() <= 4096:
            return n, primes

def test_the_issue_keys_cannot_be_registered_whatever_proof_comes_with_them(world: World) -> None:
    org = make_organisation(world.client, "forger", credit_code(11), generate_keypair(2048))
    honest = key_registration(world.client, org.session, org.key)["proof"]
    for n, primes in (_full_size(lambda: issue_key(2056)), _full_size(many_prime_key)):
        kid_context = context(org.key, "key-registration")  # the organisation's own binding
        forged, answerable = cheating_mod_proof(n, primes, kid_context)
        assert answerable < 80
        for proof in ({"v": 1, "type": "key", "mod": forged, "fac": honest["fac"]}, honest, None):
            body = {"public_key": {"kty": "paillier", "n": str(n)}}
            if proof is not None:
                body["proof"] = proof
            refused = world.client.post(KEYS, json=body, headers=org.session)
            assert_refused_and_audited(refused, 400, "key_proof_invalid", world.database_url, "compute.key.register")
    assert world.client.get(KEYS, headers=org.session).json() == []


def test_a_proof_made_for_another_organisation_does_not_register_the_key(world: World) -> None:
    stolen = generate_keypair(2048)
    body = key_registration(world.client, world.rival.session, stolen)  # bound to the rival
    refused = world.client.post(KEYS, json=body, headers=world.bank.session)
    assert_refused_and_audited(refused, 400, "key_proof_invalid", world.database_url, "compute.key.register")


def test_a_key_registered_before_proofs_computes_nothing_until_proved(world: World) -> None:
    org = make_organisation(world.client, "legacy", credit_code(12), generate_keypair(2048))
    licence = world.licence(org)
    headers = licence.headers(world.client)
    body = key_registration(world.client, headers, org.key)
    assert world.client.post(KEYS, json=body, headers=headers).status_code == 201
    database = Database(world.database_url)
    with database.transaction() as session:  # what migration 0006 left for every older key
        session.execute(update(ComputeKey).where(ComputeKey.kid == org.kid).values(proven_at=None))
    database.dispose()
    row = person(world)
    request = verify_body(org.key, row["id_number"], {"contribution_base": claim(org.key, "1.00", "decimal", 2)},
                          where={"month": row["month"]})
    refused = world.client.post(VERIFY, json=request, headers=headers)
    assert_refused_and_audited(refused, 409, "key_not_proven", world.database_url, "compute.verify")
    no_proof = world.client.post(KEYS, json={"public_key": org.key.public_key_dict()}, headers=headers)
    assert_refused_and_audited(no_proof, 400, "key_proof_invalid", world.database_url, "compute.key.register")
    proved = world.client.post(KEYS, json=body, headers=headers)
    assert proved.status_code == 200
    assert audit_records(world.database_url, "compute.key.prove", 1)[0].target == f"compute-key:{org.kid}"
    assert world.client.post(VERIFY, json=request, headers=headers).status_code == 200


# --- 2. proven inputs -------------------------------------------------------------------------

def _send_claim(world: World, ciphertext: Any, proof: Any) -> Any:
    row = person(world)
    body = verify_body(world.bank.key, row["id_number"], {"contribution_base": {
        "ciphertext": str(ciphertext), "scale": 2, "proof": proof}}, where={"month": row["month"]})
    return world.client.post(VERIFY, json=body, headers=world.main.headers(world.client))


def test_a_claim_built_by_crt_from_two_guesses_has_no_valid_proof(world: World) -> None:
    key = world.bank.key
    p, q = int(key.private_key.p), int(key.private_key.q)
    n = p * q
    true_value = claim_integer(person(world)["contribution_base"], "decimal", 2)
    double = crt(true_value, true_value + 100, p, q, int(gmpy2.invert(q, p)))  # one guess mod p, one mod q
    ciphertext = int(key.private_key.raw_encrypt(int(double)))
    rho = randomness_of(p, q, ciphertext)
    forged, in_range = range_attempt(mpz(n), mpz(ciphertext), mpz(double), mpz(rho), 256, published_params(),
                                     context(key, "verify-claim"))
    assert not in_range  # the prover's own check says so; the server's does too
    charged = compute_used(world, world.main.id)
    successes = len(audit_records(world.database_url, "compute.verify", 1000))
    refused = _send_claim(world, ciphertext, forged)
    assert_refused_and_audited(refused, 400, "range_proof_invalid", world.database_url, "compute.verify")
    assert "results" not in refused.text
    assert compute_used(world, world.main.id) == charged  # nothing computed, nothing charged


def test_a_proof_does_not_travel_to_another_ciphertext_context_or_field(world: World) -> None:
    key = world.bank.key
    honest = claim(key, "1.00", "decimal", 2)
    other = claim(key, "2.00", "decimal", 2)
    swapped = _send_claim(world, other["ciphertext"], honest["proof"])
    assert_refused_and_audited(swapped, 400, "range_proof_invalid", world.database_url, "compute.verify")
    foreign = key.encrypt_proved(100, 256, published_params(), context(world.bank.key, "model-input"))
    assert_refused_and_audited(_send_claim(world, *foreign), 400, "range_proof_invalid", world.database_url,
                               "compute.verify")
    missing = _send_claim(world, honest["ciphertext"], {"v": 1, "type": "enc"})
    assert_refused_and_audited(missing, 400, "range_proof_invalid", world.database_url, "compute.verify")


def test_weights_beyond_the_proof_slack_are_refused(world: World) -> None:
    headers = world.main.headers(world.client)
    body = malicious_model(world.bank.key, PACKED[:1], [2**600], threshold=0)
    refused = world.client.post(MODELS, json=body, headers=headers)
    record = assert_refused_and_audited(refused, 400, "range_proof_invalid", world.database_url,
                                        "compute.model.register")
    assert "enc_weights[0]" in refused.json()["error"]["message"] and details(record)["licence"] == world.main.id


# --- 3. bounded outputs -----------------------------------------------------------------------

def _firms_with_all_features(world: World) -> list[str]:
    ratings = {r["credit_code"] for r in world.rows("tax-credit-ratings") if r["year"] == "2023"}
    heads = {r["credit_code"] for r in world.rows("social-insurance-headcounts") if r["month"] == "2024-10-01"}
    return sorted(ratings & heads)[:8]


def test_a_packed_weight_model_in_decision_mode_recovers_no_feature_value(world: World) -> None:
    """v1: one scoring of weights 2^(40 i) returned every packed feature exactly. The weights
    are within the proofs' slack (2^80 < 2^(64 + 385)), so registration succeeds; the answer
    is a side of the threshold per subject, nothing more."""
    headers = world.main.headers(world.client)
    body = malicious_model(world.bank.key, PACKED, [2 ** (SLOT * i) for i in range(len(PACKED))], threshold=0)
    created = world.client.post(MODELS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    assert created.json()["leakage_bits_per_subject"] < 1.5
    assert world.client.post(f"{MODELS}/{model_id}/approve", json=approval("decision"),
                             headers=world.admin).status_code == 200
    subjects = _firms_with_all_features(world)
    answer = world.client.post(f"{MODELS}/{model_id}/score", json={"subjects": subjects}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["scores"] is None and set(answer.json()["decisions"]) == set(subjects)
    ratings = {r["credit_code"]: r["score"] for r in world.rows("tax-credit-ratings") if r["year"] == "2023"}
    heads = {r["credit_code"]: int(r["headcount"]) for r in world.rows("social-insurance-headcounts")
             if r["month"] == "2024-10-01"}
    key, n = world.bank.key, world.bank.key.public_key.n
    mask = (1 << SLOT) - 1
    recovered = 0
    for subject, ciphertext in answer.json()["decisions"].items():
        assert key.decision(ciphertext) is True  # every packed score is >= 0: the only bit given
        residue = key.decrypt_residue(ciphertext)
        unpacked = [(residue >> (SLOT * i)) & mask for i in range(len(PACKED))]
        truth = [int(Decimal(ratings[subject]).to_integral_value()), heads[subject]]
        recovered += sum(1 for got, want in zip(unpacked, truth) if got == want)
        assert residue < n // 2
    assert recovered == 0


def test_a_unit_vector_model_in_decision_mode_gives_one_bit_per_subject_and_request(world: World) -> None:
    headers = world.main.headers(world.client)
    firm = _firms_with_all_features(world)[0]
    headcount = next(int(r["headcount"]) for r in world.rows("social-insurance-headcounts")
                     if r["credit_code"] == firm and r["month"] == "2024-10-01")
    answers = {}
    for threshold in (headcount, headcount + 1):
        body = malicious_model(world.bank.key, [PACKED[1]], [1], threshold=threshold)
        model_id = world.client.post(MODELS, json=body, headers=headers).json()["id"]
        world.client.post(f"{MODELS}/{model_id}/approve", json=approval("decision"), headers=world.admin)
        scored = world.client.post(f"{MODELS}/{model_id}/score", json={"subjects": [firm]}, headers=headers).json()
        answers[threshold] = scored["decisions"][firm]
    key = world.bank.key
    assert key.decision(answers[headcount]) is True and key.decision(answers[headcount + 1]) is False
    for ciphertext in answers.values():  # the value itself does not come back, only its side
        residue = key.decrypt_residue(ciphertext)
        signed = residue if residue < key.public_key.n // 2 else residue - key.public_key.n
        assert signed not in (0, -1, headcount, headcount + 1)


def test_a_banded_model_returns_only_the_band(world: World) -> None:
    headers = world.main.headers(world.client)
    firm = _firms_with_all_features(world)[0]
    headcount = next(int(r["headcount"]) for r in world.rows("social-insurance-headcounts")
                     if r["credit_code"] == firm and r["month"] == "2024-10-01")
    thresholds = [headcount - 10, headcount, headcount + 5, headcount + 50]
    body = malicious_model(world.bank.key, [PACKED[1]], [1], thresholds=thresholds)
    created = world.client.post(MODELS, json=body, headers=headers)
    assert created.status_code == 201 and created.json()["output_mode"] == "banded", created.text
    model_id = created.json()["id"]
    assert world.client.post(f"{MODELS}/{model_id}/approve", json=approval("banded"),
                             headers=world.admin).status_code == 200
    scored = world.client.post(f"{MODELS}/{model_id}/score", json={"subjects": [firm]}, headers=headers).json()
    assert world.bank.key.band(scored["bands"][firm]) == 2  # reaches t1 and t2, not t3 and t4
    assert len(scored["bands"][firm]) == 4 and scored["scores"] is None and scored["decisions"] is None


def test_no_mode_returns_exact_scores_of_weights_nobody_reviewed(world: World) -> None:
    headers = world.main.headers(world.client)
    v1 = {"name": "v1", "key_id": world.bank.kid, "features": PACKED[:1], "score_scale": 0,
          "enc_weights": [str(world.bank.key.encrypt_int(1))], "enc_bias": str(world.bank.key.encrypt_int(0))}
    refused = world.client.post(MODELS, json=v1, headers=headers)
    assert_refused_and_audited(refused, 400, "missing_field", world.database_url, "compute.model.register")
    sneaky = {**v1, "output_mode": "reviewed"}  # reviewed, but with secret weights
    refused = world.client.post(MODELS, json=sneaky, headers=headers)
    assert_refused_and_audited(refused, 400, "unexpected_field", world.database_url, "compute.model.register")
    secret = malicious_model(world.bank.key, PACKED[:1], [1], threshold=0)
    model_id = world.client.post(MODELS, json=secret, headers=headers).json()["id"]
    as_exact = world.client.post(f"{MODELS}/{model_id}/approve", json=approval("reviewed"), headers=world.admin)
    assert_refused_and_audited(as_exact, 409, "output_mode_mismatch", world.database_url, "compute.model.approve")


def test_the_parameters_are_published_with_their_proof_and_need_an_organisation(world: World) -> None:
    anonymous = world.client.get("/api/v1/compute/parameters")
    assert_refused_and_audited(anonymous, 401, "authentication_required", world.database_url,
                               "compute.parameters.read")
    data = learn_context(world.client, world.bank.session, world.bank.key)
    assert data["claim_bound_bits"] == 256 and "p" not in data["ring_pedersen"]
    assert data["portal"] == world.settings.issuer
