"""Builders for the malformed moduli of issue 9 and a cheating Pi^mod prover that knows
every prime factor and answers every challenge it can."""

from __future__ import annotations

import secrets
from math import prod

import gmpy2
from gmpy2 import mpz

from opendata.compute.proofs.modulus import MOD_REPETITIONS, _challenges
from opendata.compute.proofs.wire import encode_bits, encode_int, encode_ints


def random_prime(bits: int, *, residue_mod_4: int | None = None) -> mpz:
    while True:
        candidate = mpz(secrets.randbits(bits)) | (mpz(1) << (bits - 1)) | 1
        if residue_mod_4 is not None:
            candidate = (candidate & ~mpz(3)) | residue_mod_4
        if gmpy2.is_prime(candidate, 30):
            return candidate


def issue_key(total_bits: int = 2048) -> tuple[mpz, list[mpz]]:
    """n = p * q_1..q_5 with 32-bit primes q_j | p - 1: the key of issue 9."""
    small = []
    while len(small) < 5:
        q = random_prime(32)
        if q not in small:
            small.append(q)
    step = 2 * prod(small)
    while True:
        k = mpz(secrets.randbits(total_bits - 160 - step.bit_length())) | 1
        p = step * k + 1
        if gmpy2.is_prime(p, 30):
            return p * prod(small), [p, *small]


def many_prime_key(count: int = 100, bits: int = 21) -> tuple[mpz, list[mpz]]:
    """A modulus with ``count`` distinct prime factors = 3 mod 4 (the friendliest for a cheat)."""
    primes: list[mpz] = []
    while len(primes) < count:
        r = random_prime(bits, residue_mod_4=3)
        if r not in primes:
            primes.append(r)
    return prod(primes), primes


def _prime_powers(primes: list[mpz]) -> dict[mpz, int]:
    powers: dict[mpz, int] = {}
    for r in primes:
        powers[r] = powers.get(r, 0) + 1
    return powers


def is_power_residue(y: mpz, exponent: mpz, primes: list[mpz]) -> bool:
    """Whether y has an ``exponent``-th root modulo prod(primes) (primes may repeat)."""
    for r, k in _prime_powers(primes).items():
        modulus, order = r**k, r ** (k - 1) * (r - 1)  # Z*_(r^k) is cyclic for odd r
        if gmpy2.powmod(y % modulus, order // gmpy2.gcd(exponent, order), modulus) != 1:
            return False
    return True


def answerable(n: mpz, y: mpz, w: mpz, primes: list[mpz]) -> bool:
    """Whether ANY prover could answer challenge y: an N-th root of y and a fourth root of
    one of its four twists must both exist."""
    if not is_power_residue(y, n, primes):
        return False
    twists = (y, -y % n, y * w % n, -y * w % n)
    return any(is_power_residue(t, mpz(4), primes) for t in twists)


def cheating_mod_proof(n: mpz, primes: list[mpz], context: bytes) -> tuple[dict, int]:
    """A forged Pi^mod proof for a malformed n: the honest formulas, run with the factors
    the cheat knows (they do not give roots for a malformed n, which is the point).

    Returns (proof, how many of its 80 challenges *any* prover could have answered)."""
    while True:
        w = mpz(secrets.randbelow(int(n)))
        if gmpy2.gcd(w, n) == 1 and gmpy2.jacobi(w, n) == -1:
            break
    ys = _challenges(n, w, context)
    xs, zs = [], []
    for y in ys:
        # the honest formula with phi replaced by the Carmichael-free guess prod(r - 1)
        phi = prod(r - 1 for r in primes)
        try:
            z = gmpy2.powmod(y, gmpy2.invert(n, phi), n)
        except ZeroDivisionError:
            z = mpz(secrets.randbelow(int(n)))
        zs.append(z)
        xs.append(gmpy2.powmod(y, ((phi + 4) // 8) % phi if phi else 1, n))
    answered = sum(answerable(n, y, w, primes) for y in ys)
    proof = {"v": 1, "type": "mod", "w": encode_int(w), "x": encode_ints(xs),
             "a": encode_bits([0] * MOD_REPETITIONS), "b": encode_bits([0] * MOD_REPETITIONS), "z": encode_ints(zs)}
    return proof, answered
