"""Range proofs (Pi^enc): completeness with the SDK's own ciphertexts, soundness against
the claims of issue 9, batching, strict parsing."""

from __future__ import annotations

import copy

import pytest
from gmpy2 import mpz

from opendata.compute.keyholder import KeyHolder
from opendata.compute.paillier import PrivateKey
from opendata.compute.proofs import (
    ProofError,
    guaranteed_bound_bits,
    proof_context,
    prove_range,
    randomness_of,
    verify_range,
    verify_ranges,
)
from opendata.compute.proofs.arith import crt
from opendata.compute.proofs.ranges import ENC_EPSILON, range_attempt

BOUND = 64


@pytest.fixture
def claims_context() -> bytes:
    return proof_context("https://portal.example", "org-7", "kid-1", "claims")


def make_proof(holder: KeyHolder, value: int, params, context, bound=BOUND):
    p, q = int(holder.private_key.p), int(holder.private_key.q)
    c = holder.encrypt_int(value)
    proof = prove_range(p * q, c, value, randomness_of(p, q, c), bound, params, context, factors=(p, q))
    return c, proof


def rejected(n, c, proof, bound, params, context, match=None) -> ProofError:
    with pytest.raises(ProofError, match=match) as info:
        verify_range(n, c, proof, bound, params, context)
    assert info.value.code == "range_proof_invalid"
    return info.value


@pytest.mark.parametrize("method", ["djn", "exact"])
@pytest.mark.parametrize("value", [0, 1, -1, 150_000_000, -(2**63), 2**64 - 1])
def test_sdk_ciphertexts_prove_and_verify(holder, client_params, portal_params, claims_context, method, value):
    holder = KeyHolder(holder.private_key, method=method)
    c, proof = make_proof(holder, value, client_params, claims_context)
    n = int(holder.public_key.n)
    verify_range(n, c, proof, BOUND, portal_params, claims_context)
    verify_range(n, c, proof, BOUND, client_params, claims_context)


def test_randomness_of_recovers_rho(holder):
    p, q = int(holder.private_key.p), int(holder.private_key.q)
    n = p * q
    c = holder.encrypt_int(-42)
    rho = randomness_of(p, q, c)
    assert (1 + (-42 % n) * n) * pow(rho, n, n * n) % (n * n) == c


def test_residue_and_signed_plaintext_are_the_same_claim(holder, client_params, portal_params, claims_context):
    p, q = int(holder.private_key.p), int(holder.private_key.q)
    n = p * q
    c = holder.encrypt_int(-5)
    proof = prove_range(n, c, n - 5, randomness_of(p, q, c), BOUND, client_params, claims_context)  # no factors
    verify_range(n, c, proof, BOUND, portal_params, claims_context)


def test_prover_refuses_what_it_cannot_prove(holder, client_params, claims_context):
    p, q = int(holder.private_key.p), int(holder.private_key.q)
    n = p * q
    c = holder.encrypt_int(2**BOUND)
    with pytest.raises(ProofError, match="outside"):
        prove_range(n, c, 2**BOUND, randomness_of(p, q, c), BOUND, client_params, claims_context)
    with pytest.raises(ProofError, match="is not"):  # wrong plaintext for this ciphertext
        prove_range(n, c, 7, randomness_of(p, q, c), BOUND, client_params, claims_context)


def test_value_just_above_the_guarantee_fails(holder, client_params, portal_params, claims_context):
    """The honest algorithm run (unchecked) on k = 2^(l+eps) + 1 gives an out-of-range z1."""
    p, q = holder.private_key.p, holder.private_key.q
    n = p * q
    k = (mpz(1) << (BOUND + ENC_EPSILON)) + 1
    c = holder.private_key.raw_encrypt(k)
    proof, in_range = range_attempt(n, c, k, mpz(randomness_of(p, q, c)), BOUND, client_params, claims_context)
    assert not in_range
    rejected(n, c, proof, BOUND, portal_params, claims_context, match="out of range")
    assert guaranteed_bound_bits(BOUND) == BOUND + ENC_EPSILON + 1


def test_crt_built_claim_cannot_be_proved(holder, client_params, portal_params, claims_context):
    """c encrypts m with m = g1 mod p, m = g2 mod q: two guesses in one claim (issue 9)."""
    p, q = holder.private_key.p, holder.private_key.q
    n = p * q
    m = crt(mpz(150_000_000), mpz(160_000_000), p, q, pow(int(q), -1, int(p)))
    c = holder.private_key.raw_encrypt(m)
    rho = mpz(randomness_of(p, q, c))
    with pytest.raises(ProofError):
        prove_range(n, c, m, rho, BOUND, client_params, claims_context)
    for claimed in (m, mpz(150_000_000), mpz(160_000_000)):  # the true m is huge; a small one is false
        proof, _ = range_attempt(n, c, claimed, rho, BOUND, client_params, claims_context)
        rejected(n, c, proof, BOUND, portal_params, claims_context)


