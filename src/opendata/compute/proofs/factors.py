"""Pi^fac: no small factor (CGGMP21 revised 2024, Fig. "No small factor proof").

Statement: N0 = p*q with p, q < 2^(l+eps) * sqrt(N0). The prover commits P = s^p t^mu and
Q = s^q t^nu with the portal's ring-Pedersen parameters and shows, in one Sigma-protocol with
a 256-bit challenge e, that it knows the openings, that P^q (re-committed) opens to N0 and
that |p|, |q| <= 2^(l+eps) sqrt(N0) (the range check on z1, z2). Extraction (two challenges,
strong RSA for N^) gives integers p, q with p*q = N0 and |p|, |q| <= 2^(l+eps+1) sqrt(N0),
hence each factor >= sqrt(N0) / 2^(l+eps+1): >= 2^383 for a 2048-bit N0, >= 2^895 for 3072.

Parameters: l = 256 (the paper's), eps = 384 (the paper takes 2l = 512; 384 = challenge
bits + 128 gives 2^-128 statistical zero-knowledge and a tighter factor bound). Soundness
error: 2^-256 per challenge plus the strong-RSA advantage against N^ -- far below 2^-80.
The 2024 revision drops the paper's sigma (R = s^N0, v = r - e*nu*p).
"""

from __future__ import annotations

import gmpy2
from gmpy2 import mpz

from opendata.compute.proofs.arith import sample_signed
from opendata.compute.proofs.errors import KEY_PROOF_INVALID, ProofError
from opendata.compute.proofs.ring_pedersen import RingPedersenParams
from opendata.compute.proofs.transcript import Transcript
from opendata.compute.proofs.wire import WIRE_VERSION, check_fields, decode_int, decode_unit, encode_int

FAC_L = 256
FAC_EPSILON = 384
CHALLENGE_BITS = 256
_COMMITMENTS = ("P", "Q", "A", "B", "T")
# The paper's response v travels as "v_": "v" is the wire version field of every proof.
_RESPONSES = ("z1", "z2", "w1", "w2", "v_")


def factor_lower_bound_bits(n_bits: int) -> int:
    """A valid Pi^fac proves every prime factor of an n_bits-bit N0 is >= 2^this."""
    return (n_bits - 1) // 2 - FAC_L - FAC_EPSILON - 1


def _challenge(n0: int, params: RingPedersenParams, commitments: list[mpz], context: bytes) -> mpz:
    transcript = params.absorb(Transcript("fac", context).add("N0", n0)).add("commitments", *commitments)
    return transcript.challenge_bits("e", CHALLENGE_BITS)


def prove_fac(p: int, q: int, params: RingPedersenParams, context: bytes) -> dict:
    """Pi^fac for N0 = p*q; refuses a key whose factors are too unbalanced to prove."""
    p, q = mpz(p), mpz(q)
    reach = FAC_L + FAC_EPSILON + gmpy2.isqrt(p * q).bit_length()
    if max(p, q).bit_length() + CHALLENGE_BITS + 2 > reach:
        raise ProofError(KEY_PROOF_INVALID, "a prime factor is too small (the other too large) for Pi^fac")
    for _ in range(16):  # a range check fails for an honest prover with probability < 2^-128
        proof, in_range = fac_attempt(p, q, params, context)
        if in_range:
            return proof
    raise ProofError(KEY_PROOF_INVALID, "Pi^fac: could not produce an in-range proof")


def fac_attempt(p: mpz, q: mpz, params: RingPedersenParams, context: bytes) -> tuple[dict, bool]:
    """One run of the prover's algorithm, unchecked: (proof, whether it passes the range checks)."""
    n0, n_hat = p * q, mpz(params.n)
    root = gmpy2.isqrt(n0)
    big = mpz(1) << (FAC_L + FAC_EPSILON)
    z_bound, w_bound, v_bound = big * root, 2 * big * n_hat, 2 * big * n0 * n_hat
    alpha, beta = sample_signed(big * root), sample_signed(big * root)
    mu, nu = sample_signed((mpz(1) << FAC_L) * n_hat), sample_signed((mpz(1) << FAC_L) * n_hat)
    r = sample_signed(big * n0 * n_hat)
    x, y = sample_signed(big * n_hat), sample_signed(big * n_hat)
    big_q = params.commit(q, nu)
    commitments = [params.commit(p, mu), big_q, params.commit(alpha, x), params.commit(beta, y),
                   params.power2(big_q, alpha, params.t, r)]
    e = _challenge(n0, params, commitments, context)
    z1, z2, w1, w2, v = alpha + e * p, beta + e * q, x + e * mu, y + e * nu, r - e * nu * p
    in_range = max(abs(z1), abs(z2)) <= z_bound and max(abs(w1), abs(w2)) <= w_bound and abs(v) <= v_bound
    proof = {"v": WIRE_VERSION, "type": "fac"}
    proof.update({name: encode_int(c) for name, c in zip(_COMMITMENTS, commitments, strict=True)})
    proof.update({name: encode_int(x) for name, x in zip(_RESPONSES, (z1, z2, w1, w2, v), strict=True)})
    return proof, in_range


def verify_fac(n0: int, proof: object, params: RingPedersenParams, context: bytes) -> None:
    code = KEY_PROOF_INVALID
    n0, n_hat = mpz(n0), mpz(params.n)
    if factor_lower_bound_bits(n0.bit_length()) < FAC_L:
        raise ProofError(code, f"N0 is too short for Pi^fac to prove factors above 2^{FAC_L}")
    fields = check_fields(proof, "fac", _COMMITMENTS + _RESPONSES, code)
    big_p, big_q, a, b, t_commit = (decode_unit(fields[k], n_hat, f"fac proof {k}", code) for k in _COMMITMENTS)
    root = gmpy2.isqrt(n0)
    big = mpz(1) << (FAC_L + FAC_EPSILON)
    bounds = {"z1": big * root, "z2": big * root, "w1": 2 * big * n_hat, "w2": 2 * big * n_hat, "v_": 2 * big * n0 * n_hat}
    values = {}
    for name, bound in bounds.items():
        value = decode_int(fields[name], f"fac proof {name}", code, max_bits=bound.bit_length(), signed=True)
        if abs(value) > bound:
            raise ProofError(code, f"fac proof {name} is out of range (a factor is too small)")
        values[name] = value
    e = _challenge(n0, params, [big_p, big_q, a, b, t_commit], context)
    if params.commit(values["z1"], values["w1"]) != a * params.power2(big_p, e, params.s, 0) % n_hat:
        raise ProofError(code, "fac proof: the opening of P does not verify")
    if params.commit(values["z2"], values["w2"]) != b * params.power2(big_q, e, params.s, 0) % n_hat:
        raise ProofError(code, "fac proof: the opening of Q does not verify")
    if params.power2(big_q, values["z1"], params.t, values["v_"]) != t_commit * params.commit(n0 * e, 0) % n_hat:
        raise ProofError(code, "fac proof: the factors do not multiply to N0")
