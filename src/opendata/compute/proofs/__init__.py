"""Zero-knowledge proofs for the compute service (issue 9): proven keys and proven inputs.

After Canetti, Gennaro, Goldfeder, Makriyannis, Peled, "UC Non-Interactive, Proactive,
Threshold ECDSA with Identifiable Aborts" (CCS 2020; ePrint 2021/060, revised 2024 as
"CGGMP24"), made non-interactive with Fiat-Shamir over SHAKE-256 (transcript.py):

- ``ring_pedersen``  the portal's parameters (N^, s, t) and Pi^prm (s in <t>), m = 80
- ``modulus``        Pi^mod, Paillier-Blum modulus, m = 80
- ``factors``        Pi^fac, no small factor (both > sqrt(N)/2^641)
- ``keys``           prove_key / verify_key: Pi^mod + Pi^fac bundle
- ``ranges``         Pi^enc range proofs, batched verification, rho recovery
- ``onehot``         Pi^onehot: a vector encrypts 0/1 entries adding up to 1 (hidden query)

Pure computation (gmpy2), no web, no database. Parameters, soundness levels and guarantees:
docs/security/proofs.md.
"""

from __future__ import annotations

from opendata.compute.proofs.arith import generate_blum_primes
from opendata.compute.proofs.errors import (
    KEY_PROOF_INVALID,
    PARAMETERS_INVALID,
    RANGE_PROOF_INVALID,
    SELECTION_PROOF_INVALID,
    ProofError,
)
from opendata.compute.proofs.factors import factor_lower_bound_bits
from opendata.compute.proofs.keys import prove_key, verify_key
from opendata.compute.proofs.onehot import Randomizer, encrypt_bits, prove_one_hot, verify_one_hot
from opendata.compute.proofs.ranges import (
    RANGE_SLACK_BITS,
    guaranteed_bound_bits,
    max_bound_bits,
    prove_range,
    randomness_of,
    verify_range,
    verify_ranges,
)
from opendata.compute.proofs.ring_pedersen import (
    RingPedersenParams,
    RingPedersenSecret,
    generate_ring_pedersen,
)
from opendata.compute.proofs.transcript import proof_context

__all__ = [
    "KEY_PROOF_INVALID",
    "PARAMETERS_INVALID",
    "RANGE_PROOF_INVALID",
    "RANGE_SLACK_BITS",
    "SELECTION_PROOF_INVALID",
    "Randomizer",
    "encrypt_bits",
    "prove_one_hot",
    "verify_one_hot",
    "ProofError",
    "RingPedersenParams",
    "RingPedersenSecret",
    "factor_lower_bound_bits",
    "generate_blum_primes",
    "generate_ring_pedersen",
    "guaranteed_bound_bits",
    "max_bound_bits",
    "proof_context",
    "prove_key",
    "prove_range",
    "randomness_of",
    "verify_key",
    "verify_range",
    "verify_ranges",
]
