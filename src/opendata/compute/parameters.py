"""The portal's proof parameters: its ring-Pedersen modulus (N^, s, t) with the proof Pi^prm
that s is in <t>, and the context every proof is bound to.

Enterprises prove their keys (Pi^mod + Pi^fac) and inputs (Pi^enc) *against* these
parameters (compute/proofs). They are generated once per installation and kept in the
database with their factors, so every portal process verifies against the same ones:

* ``OPENDATA_COMPUTE_PARAMETERS_FILE``: a private JSON file (``to_private_json``) imported
  on first use instead of generating (tests, and deployments that generate offline);
* otherwise generated on first use (two 1024-bit safe primes: tens of seconds), or ahead of
  time with ``opendata compute parameters --generate``.

A proof's Fiat-Shamir challenge binds the portal (its issuer and N^), the organisation, the
key id and a purpose (key registration, claims, model inputs), so a proof made for one
portal, one organisation or one key is worthless anywhere else.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opendata.compute.models import ComputeParameter
from opendata.compute.proofs import RingPedersenParams, generate_ring_pedersen, proof_context

PARAMETERS_FILE_ENV = "OPENDATA_COMPUTE_PARAMETERS_FILE"
RING_PEDERSEN = "ring_pedersen"
RING_PEDERSEN_BITS = 2048

# Purposes of proof contexts: a proof for one purpose never verifies for another.
KEY_REGISTRATION = "key-registration"
VERIFY_CLAIM = "verify-claim"
MODEL_INPUT = "model-input"
HIDDEN_QUERY_ROWS = "hidden-query-rows"
HIDDEN_QUERY_COLS = "hidden-query-cols"
PURPOSES = (KEY_REGISTRATION, VERIFY_CLAIM, MODEL_INPUT, HIDDEN_QUERY_ROWS, HIDDEN_QUERY_COLS)


_lock = threading.Lock()
_cache: dict[str, RingPedersenParams] = {}


def _initial_parameters() -> RingPedersenParams:
    path = os.environ.get(PARAMETERS_FILE_ENV)
    if path:
        return RingPedersenParams.from_private_json(json.loads(Path(path).read_text(encoding="utf-8")))
    return generate_ring_pedersen(RING_PEDERSEN_BITS)


def stored(session: Session, name: str, make: Any) -> str:
    """The private JSON stored under ``name``, made by ``make()`` on first use, race-safe
    across processes: the first stored row wins and every process uses it. Commits."""
    value = session.scalar(select(ComputeParameter.private_json).where(ComputeParameter.name == name))
    if value is None:
        fresh = make()
        try:
            with session.begin_nested():
                session.add(ComputeParameter(name=name, private_json=fresh))
            session.commit()
        except IntegrityError:
            session.rollback()  # another process stored its own first: use theirs
        value = session.scalar(select(ComputeParameter.private_json).where(ComputeParameter.name == name))
    return value  # type: ignore[return-value]


def ring_pedersen(session: Session) -> RingPedersenParams:
    """This installation's parameters (with factors), created on first use (see stored)."""
    key = str(session.get_bind().url)
    with _lock:
        if key in _cache:
            return _cache[key]
        text = stored(session, RING_PEDERSEN, lambda: json.dumps(_initial_parameters().to_private_json()))
        params = RingPedersenParams.from_private_json(json.loads(text))
        _cache[key] = params
        return params


def portal_identity(settings: Any) -> str:
    """The portal's name in every proof context: its token issuer (one per deployment)."""
    return settings.issuer


def context(settings: Any, organisation_id: int, key_id: str, purpose: str) -> bytes:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown proof purpose {purpose!r}")
    return proof_context(portal_identity(settings), str(organisation_id), key_id, purpose)


def published(settings: Any, params: RingPedersenParams, organisation_id: int) -> dict[str, Any]:
    """What GET /api/v1/compute/parameters answers: everything a client needs to prove."""
    from opendata.compute.inputs import CLAIM_BOUND_BITS, MAX_WEIGHT_BITS

    return {
        "portal": portal_identity(settings), "organisation": str(organisation_id),
        "ring_pedersen": params.to_json(), "purposes": list(PURPOSES),
        "claim_bound_bits": CLAIM_BOUND_BITS, "max_weight_bits": MAX_WEIGHT_BITS,
        "proofs": "CGGMP21 (ePrint 2021/060): Pi^mod + Pi^fac for keys, Pi^enc for inputs; docs/security/proofs.md",
    }
