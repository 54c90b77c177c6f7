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
