"""Shared fixtures: the committed 2048-bit ring-Pedersen parameters (generated once with
generate_ring_pedersen; its factors are test material, never a deployment's) and one
2048-bit Paillier-Blum key per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendata.compute.keyholder import KeyHolder
from opendata.compute.paillier import PrivateKey, PublicKey
from opendata.compute.proofs import RingPedersenParams, generate_blum_primes, proof_context

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def portal_params() -> RingPedersenParams:
    """The portal's view: parameters with their factors (verifies by CRT)."""
    return RingPedersenParams.from_private_json(json.loads((FIXTURES / "ring_pedersen_2048.json").read_text()))


@pytest.fixture(scope="session")
def client_params(portal_params) -> RingPedersenParams:
    """The client's view: the published form, Pi^prm verified on parsing."""
    return RingPedersenParams.from_json(portal_params.to_json())


@pytest.fixture(scope="session")
def blum_key() -> tuple[int, int]:
    p, q = generate_blum_primes(2048)
    return int(p), int(q)


@pytest.fixture(scope="session")
def holder(blum_key) -> KeyHolder:
    p, q = blum_key
    return KeyHolder(PrivateKey(PublicKey(p * q), p, q))


@pytest.fixture(scope="session")
def context() -> bytes:
    return proof_context("https://portal.example", "org-7", "kid-1", "key-registration")
