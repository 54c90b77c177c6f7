"""Decision-mode blinding, measured: the key holder learns the side of the threshold and
almost nothing about the distance (docs/security/compute-threat-model.md gives the bound)."""

from __future__ import annotations

import math
import secrets
from collections import Counter

import pytest
from gmpy2 import mpz

from opendata.compute.inputs import blind, blinding_exponent_bits, leakage_bits
from opendata.compute.keyholder import KeyHolder

BIT_LENGTHS = (1, 50, 100, 150, 200)  # of d = score - threshold: what an attacker would like to learn
SAMPLES = 160
BIN_BITS = 64


def mutual_information(pairs: list[tuple[int, int]]) -> float:
    """Plug-in estimate, in bits, of I(class; observation) from (class, observation) pairs."""
    total = len(pairs)
    joint, left, right = Counter(pairs), Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    return sum(c / total * math.log2(c * total / (left[a] * right[b])) for (a, b), c in joint.items())


def _observations(key: KeyHolder, e_max: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    n = key.public_key.n
    n2 = n * n
    blinded, exact = [], []
    for klass, bits in enumerate(BIT_LENGTHS):
        for _ in range(SAMPLES):
            d = (mpz(1) << (bits - 1)) | mpz(secrets.randbits(bits - 1)) if bits > 1 else mpz(1)
            d = -d if secrets.randbits(1) else d
            # The obfuscator (1 here) changes no plaintext: it only re-randomises the ciphertext.
            residue = key.decrypt_residue(blind(n, n2, mpz(key.encrypt_int(int(d))), e_max, mpz(1)))
            v = residue if residue < n // 2 else residue - n  # what the key holder reads
            assert (v >= 0) == (d >= 0)  # the side is always right
            blinded.append((klass, int(abs(v)).bit_length() // BIN_BITS))
            exact.append((klass, int(abs(d)).bit_length()))
    return blinded, exact


def test_a_blinded_decision_tells_the_side_and_little_about_the_distance(bank_key: KeyHolder) -> None:
    e_max = blinding_exponent_bits(bank_key.public_key.bits, features=1, weight_bits=64, bias_bits=96)
    blinded, exact = _observations(bank_key, e_max)
    prior = math.log2(len(BIT_LENGTHS))
    # Without blinding the bit length of d is read off exactly: all of log2(5) bits.
    assert mutual_information(exact) == pytest.approx(prior)
    # Blinded: the documented bound for the spread actually used (200 of the D bits), plus the
    # plug-in estimator's small-sample bias ((bins - 1)(classes - 1) / (2 N ln 2)).
    spread = max(BIT_LENGTHS) + 2
    bound = math.log2((e_max + 1 + spread) / (e_max + 1))
    bins = len({b for _, b in blinded})
    bias = (bins - 1) * (len(BIT_LENGTHS) - 1) / (2 * len(blinded) * math.log(2))
    measured = mutual_information(blinded)
    print(f"I(bit length of d; observation) = {measured:.3f} bits (bound {bound:.3f} + bias {bias:.3f})")
    assert measured <= bound + bias + 0.05, (measured, bound, bias)
    assert measured < prior / 4


def test_the_leakage_bound_is_what_models_report() -> None:
    decision = leakage_bits(2048, features=20, weight_bits=64, bias_bits=64, thresholds=1)
    banded = leakage_bits(2048, features=20, weight_bits=64, bias_bits=64, thresholds=4)
    assert 1 < decision < 1.5 and math.log2(5) < banded < math.log2(5) + 4 * 0.5
    assert leakage_bits(3072, 20, 64, 64, 1) < decision  # a larger key leaves more room to blind