def test_proof_bound_to_ciphertext_bound_and_context(holder, client_params, portal_params, claims_context):
    n = int(holder.public_key.n)
    c, proof = make_proof(holder, 12, client_params, claims_context)
    other, _ = make_proof(holder, 12, client_params, claims_context)
    rejected(n, other, proof, BOUND, portal_params, claims_context)  # attached to another ciphertext
    rejected(n, c, proof, BOUND + 1, portal_params, claims_context)  # another bound
    rejected(n, c, proof, BOUND, portal_params, proof_context("https://portal.example", "org-8", "kid-1", "claims"))
    rejected(n, c, proof, BOUND, portal_params, proof_context("https://portal.example", "org-7", "kid-2", "claims"))


def test_proof_under_another_key_is_rejected(holder, client_params, portal_params, claims_context):
    c, proof = make_proof(holder, 12, client_params, claims_context)
    other = KeyHolder(PrivateKey.from_dict(holder.to_dict()))  # same key: sanity
    verify_range(int(other.public_key.n), c, proof, BOUND, portal_params, claims_context)
    n = int(holder.public_key.n)
    rejected(n + 2, c, proof, BOUND, portal_params, claims_context)


def test_tampered_fields_are_rejected(holder, client_params, portal_params, claims_context):
    n = int(holder.public_key.n)
    c, proof = make_proof(holder, 99, client_params, claims_context)
    for name in ("S", "A", "C", "z1", "z2", "z3"):
        forged = dict(proof, **{name: str(int(proof[name]) + 1)})
        rejected(n, c, forged, BOUND, portal_params, claims_context)


@pytest.mark.parametrize(
    "mutate",
    [lambda d: d.pop("z1"), lambda d: d.update(v=0), lambda d: d.update(v=True), lambda d: d.update(x="1"),
     lambda d: d.update(S="0"), lambda d: d.update(A="1" + "0" * 1300), lambda d: d.update(z2=None),
     lambda d: d.update(z1=1.5), lambda d: d.update(z1="+5"), lambda d: d.update(z1=" 5"),
     lambda d: d.update(z3="-" + "9" * 100_000), lambda d: d.update(type="fac"), lambda d: d.clear()],
)
def test_malformed_json_gives_proof_error(holder, client_params, portal_params, claims_context, mutate):
    n = int(holder.public_key.n)
    c, proof = make_proof(holder, 99, client_params, claims_context)
    forged = copy.deepcopy(proof)
    mutate(forged)
    rejected(n, c, forged, BOUND, portal_params, claims_context)


@pytest.mark.parametrize("bad", [(0, BOUND), ("c", BOUND), (None, 0), (None, True), (None, 5000), (None, "64")])
def test_bad_ciphertext_or_bound(holder, client_params, portal_params, claims_context, bad):
    n = int(holder.public_key.n)
    c, proof = make_proof(holder, 1, client_params, claims_context)
    bad_c, bound = bad
    rejected(n, c if bad_c is None else bad_c, proof, bound, portal_params, claims_context)


def test_batch_accepts_honest_and_names_the_bad_item(holder, client_params, portal_params, claims_context):
    n = int(holder.public_key.n)
    items = []
    for value in range(-4, 5):
        c, proof = make_proof(holder, value * 1000, client_params, claims_context)
        items.append((c, proof, BOUND))
    verify_ranges(n, items, portal_params, claims_context)
    verify_ranges(n, items, client_params, claims_context)
    verify_ranges(n, items[:1], portal_params, claims_context)
    verify_ranges(n, [], portal_params, claims_context)
    for bad_index in (0, 5, 8):
        forged = list(items)
        c, proof, bound = forged[bad_index]
        forged[bad_index] = (c, items[(bad_index + 1) % len(items)][1], bound)  # another claim's proof
        with pytest.raises(ProofError) as info:
            verify_ranges(n, forged, portal_params, claims_context)
        assert info.value.index == bad_index and info.value.code == "range_proof_invalid"
    forged = list(items)
    forged[3] = (items[3][0], dict(items[3][1], z1="x"), BOUND)
    with pytest.raises(ProofError) as info:
        verify_ranges(n, forged, portal_params, claims_context)
    assert info.value.index == 3
    with pytest.raises(ProofError):
        verify_ranges(n, [(1, 2)], portal_params, claims_context)
    with pytest.raises(ProofError):
        verify_ranges(n, "abc", portal_params, claims_context)
