"""Pi^mod: N is a Paillier-Blum modulus (CGGMP21, Fig. "Paillier-Blum Modulus ZK").

Statement: N = p*q with p = q = 3 mod 4 and gcd(N, phi(N)) = 1. The prover sends w with
Jacobi symbol -1; challenges y_1..y_m in Z_N^* come from the transcript; for each i it sends
an N-th root z_i of y_i and a fourth root x_i of (-1)^a_i w^b_i y_i. The verifier checks N
odd and composite, z_i^N = y_i and x_i^4 = (-1)^a_i w^b_i y_i.

Why it is sound: if gcd(N, phi(N)) != 1 at most a 1/2 fraction of Z_N^* has N-th roots
(for the issue's key, n = p * q_1..q_5 with q_j | p - 1, a fraction 1/prod q_j); if N is not
a product of two primes = 3 mod 4 (more prime factors, a square factor, p = 1 mod 4), at most
half of the y have a fourth root among their four twists. Each repetition catches a cheat with
probability >= 1/2; m = 80 repetitions give soundness error 2^-80. No batching here: a small-
exponent batch would accept N-th roots "up to" small-order elements, exactly the elements a
malformed N has (32-bit q_j), so every repetition is checked on its own (~3 ms each at 2048
bits).
"""

from __future__ import annotations

import gmpy2
from gmpy2 import mpz

from opendata.compute.proofs.arith import crt, sample_unit
from opendata.compute.proofs.errors import KEY_PROOF_INVALID, ProofError
from opendata.compute.proofs.transcript import Transcript
from opendata.compute.proofs.wire import (
    WIRE_VERSION,
    check_fields,
    decode_bits,
    decode_list,
    decode_unit,
    encode_bits,
    encode_int,
    encode_ints,
)

MOD_REPETITIONS = 80


def _challenges(n: int, w: int, context: bytes) -> list[mpz]:
    return Transcript("mod", context).add("N", n).add("w", w).challenge_units("y", n, MOD_REPETITIONS)


def check_blum_factors(p: int, q: int) -> tuple[mpz, mpz]:
    """The honest prover refuses a key Pi^mod cannot truthfully prove."""
    p, q = mpz(p), mpz(q)
    if p == q or not (gmpy2.is_prime(p, 40) and gmpy2.is_prime(q, 40)):
        raise ProofError(KEY_PROOF_INVALID, "p and q must be distinct primes")
    if p % 4 != 3 or q % 4 != 3:
        raise ProofError(KEY_PROOF_INVALID, "p and q must both be 3 mod 4 (a Paillier-Blum modulus)")
    if gmpy2.gcd(p * q, (p - 1) * (q - 1)) != 1:
        raise ProofError(KEY_PROOF_INVALID, "gcd(N, phi(N)) must be 1")
    return p, q


def prove_mod(p: int, q: int, context: bytes) -> dict:
    p, q = check_blum_factors(p, q)
    return mod_responses(p, q, context)


def mod_responses(p: mpz, q: mpz, context: bytes) -> dict:
    """The prover's algorithm proper, with CRT everywhere (no validation of p and q)."""
    n = p * q
    q_inv = gmpy2.invert(q, p)
    while True:
        w = sample_unit(n)
        if gmpy2.jacobi(w, n) == -1:
            break
    n_inv_p, n_inv_q = gmpy2.invert(n, p - 1), gmpy2.invert(n, q - 1)
    # Principal fourth root mod a prime r = 3 mod 4: a^(((r+1)/4)^2) for a quadratic residue a.
    quart_p, quart_q = ((p + 1) // 4) ** 2 % (p - 1), ((q + 1) // 4) ** 2 % (q - 1)
    w_p, w_q = gmpy2.legendre(w, p), gmpy2.legendre(w, q)
    xs, zs, a_bits, b_bits = [], [], [], []
    for y in _challenges(n, w, context):
        z = crt(gmpy2.powmod(y % p, n_inv_p, p), gmpy2.powmod(y % q, n_inv_q, q), p, q, q_inv)
        y_p, y_q = gmpy2.legendre(y, p), gmpy2.legendre(y, q)
        for a, b in ((0, 0), (1, 0), (0, 1), (1, 1)):
            sign = -1 if a else 1
            if sign * (w_p if b else 1) * y_p == 1 and sign * (w_q if b else 1) * y_q == 1:
                break
        twisted = (-y if a else y) * (w if b else 1) % n
        x = crt(gmpy2.powmod(twisted % p, quart_p, p), gmpy2.powmod(twisted % q, quart_q, q), p, q, q_inv)
        xs.append(x)
        zs.append(z)
        a_bits.append(a)
        b_bits.append(b)
    return {"v": WIRE_VERSION, "type": "mod", "w": encode_int(w), "x": encode_ints(xs),
            "a": encode_bits(a_bits), "b": encode_bits(b_bits), "z": encode_ints(zs)}


def verify_mod(n: int, proof: object, context: bytes) -> None:
    code = KEY_PROOF_INVALID
    n = mpz(n)
    fields = check_fields(proof, "mod", ("w", "x", "a", "b", "z"), code)
    if n < 15 or not n & 1 or gmpy2.is_prime(n, 40):
        raise ProofError(code, "N must be an odd composite number")
    w = decode_unit(fields["w"], n, "mod proof w", code)
    if gmpy2.jacobi(w, n) != -1:
        raise ProofError(code, "mod proof w must have Jacobi symbol -1")
    xs = decode_list(fields["x"], MOD_REPETITIONS, "mod proof x", code)
    zs = decode_list(fields["z"], MOD_REPETITIONS, "mod proof z", code)
    a_bits = decode_bits(fields["a"], MOD_REPETITIONS, "mod proof a", code)
    b_bits = decode_bits(fields["b"], MOD_REPETITIONS, "mod proof b", code)
    xs = [decode_unit(x, n, f"mod proof x[{i}]", code) for i, x in enumerate(xs)]
    zs = [decode_unit(z, n, f"mod proof z[{i}]", code) for i, z in enumerate(zs)]
    for i, y in enumerate(_challenges(n, w, context)):
        if gmpy2.powmod(zs[i], n, n) != y:
            raise ProofError(code, f"mod proof: z[{i}] is not an N-th root of its challenge")
        twisted = (-y if a_bits[i] else y) * (w if b_bits[i] else 1) % n
        if gmpy2.powmod(xs[i], 4, n) != twisted:
            raise ProofError(code, f"mod proof: x[{i}] is not a fourth root of its challenge")
