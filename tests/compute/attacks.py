"""Malicious inputs built the way an attacker would, with nothing but gmpy2 and raw HTTP:
the moduli, claims and weights of issue 9's "Why" (docs/security/compute-threat-model.md)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import gmpy2
from gmpy2 import mpz

from opendata.compute.runtime import ComputeRuntime
from opendata.demo.identifiers import make_credit_code


def random_prime(bits: int) -> mpz:
    return gmpy2.next_prime(mpz(secrets.randbits(bits)) | (mpz(1) << (bits - 1)))


def many_prime_modulus(count: int, bits: int) -> int:
    """n with ``count`` distinct prime factors of ``bits`` bits each: no factor below 10^6,
    not prime, not a square -- it passes every check of v1's validate_public_key."""
    n = mpz(1)
    for _ in range(count):
        n *= random_prime(bits)
    return int(n)


def smooth_order_modulus(bits: int = 2048, small: int = 5, small_bits: int = 32) -> tuple[int, int, list[int]]:
    """The issue's n = p * q1...q5 with each 32-bit prime q_j dividing p - 1: the server's
    mask s^n vanishes modulo p's q_j-parts. Returns (n, p, [q_j])."""
    qs = [int(random_prime(small_bits)) for _ in range(small)]
    product = 1
    for q in qs:
        product *= q
    while True:
        k = mpz(secrets.randbits(bits - small * small_bits - 8)) | 1
        p = 2 * k * product + 1
        if gmpy2.is_prime(p):
            break
    n = int(p) * product
    while n.bit_length() < bits:  # pad with one more prime so that n has the size asked for
        n *= int(random_prime(min(512, bits - n.bit_length() + 1)))
    return n, int(p), qs


def public_key(n: int) -> dict[str, Any]:
    return {"kty": "paillier", "n": str(n)}


def credit_code(serial: int) -> str:
    return make_credit_code("9", "1", "440103", f"MA5X{serial:04d}"[:8])


def tuned(runtime: ComputeRuntime, **settings: int) -> Any:
    """New settings for a running portal's compute runtime (the caller restores them)."""
    previous = runtime.settings
    runtime.settings = replace(previous, **settings)
    return previous


def forged_in_slack(key: Any, value: int, bound_bits: int, purpose: str) -> tuple[str, dict]:
    """Enc(value) with a range proof for ``bound_bits`` even when |value| is above the bound:
    the prover's algorithm run without its own bound check, as a cheat would. It verifies
    whenever e * value stays inside the mask's slack (|value| < ~2^(bound + 128)); beyond that
    it cannot."""
    from gmpy2 import mpz

    from opendata.compute.proofs import randomness_of
    from opendata.compute.proofs.ranges import range_attempt
    from tests.compute.proving import context, published_params

    n = int(key.public_key.n)
    ciphertext = int(key.private_key.raw_encrypt(value % n))
    rho = randomness_of(int(key.private_key.p), int(key.private_key.q), ciphertext)
    proof, _ = range_attempt(mpz(n), mpz(ciphertext), mpz(value), mpz(rho), bound_bits, published_params(),
                             context(key, purpose))
    return str(ciphertext), proof


def malicious_model(key: Any, features: list[dict[str, Any]], weights: list[int], *, threshold: int | None = None,
                    thresholds: list[int] | None = None, weight_bits: int = 64, bias_bits: int = 96) -> dict[str, Any]:
    """A decision (or banded) model body with weights of the attacker's choosing, at scale 0."""
    chosen = [threshold] if thresholds is None else thresholds
    enc_w = [forged_in_slack(key, w, weight_bits, "model-input") for w in weights]
    enc_b = forged_in_slack(key, 0, bias_bits, "model-input")
    enc_t = [forged_in_slack(key, t, bias_bits, "model-input") for t in chosen]
    return {"name": "探测模型", "key_id": key.public_key.key_id, "features": features, "score_scale": 0,
            "output_mode": "decision" if len(chosen) == 1 else "banded",
            "enc_weights": [c for c, _ in enc_w], "enc_bias": enc_b[0], "enc_thresholds": [c for c, _ in enc_t],
            "weight_bits": weight_bits, "bias_bits": bias_bits,
            "proofs": {"weights": [p for _, p in enc_w], "bias": enc_b[1], "thresholds": [p for _, p in enc_t]}}
