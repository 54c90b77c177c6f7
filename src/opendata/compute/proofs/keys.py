"""The key proof: Pi^mod and Pi^fac for one Paillier modulus, as one JSON bundle.

Together they show that N = p*q is a Paillier-Blum modulus (two primes = 3 mod 4,
gcd(N, phi(N)) = 1) whose prime factors both exceed sqrt(N) / 2^641 (>= 2^383 at 2048 bits):
no extra prime factors, no square factors, no small factors -- the malformed keys of issue 9.
"""

from __future__ import annotations

from typing import Any

from gmpy2 import mpz

from opendata.compute.proofs.errors import KEY_PROOF_INVALID, ProofError
from opendata.compute.proofs.factors import prove_fac, verify_fac
from opendata.compute.proofs.modulus import check_blum_factors, prove_mod, verify_mod
from opendata.compute.proofs.ring_pedersen import RingPedersenParams
from opendata.compute.proofs.wire import WIRE_VERSION, check_fields

MAX_MODULUS_BITS = 8192


def prove_key(p: int, q: int, params: RingPedersenParams, context: bytes) -> dict:
    """Pi^mod + Pi^fac for N = p*q, bound to ``context`` (see proof_context)."""
    p, q = check_blum_factors(p, q)
    return {"v": WIRE_VERSION, "type": "key", "mod": prove_mod(p, q, context), "fac": prove_fac(p, q, params, context)}


def verify_key(n: int, proof: Any, params: RingPedersenParams, context: bytes) -> None:
    """Raises ProofError("key_proof_invalid", ...) unless ``proof`` proves ``n`` well formed
    for this ``context``."""
    if isinstance(n, bool) or not isinstance(n, int | type(mpz(0))) or not 0 < n < (mpz(1) << MAX_MODULUS_BITS):
        raise ProofError(KEY_PROOF_INVALID, f"n must be a positive integer of at most {MAX_MODULUS_BITS} bits")
    fields = check_fields(proof, "key", ("mod", "fac"), KEY_PROOF_INVALID)
    verify_mod(n, fields["mod"], context)  # cheaper checks first: ~0.25 s at 2048 bits
    verify_fac(n, fields["fac"], params, context)
