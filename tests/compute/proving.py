"""The key holder's side of proofs, for the API tests: the portal's published parameters,
the context of each registered key (portal and organisation, as GET /api/v1/compute/parameters
says), and proved ciphertexts -- what the SDK does, spelled out."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from opendata.compute.keyholder import KeyHolder
from opendata.compute.proofs import RingPedersenParams, proof_context

FIXTURE = Path(__file__).parent / "proofs" / "fixtures" / "ring_pedersen_2048.json"
PARAMETERS = "/api/v1/compute/parameters"
CLAIM_BITS = 256

# kid -> (portal, organisation) learnt when the key was registered.
_contexts: dict[str, tuple[str, str]] = {}


@functools.cache
def published_params() -> RingPedersenParams:
    """The client's view of the portal's parameters (Pi^prm verified once)."""
    private = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return RingPedersenParams.from_json(RingPedersenParams.from_private_json(private).to_json())


def learn_context(client: TestClient, headers: dict[str, str], key: KeyHolder) -> dict[str, Any]:
    answer = client.get(PARAMETERS, headers=headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert RingPedersenParams.from_json(data["ring_pedersen"]) == published_params()
    _contexts[key.public_key.key_id] = (data["portal"], data["organisation"])
    return data


def context(key: KeyHolder, purpose: str) -> bytes:
    portal, organisation = _contexts[key.public_key.key_id]
    return proof_context(portal, organisation, key.public_key.key_id, purpose)


def key_registration(client: TestClient, headers: dict[str, str], key: KeyHolder) -> dict[str, Any]:
    """The body of POST /api/v1/compute/keys: the public key and its proof."""
    learn_context(client, headers, key)
    proof = key.prove_key(published_params(), context(key, "key-registration"))
    return {"public_key": key.public_key_dict(), "proof": proof}


def proved(key: KeyHolder, value: int, bits: int, purpose: str) -> tuple[str, dict]:
    return key.encrypt_proved(value, bits, published_params(), context(key, purpose))
