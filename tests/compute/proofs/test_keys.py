"""Key proofs (Pi^mod + Pi^fac): completeness, and the malformed keys of issue 9."""

from __future__ import annotations

import copy

import gmpy2
import pytest
from gmpy2 import mpz

from opendata.compute.proofs import ProofError, proof_context, prove_key, verify_key
from opendata.compute.proofs.arith import blum_prime
from opendata.compute.proofs.factors import factor_lower_bound_bits, fac_attempt
from opendata.compute.proofs.modulus import MOD_REPETITIONS, mod_responses, verify_mod

from .malicious import cheating_mod_proof, issue_key, many_prime_key, random_prime


@pytest.fixture(scope="module")
def key_proof(blum_key, client_params, context):
    p, q = blum_key
    return prove_key(p, q, client_params, context)


def rejected(n, proof, params, context, match: str | None = None) -> ProofError:
    with pytest.raises(ProofError, match=match) as info:
        verify_key(n, proof, params, context)
    assert info.value.code == "key_proof_invalid"
    return info.value


def test_honest_key_verifies_for_portal_and_public_params(blum_key, key_proof, portal_params, client_params, context):
    p, q = blum_key
    verify_key(p * q, key_proof, portal_params, context)  # CRT with the trapdoor
    verify_key(p * q, key_proof, client_params, context)  # anyone with the published params


def test_factor_bound_is_meaningful_at_2048_and_3072_bits():
    assert factor_lower_bound_bits(2048) >= 256
    assert factor_lower_bound_bits(3072) >= 768


@pytest.mark.parametrize(
    "other",
    [("https://portal.example", "org-8", "kid-1", "key-registration"),
     ("https://portal.example", "org-7", "kid-2", "key-registration"),
     ("https://other.example", "org-7", "kid-1", "key-registration"),
     ("https://portal.example", "org-7", "kid-1", "claims")],
)
def test_replay_in_another_context_is_rejected(blum_key, key_proof, portal_params, other):
    p, q = blum_key
    rejected(p * q, key_proof, portal_params, proof_context(*other))


def test_proof_of_one_key_does_not_prove_another(key_proof, portal_params, context):
    p, q = blum_prime(1024), blum_prime(1024)
    rejected(p * q, key_proof, portal_params, context)


@pytest.mark.parametrize("part", ["mod", "fac"])
def test_tampered_fields_are_rejected(blum_key, key_proof, portal_params, context, part):
    n = blum_key[0] * blum_key[1]
    fields = [k for k in key_proof[part] if k not in ("v", "type")]
    for name in fields:
        forged = copy.deepcopy(key_proof)
        value = forged[part][name]
        if isinstance(value, list):
            value[3] = str(int(value[3]) + 1)
        elif name in ("a", "b"):
            forged[part][name] = ("1" if value[0] == "0" else "0") + value[1:]
        else:
            forged[part][name] = str(int(value) + 1)
        rejected(n, forged, portal_params, context)


@pytest.mark.parametrize(
    "mutate",
    [lambda d: d.pop("mod"), lambda d: d.update(v=2), lambda d: d.update(extra=1),
     lambda d: d["mod"].update(w="0"), lambda d: d["mod"].update(w=5), lambda d: d["mod"]["x"].pop(),
     lambda d: d["mod"].update(a="01" * 40 + "x"), lambda d: d["fac"].update(P="-3"),
     lambda d: d["fac"].update(z1="9" * 5000), lambda d: d["fac"].update(z1="01"),
     lambda d: d["fac"].update(Q="0"), lambda d: d.update(type="enc")],
)
def test_malformed_json_gives_proof_error(blum_key, key_proof, portal_params, context, mutate):
    forged = copy.deepcopy(key_proof)
    mutate(forged)
    rejected(blum_key[0] * blum_key[1], forged, portal_params, context)


