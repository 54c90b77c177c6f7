"""One-hot proofs (Pi^onehot, hidden query): completeness, and refusal of every selection
that is not exactly one 1 -- two ones, a 2 balanced by a -1, a zero vector -- made by a
prover that tries its best (the honest algorithm run on a lie), forged and moved proofs,
strict parsing."""

from __future__ import annotations

import copy

import pytest
from gmpy2 import mpz

from opendata.compute.proofs import ProofError, proof_context
from opendata.compute.proofs.arith import embed
from opendata.compute.proofs.onehot import (
    Randomizer, check_entries, encrypt_bits, parse_one_hot, prove_one_hot, verify_one_hot,
)

SIZE = 12


@pytest.fixture(scope="module")
def randomizer(blum_key) -> Randomizer:
    p, q = blum_key
    return Randomizer(p * q, (p, q))


@pytest.fixture
def context() -> bytes:
    return proof_context("https://portal.example", "org-7", "kid-1", "hidden-query")


def selection(randomizer: Randomizer, bits: list[int], index: int, context: bytes) -> tuple[list[int], dict]:
    """Ciphertexts of ``bits`` (any integers) with the honest prover's proof for ``index``."""
    n, n2 = randomizer.n, randomizer.n_squared
    cts, rhos = encrypt_bits(randomizer, [0] * len(bits))
    cts = [int(embed(b, n, n2) * c % n2) for b, c in zip(bits, cts)]  # same randomness, plaintext b
    return cts, prove_one_hot(randomizer, cts, index, rhos, context)


def refused(n: int, cts, proof, context) -> ProofError:
    with pytest.raises(ProofError) as caught:
        verify_one_hot(n, cts, proof, context)
    assert caught.value.code == "selection_proof_invalid"
    return caught.value


def one_hot(index: int, size: int = SIZE) -> list[int]:
    return [1 if j == index else 0 for j in range(size)]


@pytest.mark.parametrize("index", [0, 5, SIZE - 1])
def test_an_honest_one_hot_selection_verifies(randomizer, context, index):
    cts, proof = selection(randomizer, one_hot(index), index, context)
    verify_one_hot(int(randomizer.n), cts, proof, context)


def test_a_single_entry_vector_verifies(randomizer, context):
    cts, proof = selection(randomizer, [1], 0, context)
    verify_one_hot(int(randomizer.n), cts, proof, context)


def test_two_ones_are_refused_by_the_sum_proof(randomizer, context):
    bits = one_hot(3)
    bits[8] = 1
    for claimed in (3, 8):
        cts, proof = selection(randomizer, bits, claimed, context)
        assert "add up to 1" in str(refused(int(randomizer.n), cts, proof, context))


def test_a_zero_vector_is_refused(randomizer, context):
    cts, proof = selection(randomizer, [0] * SIZE, 4, context)
    assert "add up to 1" in str(refused(int(randomizer.n), cts, proof, context))


def test_a_two_balanced_by_a_minus_one_passes_the_sum_but_not_the_entries(randomizer, context):
    n = int(randomizer.n)
    bits = [0] * SIZE
    bits[2], bits[9] = 2, n - 1  # adds up to 1 mod N: only the 0/1 proofs can catch it
    cts, proof = selection(randomizer, bits, 2, context)
    statement = parse_one_hot(n, cts, proof, context)
    from opendata.compute.proofs.onehot import check_sum

    check_sum(statement)  # the sum really is 1
    error = refused(n, cts, proof, context)
    assert error.index in (2, 9)


def test_a_two_alone_is_refused(randomizer, context):
    bits = one_hot(6)
    bits[6] = 2
    cts, proof = selection(randomizer, bits, 6, context)
    refused(int(randomizer.n), cts, proof, context)


@pytest.mark.parametrize("field", ["a0", "a1", "e0", "z0", "z1"])
def test_a_tampered_entry_is_refused_and_named(randomizer, context, field):
    cts, proof = selection(randomizer, one_hot(1), 1, context)
    forged = copy.deepcopy(proof)
    value = mpz(forged[field][7])
    forged[field][7] = str(value + 1 if field == "e0" else value * 4 % (randomizer.n if field[0] == "z"
                                                                          else randomizer.n_squared))
    error = refused(int(randomizer.n), cts, forged, context)
    assert error.index == 7 or field in ("a0", "a1", "e0")  # changed first messages change every challenge


def test_a_proof_does_not_travel_to_another_context_or_vector(randomizer, context):
    cts, proof = selection(randomizer, one_hot(1), 1, context)
    other = proof_context("https://portal.example", "org-8", "kid-1", "hidden-query")
    refused(int(randomizer.n), cts, proof, other)
    fresh, _ = selection(randomizer, one_hot(1), 1, context)
    refused(int(randomizer.n), fresh, proof, context)


def test_the_batched_check_names_the_culprit_in_a_slice(randomizer, context):
    cts, proof = selection(randomizer, one_hot(0), 0, context)
    forged = copy.deepcopy(proof)
    forged["z1"][10] = str(mpz(forged["z1"][10]) * 2 % randomizer.n)
    statement = parse_one_hot(int(randomizer.n), cts, forged, context)
    check_entries(statement, 0, 6)  # the slice without the bad entry passes
    with pytest.raises(ProofError) as caught:
        check_entries(statement, 6, SIZE)
    assert caught.value.index == 10


@pytest.mark.parametrize("mutate", [
    lambda p: p.pop("A"),
    lambda p: p.update(z0=p["z0"][:-1]),
    lambda p: p.update(v=2),
    lambda p: p.update(type="enc"),
    lambda p: p.update(extra="1"),
    lambda p: p["e0"].__setitem__(0, str(1 << 300)),
    lambda p: p["z0"].__setitem__(0, "0"),
    lambda p: p["a0"].__setitem__(0, 12),
])
def test_malformed_proofs_are_refused_before_arithmetic(randomizer, context, mutate):
    cts, proof = selection(randomizer, one_hot(2), 2, context)
    mutate(proof)
    refused(int(randomizer.n), cts, proof, context)


def test_malformed_selections_are_refused(randomizer, context):
    cts, proof = selection(randomizer, one_hot(2), 2, context)
    n = int(randomizer.n)
    refused(n, [], proof, context)
    refused(n, [*cts[:-1], n * n], proof, context)
    refused(n, [*cts[:-1], n], proof, context)  # not a unit
