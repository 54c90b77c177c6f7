"""Pi^enc: a Paillier ciphertext encrypts a small integer (CGGMP21, Fig. "Paillier
Encryption in Range ZK"), single and batched verification, and rho recovery.

Statement: K = (1 + N)^k rho^N mod N^2 with |k| < 2^l, l = ``bound_bits`` chosen by the
caller (the bound the field or model declares). One Sigma-protocol with a 256-bit challenge:
S = s^k t^mu, A = (1 + N)^alpha r^N, C = s^alpha t^gamma; z1 = alpha + e k,
z2 = r rho^e mod N, z3 = gamma + e mu; checks |z1| <= 2^(l+eps),
(1 + N)^z1 z2^N = A K^e mod N^2 and s^z1 t^z3 = C S^e mod N^.

**What the verifier may assume** (``guaranteed_bound_bits``): K decrypts to an integer k
with |k| <= 2^(l + eps + 1), eps = 384. Honest provers need |k| < 2^l; the gap is the
slack (eps + 1 = 385 bits): it is what lets alpha hide e*k (2^-128 statistical
zero-knowledge for a 256-bit e). Soundness: extraction from two challenges gives
k = dz1/de by strong RSA for N^, with gcd(de, N) = 1 because Pi^fac proved N's factors
exceed 2^256 -- so a range proof means something only for a key whose key proof verified.
Error: 2^-256 per challenge plus the strong-RSA advantage (far below 2^-80).

Batching (``verify_ranges``): the verifier draws secret 128-bit lambda_j and checks the two
random linear combinations of the items' equations: one N-th power per batch instead of one
per item. A batch with a bad item passes with probability <= 2^-128 per call, except for
deviations of order < 2^128: for a proven key those are N-th residues mod N^2 (so an item
that passes with one is an exactly valid proof with another z2) and +-1 mod N^ (which the
extraction absorbs by squaring): the guarantee above is unchanged. On failure each item is
re-checked exactly to name the bad one.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, NamedTuple

import gmpy2
from gmpy2 import mpz

from opendata.compute.proofs.arith import CrtPower, embed, multiexp, sample_signed, sample_unit
from opendata.compute.proofs.errors import RANGE_PROOF_INVALID, ProofError
from opendata.compute.proofs.ring_pedersen import RingPedersenParams
from opendata.compute.proofs.transcript import Transcript
from opendata.compute.proofs.wire import WIRE_VERSION, check_fields, decode_int, decode_unit, encode_int

ENC_EPSILON = 384
CHALLENGE_BITS = 256
RANGE_SLACK_BITS = ENC_EPSILON + 1
BATCH_BITS = 128
# mu and gamma hide k in s^k t^mu; their range needs 128 bits of its own even for tiny bounds.
_MIN_MASK_BITS = 128
_CODE = RANGE_PROOF_INVALID


def guaranteed_bound_bits(bound_bits: int) -> int:
    """A valid proof for ``bound_bits`` guarantees |plaintext| <= 2^(this)."""
    return bound_bits + RANGE_SLACK_BITS


def max_bound_bits(n_bits: int) -> int:
    """Largest bound a proof under an n_bits-bit key may claim (the guarantee must stay
    far enough below N/2 for the signed reading of a residue to be unambiguous)."""
    return n_bits - RANGE_SLACK_BITS - 2


def _check_bound(bound_bits: Any, n: mpz) -> int:
    if type(bound_bits) is not int or not 1 <= bound_bits <= max_bound_bits(n.bit_length()):
        raise ProofError(_CODE, f"bound_bits must be an integer in [1, {max_bound_bits(n.bit_length())}]")
    return bound_bits


def _check_ciphertext(n: mpz, n_squared: mpz, ciphertext: Any) -> mpz:
    if isinstance(ciphertext, bool) or not isinstance(ciphertext, int | type(n)):
        raise ProofError(_CODE, "ciphertext must be an integer")
    c = mpz(ciphertext)
    if not 0 < c < n_squared or gmpy2.gcd(c, n) != 1:
        raise ProofError(_CODE, "ciphertext must be a unit modulo N^2")
    return c


def _challenge(n: mpz, c: mpz, bound_bits: int, params: RingPedersenParams, commitments: Sequence[int], context: bytes) -> mpz:
    transcript = Transcript("enc", context).add("statement", n, c, bound_bits)
    return params.absorb(transcript).add("commitments", *commitments).challenge_bits("e", CHALLENGE_BITS)


def _bounds(bound_bits: int, n_hat: int) -> tuple[mpz, mpz, mpz, mpz]:
    """(alpha/z1 bound, mu bound, gamma bound, z3 bound)."""
    mask_bits = max(bound_bits, _MIN_MASK_BITS)
    alpha = mpz(1) << (bound_bits + ENC_EPSILON)
    mu = (mpz(1) << mask_bits) * n_hat
    gamma = (mpz(1) << (mask_bits + ENC_EPSILON)) * n_hat
    return alpha, mu, gamma, 2 * gamma


def signed_plaintext(plaintext: int, n: int) -> mpz:
    """A residue in [0, N) or a signed integer in (-N/2, N/2], as the signed integer."""
    k, n = mpz(plaintext), mpz(n)
    if 0 <= k < n and k > n // 2:
        return k - n
    return k


def prove_range(
    n: int, ciphertext: int, plaintext: int, randomness: int, bound_bits: int, params: RingPedersenParams,
    context: bytes, *, factors: tuple[int, int] | None = None,
) -> dict:
    """Pi^enc for K = ``ciphertext`` = (1+N)^k rho^N mod N^2, |k| < 2^bound_bits.

    ``plaintext`` may be signed or the residue N - |k|; ``randomness`` is rho (see
    :func:`randomness_of`). ``factors`` (p, q), if the prover has them, make the N-th powers
    CRT-fast. Refuses (ProofError) a claim it cannot truthfully prove.
    """
    n = mpz(n)
    n_squared = n * n
    bound_bits = _check_bound(bound_bits, n)
    c = _check_ciphertext(n, n_squared, ciphertext)
    k = signed_plaintext(plaintext, n)
    if abs(k) >> bound_bits:
        raise ProofError(_CODE, f"plaintext is outside +-2^{bound_bits}")
    rho = mpz(randomness)
    if not 0 < rho < n or gmpy2.gcd(rho, n) != 1:
        raise ProofError(_CODE, "randomness must be a unit modulo N")
    nth_power = _nth_power_function(n, n_squared, factors)
    if embed(k, n, n_squared) * nth_power(rho) % n_squared != c:
        raise ProofError(_CODE, "ciphertext is not (1+N)^plaintext * randomness^N mod N^2")
    for _ in range(16):  # |z1| exceeds its bound with probability < 2^-128: retry
        proof, in_range = range_attempt(n, c, k, rho, bound_bits, params, context, nth_power)
        if in_range:
            return proof
    raise ProofError(_CODE, "could not produce an in-range proof")


def range_attempt(n: mpz, c: mpz, k: mpz, rho: mpz, bound_bits: int, params: RingPedersenParams,
                  context: bytes, nth_power=None) -> tuple[dict, bool]:
    """One run of the prover's algorithm, unchecked: (proof, whether z1 and z3 are in range)."""
    n_squared = n * n
    nth_power = nth_power or _nth_power_function(n, n_squared, None)
    alpha_bound, mu_bound, gamma_bound, z3_bound = _bounds(bound_bits, params.n)
    alpha, mu, gamma = sample_signed(alpha_bound), sample_signed(mu_bound), sample_signed(gamma_bound)
    r = sample_unit(n)
    commitments = (params.commit(k, mu), embed(alpha, n, n_squared) * nth_power(r) % n_squared,
                   params.commit(alpha, gamma))
    e = _challenge(n, c, bound_bits, params, commitments, context)
    z1, z2, z3 = alpha + e * k, r * gmpy2.powmod(rho, e, n) % n, gamma + e * mu
    proof = {"v": WIRE_VERSION, "type": "enc"}
    proof.update(zip(("S", "A", "C"), map(encode_int, commitments), strict=True))
    proof.update(z1=encode_int(z1), z2=encode_int(z2), z3=encode_int(z3))
    return proof, abs(z1) <= alpha_bound and abs(z3) <= z3_bound