def test_non_dict_proofs_and_bad_n(blum_key, portal_params, context):
    n = blum_key[0] * blum_key[1]
    for proof in (None, [], "x", 3, {"v": 1}):
        rejected(n, proof, portal_params, context)
    for bad_n in (True, -n, 0, "123", mpz(1) << 9000):
        rejected(bad_n, {"v": 1, "type": "key", "mod": {}, "fac": {}}, portal_params, context)


# --- the malformed keys of issue 9 -------------------------------------------------------

def assert_no_proof_exists(n, primes, context, *, params, honest_proof):
    """No prover can answer all 80 challenges; a forged and a replayed proof are rejected."""
    forged, answerable_count = cheating_mod_proof(n, primes, context)
    assert answerable_count < MOD_REPETITIONS
    rejected(n, {"v": 1, "type": "key", "mod": forged, "fac": honest_proof["fac"]}, params, context)
    rejected(n, honest_proof, params, context)


def test_issue_key_p_times_five_32_bit_primes_dividing_p_minus_1(key_proof, portal_params, context):
    n, primes = issue_key()
    p, small = primes[0], primes[1:]
    assert all((p - 1) % q == 0 for q in small) and 2000 < n.bit_length() <= 2048
    with pytest.raises(ProofError):  # the honest prover refuses: prod(q_j) is not prime
        prove_key(p, n // p, portal_params, context)
    assert_no_proof_exists(n, primes, context, params=portal_params, honest_proof=key_proof)
    # Stronger: no challenge of any transcript has an N-th root (a fraction 1/prod q_j does).
    _, answered = cheating_mod_proof(n, primes, context)
    assert answered == 0


def test_hundred_prime_factor_modulus(key_proof, portal_params, context):
    n, primes = many_prime_key()
    assert len(set(primes)) == 100 and n.bit_length() > 2000
    assert_no_proof_exists(n, primes, context, params=portal_params, honest_proof=key_proof)


def test_p_squared_q(key_proof, portal_params, context):
    p, q = blum_prime(683), blum_prime(683)
    n = p * p * q
    with pytest.raises(ProofError):
        prove_key(p * p, q, portal_params, context)
    assert_no_proof_exists(n, [p, p, q], context, params=portal_params, honest_proof=key_proof)
    _, answered = cheating_mod_proof(n, [p, p, q], context)
    assert answered == 0  # an N-th root mod p^2 needs a p-th power residue: fraction 1/p


def test_p_equal_1_mod_4(portal_params, context):
    p, q = random_prime(1024, residue_mod_4=1), blum_prime(1024)
    n = p * q
    with pytest.raises(ProofError, match="3 mod 4"):
        prove_key(p, q, portal_params, context)
    # The honest algorithm, run anyway, produces a proof that fails.
    forged = mod_responses(p, q, context)
    with pytest.raises(ProofError):
        verify_mod(n, forged, context)
    _, answered = cheating_mod_proof(n, [p, q], context)
    assert answered < MOD_REPETITIONS


@pytest.mark.parametrize("small_bits", [32, 380])
def test_small_factor_is_rejected_by_pi_fac(portal_params, context, small_bits):
    """N = p*q with q small is a perfectly good Paillier-Blum modulus: Pi^mod passes, and
    Pi^fac is what refuses it."""
    while True:
        q = blum_prime(small_bits)
        p = blum_prime(2048 - small_bits)
        n = p * q
        if gmpy2.gcd(n, (p - 1) * (q - 1)) == 1:
            break
    mod = mod_responses(p, q, context)
    verify_mod(n, mod, context)
    with pytest.raises(ProofError, match="too small"):
        prove_key(p, q, portal_params, context)
    for first, second in ((p, q), (q, p)):  # whichever order the cheat tries
        fac, in_range = fac_attempt(first, second, portal_params, context)
        assert not in_range
        rejected(n, {"v": 1, "type": "key", "mod": mod, "fac": fac}, portal_params, context, match="out of range")
