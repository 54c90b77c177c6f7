"""Proven inputs (issue 9): the bounds every encrypted input must be range-proved in, the
check of those proofs, and the blinding that makes a decision reveal only its side.

Every ciphertext an enterprise sends -- a claim, an encrypted weight, the bias, a threshold --
carries a Pi^enc range proof (compute/proofs/ranges.py) that its plaintext k has
|k| < 2^bound; a valid proof guarantees |k| <= 2^(bound + 385) (the slack of the proof).

* Claims: bound ``CLAIM_BOUND_BITS`` = 256, so |claim| <= 2^641. For a proven key N = p*q
  with both primes above 2^383 (Pi^fac), the result r*(claim - x) mod N is zero modulo q
  only if claim = x exactly, and zero modulo p only if x = claim mod p: for every stored
  value |x| < 2^256 that is *one* candidate value per claim (no CRT double guess, no read
  modulo small factors).
* Model inputs: |w_i| < 2^weight_bits (at most ``MAX_WEIGHT_BITS``), |b|, |t| < 2^bias_bits
  (at most ``MAX_BIAS_BITS``). These bounds are what keeps w.x + b - t far below N, which is
  what makes the blinding below sound.

Proofs are checked in the compute worker processes (``check_proofs``), batched per request
(one N-th power per batch, ranges.verify_ranges): the event loop and the database session
never wait on them.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gmpy2
from gmpy2 import mpz

from opendata.compute import ComputeError
from opendata.compute.multiexp import DEFAULT_EXPONENT_BITS as FEATURE_VALUE_BITS  # |x| < 2^64, enforced when scoring
from opendata.compute.multiexp import straus_multiexp
from opendata.compute.paillier import random_unit
from opendata.compute.proofs import ProofError, RingPedersenParams, guaranteed_bound_bits, verify_ranges

CLAIM_BOUND_BITS = 256
MAX_WEIGHT_BITS = 64
MAX_BIAS_BITS = 128
MAX_THRESHOLDS = 8
# Results must decrypt to |v| < N/8: the key holder reads a residue below N/2 as >= 0.
_HEADROOM_BITS = 5

ProofItem = tuple[str, Any, int]  # (ciphertext, proof, bound_bits)


def check_proofs(n: int, items: Sequence[ProofItem], params: RingPedersenParams, context: bytes,
                 names: Sequence[str]) -> None:
    """Raise ComputeError("range_proof_invalid", naming the input) unless every item's
    proof verifies for its ciphertext and bound under key ``n`` and ``context``."""
    if len(items) != len(names):
        raise ValueError("one name per proof item")
    try:
        verify_ranges(n, [(int(c), proof, bits) for c, proof, bits in items], params, context)
    except ProofError as error:
        where = names[error.index] if error.index is not None else "an input"
        message = str(error).split(": ", 1)[-1] if error.index is not None else str(error)
        # A plain ComputeError: it crosses the process boundary (ProofError does not pickle).
        raise ComputeError(f"the range proof of {where} does not verify: {message}",
                           code="range_proof_invalid") from None


def score_bound_bits(features: int, weight_bits: int, bias_bits: int) -> int:
    """D with |w.x + b - t| < 2^D for every input that passed its range proof."""
    weights = guaranteed_bound_bits(weight_bits) + FEATURE_VALUE_BITS + max(1, features - 1).bit_length()
    return max(weights, guaranteed_bound_bits(bias_bits) + 1) + 1


def blinding_exponent_bits(n_bits: int, features: int, weight_bits: int, bias_bits: int) -> int:
    """e_max: rho is drawn in [2^e, 2^(e+1)) with e uniform in [0, e_max], so that
    |rho * d + rho'| < 2^(e_max + D + 2) stays below N / 2^HEADROOM."""
    e_max = n_bits - score_bound_bits(features, weight_bits, bias_bits) - 2 - _HEADROOM_BITS
    if e_max < 256:
        raise ComputeError("the declared bounds leave no room to blind a decision under this key",
                           code="bounds_too_large")
    return e_max


def leakage_bits(n_bits: int, features: int, weight_bits: int, bias_bits: int, thresholds: int) -> float:
    """Upper bound on what one result tells about one subject, in bits: the side of each
    threshold (log2(k + 1) for k thresholds: only the band is learnt) plus, per threshold,
    what the bit length of rho*d + rho' says about the bit length of d:
    log2((e_max + 1 + D + 2) / (e_max + 1)) (e uniform over e_max + 1 values)."""
    e_max = blinding_exponent_bits(n_bits, features, weight_bits, bias_bits)
    d = score_bound_bits(features, weight_bits, bias_bits)
    return math.log2(thresholds + 1) + thresholds * math.log2((e_max + 1 + d + 2) / (e_max + 1))


def blind(n: mpz, n_squared: mpz, difference: mpz, e_max: int, obfuscator: mpz | None) -> mpz:
    """Enc(rho * d + rho') * s^N from Enc(d): the sign of d survives (rho > rho' >= 0, so d >= 0
    gives >= 0 and d <= -1 gives < 0), its magnitude is blurred by rho's random bit length
    and its low digits by rho'. ``obfuscator`` None: none was ready, so u^N is computed here,
    sharing its squarings with the rho-th power (Straus)."""
    e = secrets.randbelow(e_max + 1)
    rho = (mpz(1) << e) | mpz(secrets.randbits(e)) if e else mpz(1)
    rho_prime = mpz(secrets.randbelow(int(rho)))
    if obfuscator is None:
        masked = straus_multiexp([difference, random_unit(n)], [rho, n], n_squared, exponent_bits=n.bit_length())
        return masked * (1 + rho_prime * n) % n_squared
    blinded = gmpy2.powmod(difference, rho, n_squared)
    return blinded * (1 + rho_prime * n) % n_squared * obfuscator % n_squared


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The range proofs of one request, checked by the worker before any arithmetic on them."""

    params: RingPedersenParams
    context: bytes
    items: Sequence[ProofItem]
    names: Sequence[str]

    def run(self, n: int) -> None:
        check_proofs(n, self.items, self.params, self.context, self.names)


@dataclass(frozen=True, slots=True)
class Blinding:
    """Decision / banded output: for each row's Enc(s), and each threshold t_j, the blinded
    Enc(rho_j * (s - t_j) + rho_j') * s_j^N, each with its own rho and obfuscator; a row's
    results are shuffled, so a band is only a count. ``inverse_thresholds``: Enc(t_j)^-1."""

    inverse_thresholds: tuple[int, ...]
    e_max: int

    @classmethod
    def for_model(cls, n: int, enc_thresholds: Sequence[str], features: int, weight_bits: int,
                  bias_bits: int) -> Blinding:
        n = mpz(n)
        n_squared = n * n
        return cls(tuple(int(gmpy2.invert(mpz(c), n_squared)) for c in enc_thresholds),
                   blinding_exponent_bits(n.bit_length(), features, weight_bits, bias_bits))

    @property
    def per_row(self) -> int:
        return len(self.inverse_thresholds)

    def apply(self, n: mpz, n_squared: mpz, sums: Sequence[mpz], masks: Sequence[mpz | None]) -> list[list[int]]:
        k = self.per_row
        shuffle = secrets.SystemRandom().shuffle
        out = []
        for i, total in enumerate(sums):
            row = [int(blind(n, n_squared, total * mpz(inverse) % n_squared, self.e_max, masks[i * k + j]))
                   for j, inverse in enumerate(self.inverse_thresholds)]
            shuffle(row)
            out.append(row)
        return out