def _nth_power_function(n: mpz, n_squared: mpz, factors: tuple[int, int] | None):
    if factors is None:
        return lambda x: gmpy2.powmod(x, n, n_squared)
    p, q = mpz(factors[0]), mpz(factors[1])
    if p * q != n:
        raise ProofError(_CODE, "factors do not multiply to N")
    crt = CrtPower(p * p, q * q)

    def power(x: mpz) -> mpz:
        p2, q2 = crt.p, crt.q
        return crt.pow_parts(gmpy2.powmod(x % p2, n, p2), gmpy2.powmod(x % q2, n, q2))

    return power


class _Parsed(NamedTuple):
    c: mpz
    bound_bits: int
    s: mpz
    a: mpz
    commit_c: mpz
    z1: mpz
    z2: mpz
    z3: mpz
    e: mpz


def _parse(n: mpz, n_squared: mpz, ciphertext: Any, proof: Any, bound_bits: Any,
           params: RingPedersenParams, context: bytes, where: str) -> _Parsed:
    bound_bits = _check_bound(bound_bits, n)
    c = _check_ciphertext(n, n_squared, ciphertext)
    fields = check_fields(proof, "enc", ("S", "A", "C", "z1", "z2", "z3"), _CODE)
    n_hat = mpz(params.n)
    s = decode_unit(fields["S"], n_hat, f"{where}S", _CODE)
    a = decode_unit(fields["A"], n_squared, f"{where}A", _CODE)
    commit_c = decode_unit(fields["C"], n_hat, f"{where}C", _CODE)
    alpha_bound, _, _, z3_bound = _bounds(bound_bits, n_hat)
    z1 = decode_int(fields["z1"], f"{where}z1", _CODE, max_bits=alpha_bound.bit_length(), signed=True)
    if abs(z1) > alpha_bound:
        raise ProofError(_CODE, f"{where}z1 is out of range: the plaintext exceeds the bound")
    z2 = decode_unit(fields["z2"], n, f"{where}z2", _CODE)
    z3 = decode_int(fields["z3"], f"{where}z3", _CODE, max_bits=z3_bound.bit_length(), signed=True)
    if abs(z3) > z3_bound:
        raise ProofError(_CODE, f"{where}z3 is out of range")
    e = _challenge(n, c, bound_bits, params, (s, a, commit_c), context)
    return _Parsed(c, bound_bits, s, a, commit_c, z1, z2, z3, e)


