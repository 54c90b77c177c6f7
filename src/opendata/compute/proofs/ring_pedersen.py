"""Ring-Pedersen parameters (N^, s, t) and Pi^prm, the proof that s is in <t>.

The portal (the verifier of every key and range proof) generates N^ = P*Q from two safe
primes, t = tau^2 a random quadratic residue of order P'Q', and s = t^lambda. Provers commit
to secrets as s^x t^y mod N^: binding rests on the strong-RSA assumption for N^ and on the
prover not knowing lambda or the factors, hiding needs s in <t> -- which is what Pi^prm
(CGGMP21, Fig. "Pi^prm") proves to the clients, with m = 80 binary challenges: a cheating
portal passes with probability 2^-80.

Wire form (compact Fiat-Shamir): the proof carries the challenge bits e and responses z_i;
the verifier recomputes A_i = t^z_i * s^-e_i and checks e = H(context, N^, s, t, A_1..A_m).
This is the same check as the paper's (A_i, z_i) form, in half the bytes.

The portal keeps the factors (:class:`RingPedersenSecret`): with them it verifies the
N^-side equations of every proof by CRT. Knowing the trapdoor does not help a *verifier*
accept a false proof; it must never reach a prover.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gmpy2
from gmpy2 import mpz

from opendata.compute.proofs.arith import CrtPower, safe_prime, sample_unit
from opendata.compute.proofs.errors import PARAMETERS_INVALID, ProofError
from opendata.compute.proofs.transcript import Transcript
from opendata.compute.proofs.wire import (
    WIRE_VERSION,
    check_fields,
    decode_bits,
    decode_int,
    decode_list,
    encode_bits,
    encode_ints,
)

PRM_REPETITIONS = 80
DEFAULT_MIN_BITS = 2048
DEFAULT_MAX_BITS = 4096
_PRM_CONTEXT = b"ring-pedersen parameters"


@dataclass(frozen=True)
class RingPedersenSecret:
    """The factors of N^ (safe primes). Only the portal holds them."""

    p: int
    q: int


@dataclass(frozen=True)
class RingPedersenParams:
    n: int
    s: int
    t: int
    proof: dict
    secret: RingPedersenSecret | None = field(default=None, repr=False, compare=False)

    # --- serialisation ----------------------------------------------------------------------
    def to_json(self) -> dict:
        """The public form, to publish: never contains the factors."""
        return {"v": WIRE_VERSION, "type": "ring_pedersen", "n": str(self.n), "s": str(self.s),
                "t": str(self.t), "proof": self.proof}

    def to_private_json(self) -> dict:
        """Public form plus the factors, for the portal's own storage."""
        if self.secret is None:
            raise ProofError(PARAMETERS_INVALID, "these parameters carry no factors")
        return {**self.to_json(), "type": "ring_pedersen_private", "p": str(self.secret.p), "q": str(self.secret.q)}

    @classmethod
    def from_json(
        cls, data: Any, *, min_bits: int = DEFAULT_MIN_BITS, max_bits: int = DEFAULT_MAX_BITS
    ) -> RingPedersenParams:
        """Parse and verify Pi^prm; ProofError("parameters_invalid") on any defect."""
        fields = check_fields(data, "ring_pedersen", ("n", "s", "t", "proof"), PARAMETERS_INVALID)
        return cls._parse(fields, min_bits, max_bits, None)

    @classmethod
    def from_private_json(
        cls, data: Any, *, min_bits: int = DEFAULT_MIN_BITS, max_bits: int = DEFAULT_MAX_BITS
    ) -> RingPedersenParams:
        fields = check_fields(data, "ring_pedersen_private", ("n", "s", "t", "proof", "p", "q"), PARAMETERS_INVALID)
        n = decode_int(fields["n"], "n", PARAMETERS_INVALID, max_bits=max_bits)
        p = decode_int(fields["p"], "p", PARAMETERS_INVALID, max_bits=max_bits)
        q = decode_int(fields["q"], "q", PARAMETERS_INVALID, max_bits=max_bits)
        if p * q != n or p == q or not all(gmpy2.is_prime(x, 30) and gmpy2.is_prime((x - 1) // 2, 30) for x in (p, q)):
            raise ProofError(PARAMETERS_INVALID, "p and q must be distinct safe primes with p * q = n")
        return cls._parse(fields, min_bits, max_bits, RingPedersenSecret(int(p), int(q)))

    @classmethod
    def _parse(cls, fields: Mapping[str, Any], min_bits: int, max_bits: int, secret: RingPedersenSecret | None) -> RingPedersenParams:
        n = decode_int(fields["n"], "n", PARAMETERS_INVALID, max_bits=max_bits)
        if n.bit_length() < min_bits or not n & 1:
            raise ProofError(PARAMETERS_INVALID, f"n must be an odd modulus of at least {min_bits} bits")
        s = decode_int(fields["s"], "s", PARAMETERS_INVALID, max_bits=max_bits)
        t = decode_int(fields["t"], "t", PARAMETERS_INVALID, max_bits=max_bits)
        for name, x in (("s", s), ("t", t)):
            if not 1 < x < n - 1 or gmpy2.gcd(x, n) != 1:
                raise ProofError(PARAMETERS_INVALID, f"{name} must be a unit mod n other than 1 and -1")
        params = cls(int(n), int(s), int(t), fields["proof"], secret)
        verify_prm(params)
        return params

    # --- arithmetic -------------------------------------------------------------------------
    @functools.cached_property
    def _crt(self) -> CrtPower | None:
        return None if self.secret is None else CrtPower(self.secret.p, self.secret.q)

    def commit(self, x: int, y: int) -> mpz:
        """s^x t^y mod N^ for any integers x, y."""
        crt = self._crt
        if crt is not None:
            return crt.pow2(self.s, x, self.t, y)
        n = self.n
        return gmpy2.powmod(self.s, x, n) * gmpy2.powmod(self.t, y, n) % n

    def power2(self, b1: int, e1: int, b2: int, e2: int) -> mpz:
        """b1^e1 b2^e2 mod N^ (units b1, b2), by CRT when the factors are known."""
        crt = self._crt
        if crt is not None:
            return crt.pow2(b1, e1, b2, e2)
        n = self.n
        return gmpy2.powmod(b1, e1, n) * gmpy2.powmod(b2, e2, n) % n

    def absorb(self, transcript: Transcript) -> Transcript:
        return transcript.add("ring-pedersen", self.n, self.s, self.t)


def _prm_challenge(n: int, s: int, t: int, commitments: list[mpz]) -> list[int]:
    transcript = Transcript("prm", _PRM_CONTEXT).add("statement", n, s, t).add("A", *commitments)
    bits = transcript.challenge_bits("e", PRM_REPETITIONS)
    return [int(bits >> i) & 1 for i in range(PRM_REPETITIONS)]


def prove_prm(p: int, q: int, t: int, lam: int) -> dict:
    """Pi^prm for s = t^lam mod p*q (the prover knows the factors and lambda)."""
    p, q = mpz(p), mpz(q)
    n, phi = p * q, (p - 1) * (q - 1)
    crt = CrtPower(p, q)
    s = crt.pow(t, lam)
    nonces = [mpz(secrets.randbelow(int(phi))) for _ in range(PRM_REPETITIONS)]
    commitments = [crt.pow(t, a) for a in nonces]
    challenge = _prm_challenge(n, s, t, commitments)
    responses = [(a + e * lam) % phi for a, e in zip(nonces, challenge, strict=True)]
    return {"v": WIRE_VERSION, "type": "prm", "e": encode_bits(challenge), "z": encode_ints(responses)}


def verify_prm(params: RingPedersenParams) -> None:
    code = PARAMETERS_INVALID
    fields = check_fields(params.proof, "prm", ("e", "z"), code)
    n, s, t = mpz(params.n), mpz(params.s), mpz(params.t)
    challenge = decode_bits(fields["e"], PRM_REPETITIONS, "prm proof e", code)
    raw = decode_list(fields["z"], PRM_REPETITIONS, "prm proof z", code)
    responses = [decode_int(z, f"prm proof z[{i}]", code, max_bits=n.bit_length()) for i, z in enumerate(raw)]
    s_inverse = gmpy2.invert(s, n)
    commitments = [
        gmpy2.powmod(t, z, n) * s_inverse % n if e else gmpy2.powmod(t, z, n)
        for z, e in zip(responses, challenge, strict=True)
    ]
    if _prm_challenge(n, s, t, commitments) != challenge:
        raise ProofError(code, "ring-Pedersen parameters: the proof that s is in <t> does not verify")


def generate_ring_pedersen(bits: int = DEFAULT_MIN_BITS) -> RingPedersenParams:
    """Fresh parameters with their Pi^prm proof and the factors (seconds to a minute: two
    safe primes). Publish ``to_json()``; store ``to_private_json()`` privately."""
    if bits % 2 or bits < 1024:
        raise ValueError("bits must be even and at least 1024")
    while True:
        p, q = safe_prime(bits // 2), safe_prime(bits // 2)
        n = p * q
        if p != q and n.bit_length() == bits:
            break
    p_prime, q_prime = (p - 1) // 2, (q - 1) // 2
    while True:
        tau = sample_unit(n)
        t = tau * tau % n
        if gmpy2.gcd(t - 1, n) == 1:  # order p'q': t is neither 1 mod p nor 1 mod q
            break
    lam = mpz(secrets.randbelow(int(p_prime * q_prime - 1))) + 1
    proof = prove_prm(p, q, t, lam)
    s = CrtPower(p, q).pow(t, lam)
    return RingPedersenParams(int(n), int(s), int(t), proof, RingPedersenSecret(int(p), int(q)))