def _check_one(n: mpz, n_squared: mpz, item: _Parsed, params: RingPedersenParams, where: str) -> None:
    left = embed(item.z1, n, n_squared) * gmpy2.powmod(item.z2, n, n_squared) % n_squared
    if left != item.a * gmpy2.powmod(item.c, item.e, n_squared) % n_squared:
        raise ProofError(_CODE, f"{where}the Paillier equation does not verify (wrong ciphertext or plaintext)")
    if params.commit(item.z1, item.z3) != item.commit_c * params.power2(item.s, item.e, params.s, 0) % params.n:
        raise ProofError(_CODE, f"{where}the ring-Pedersen equation does not verify")


def verify_range(n: int, ciphertext: int, proof: Any, bound_bits: int, params: RingPedersenParams, context: bytes) -> None:
    """Raises ProofError("range_proof_invalid", ...) unless ``proof`` shows ``ciphertext``
    decrypts to k with |k| <= 2^(bound_bits + 385) (see guaranteed_bound_bits)."""
    n = mpz(n)
    n_squared = n * n
    item = _parse(n, n_squared, ciphertext, proof, bound_bits, params, context, "range proof ")
    _check_one(n, n_squared, item, params, "range proof: ")


def verify_ranges(n: int, items: Sequence[tuple[int, dict, int]], params: RingPedersenParams, context: bytes) -> None:
    """Verify many (ciphertext, proof, bound_bits) under one key at once; raises ProofError
    naming the first bad item (``error.index``) if any is invalid."""
    n = mpz(n)
    n_squared = n * n
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ProofError(_CODE, "items must be a sequence of (ciphertext, proof, bound_bits)")
    parsed = []
    for index, entry in enumerate(items):
        where = f"item {index}: "
        if not isinstance(entry, tuple | list) or len(entry) != 3:
            raise ProofError(_CODE, f"{where}expected (ciphertext, proof, bound_bits)", index=index)
        try:
            parsed.append(_parse(n, n_squared, *entry, params, context, where))
        except ProofError as error:
            raise ProofError(_CODE, str(error), index=index) from None
    if len(parsed) <= 1:
        for item in parsed:
            _check_one_indexed(n, n_squared, item, params, 0)
        return
    lambdas = [mpz(secrets.randbits(BATCH_BITS)) + 1 for _ in parsed]
    z1_sum = sum(lam * item.z1 for lam, item in zip(lambdas, parsed, strict=True))
    z3_sum = sum(lam * item.z3 for lam, item in zip(lambdas, parsed, strict=True))
    z2_product = multiexp([item.z2 for item in parsed], lambdas, n_squared)
    left = embed(z1_sum, n, n_squared) * gmpy2.powmod(z2_product, n, n_squared) % n_squared
    right = multiexp([item.a for item in parsed] + [item.c for item in parsed],
                     lambdas + [lam * item.e for lam, item in zip(lambdas, parsed, strict=True)], n_squared)
    n_hat = mpz(params.n)
    pedersen_ok = params.commit(z1_sum, z3_sum) == multiexp(
        [item.commit_c for item in parsed] + [item.s for item in parsed],
        lambdas + [lam * item.e for lam, item in zip(lambdas, parsed, strict=True)], n_hat)
    if left == right and pedersen_ok:
        return
    for index, item in enumerate(parsed):  # name the culprit; only paid on failure
        _check_one_indexed(n, n_squared, item, params, index)
    raise ProofError(_CODE, "batch of range proofs does not verify")  # unreachable in theory


def _check_one_indexed(n: mpz, n_squared: mpz, item: _Parsed, params: RingPedersenParams, index: int) -> None:
    try:
        _check_one(n, n_squared, item, params, f"item {index}: ")
    except ProofError as error:
        raise ProofError(_CODE, str(error), index=index) from None


def randomness_of(p: int, q: int, ciphertext: int) -> int:
    """rho with ciphertext = (1+N)^k rho^N mod N^2, for the key holder (knows p and q).

    ciphertext = rho^N mod N, so rho = ciphertext^(N^-1 mod phi(N)) mod N, by CRT. Works for
    every ciphertext the holder can decrypt, DJN short-exponent ones included.
    """
    p, q = mpz(p), mpz(q)
    n = p * q
    c = _check_ciphertext(n, n * n, ciphertext)
    crt = CrtPower(p, q)
    return int(crt.pow_parts(gmpy2.powmod(c % p, gmpy2.invert(n, p - 1), p),
                             gmpy2.powmod(c % q, gmpy2.invert(n, q - 1), q)))
