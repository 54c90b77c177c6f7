"""Enterprises' Paillier public keys: registration (validated by the core and *proved* well
formed), listing, revocation.

A key is registered with a zero-knowledge proof (Pi^mod + Pi^fac, compute/proofs) that its
modulus is a Paillier-Blum modulus of two large primes, bound to this portal, the
organisation and the key id: without one, 400 ``key_proof_invalid`` (audited). A key
registered before proofs existed (``proven_at`` NULL) computes nothing until its owner
registers it again with a proof.

A key belongs to the organisation that registered it; only that organisation's clients may
compute with it. The same modulus cannot be registered by two organisations (it would let
one organisation's results be read by the other's private key holder).
"""

from __future__ import annotations

from concurrent.futures import Executor
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute import ComputeError
from opendata.compute.models import ComputeKey, ComputeKeyAttempt
from opendata.compute import parameters
from opendata.compute.paillier import PublicKey
from opendata.compute.proofs import KEY_PROOF_INVALID, ProofError, verify_key
from opendata.compute.runtime import ComputeSettings
from opendata.db import utcnow
from opendata.errors import AppError, bad_request


def parse_public_key(body: Any, settings: ComputeSettings) -> tuple[PublicKey, Any]:
    """``{"public_key": {"kty": "paillier", "n": "...", "kid": "..."}, "proof": {...}}`` ->
    (a validated key, its proof, not yet checked: see ``check_key_proof``).

    The core's checks come first (paillier.validate_public_key): size (so a huge n costs
    nothing), odd, not a square, no prime factor below 10^6, not prime, kid matches n.
    """
    if not isinstance(body, dict) or set(body) - {"public_key", "proof"} or not isinstance(body.get("public_key"), dict):
        raise bad_request("invalid_body", 'send {"public_key": {"kty": "paillier", "n": "<decimal>"}, '
                          '"proof": {...}} (the SDK and `opendata compute register-key` make the proof)')
    try:
        key = PublicKey.from_dict(body["public_key"], min_bits=settings.min_key_bits, max_bits=settings.max_key_bits)
    except ComputeError as error:
        raise bad_request(error.code, str(error)) from None
    return key, body.get("proof")


def key_proof_problem(n: int, proof: Any, params: Any, context: bytes) -> tuple[str, str] | None:
    """(code, message) if the proof does not verify, else None. Module level and plain
    return values, so that it runs in a worker process (a ProofError does not pickle)."""
    try:
        verify_key(n, proof, params, context)
    except ProofError as error:
        return error.code, str(error)
    return None


def check_key_proof(session: Session, portal_settings: Any, organisation_id: int, key: PublicKey,
                    proof: Any, executor: Executor | None = None) -> None:
    """400 ``key_proof_invalid`` unless ``proof`` proves ``key`` well formed for this portal,
    this organisation and this key id. The check (0.2-0.7 s of CPU at 2048 bits) runs in
    ``executor``'s worker processes when given, so the server process keeps serving."""
    if proof is None:
        raise bad_request(KEY_PROOF_INVALID, "a key needs its proof of well-formedness (\"proof\"): "
                          "GET /api/v1/compute/parameters, then prove with the SDK or the CLI")
    params = parameters.ring_pedersen(session)
    context = parameters.context(portal_settings, organisation_id, key.key_id, parameters.KEY_REGISTRATION)
    arguments = (int(key.n), proof, params, context)
    problem = key_proof_problem(*arguments) if executor is None else executor.submit(
        key_proof_problem, *arguments).result()
    if problem is not None:
        raise bad_request(*problem)


def register_key(session: Session, organisation_id: int, key: PublicKey, *, actor: Actor,
                 request: RequestInfo) -> tuple[ComputeKey, bool]:
    """Store a key whose proof has been checked."""
    """Store the key for the organisation (in the caller's transaction, audited).

    Returns (row, created): registering the same key again is not an error, so a client
    can simply register at start-up. A revoked key stays revoked (409)."""
    row = known_key(session, organisation_id, key)
    if row is not None:
        return row, False
    now = utcnow()
    row = ComputeKey(kid=key.key_id, organisation_id=organisation_id, n=str(key.n), bits=key.bits,
                     created_at=now, created_by=actor.name, proven_at=now)
    session.add(row)
    session.flush()
    append(session, actor=actor, action="compute.key.register", target=f"compute-key:{key.key_id}",
           details={"bits": key.bits, "organisation": organisation_id}, request=request)
    return row, True


RATE_WINDOW = timedelta(hours=1)


def check_registration_limits(session: Session, organisation_id: int, settings: ComputeSettings) -> None:
    """Before any costly check of a *new* key: at most ``key_registrations_per_hour``
    attempts, successful or not (429 ``key_registration_rate_limited``), and at most
    ``max_active_keys`` unrevoked keys (409 ``too_many_keys``: revoke one first)."""
    since = utcnow() - RATE_WINDOW
    attempts = session.scalar(select(func.count()).select_from(ComputeKeyAttempt).where(
        ComputeKeyAttempt.organisation_id == organisation_id, ComputeKeyAttempt.at > since))
    if attempts >= settings.key_registrations_per_hour:
        raise AppError(429, "key_registration_rate_limited",
                       f"at most {settings.key_registrations_per_hour} key registrations per hour per organisation",
                       headers={"Retry-After": str(int(RATE_WINDOW.total_seconds()))})
    record_attempt(session, organisation_id)
    session.commit()  # the attempt counts even if what follows refuses the key
    active = session.scalar(select(func.count()).select_from(ComputeKey).where(
        ComputeKey.organisation_id == organisation_id, ComputeKey.revoked_at.is_(None)))
    if active >= settings.max_active_keys:
        raise AppError(409, "too_many_keys", f"your organisation has {active} active keys, the most allowed "
                       f"({settings.max_active_keys}); revoke one before registering another")


def record_attempt(session: Session, organisation_id: int) -> None:
    """Count an attempt (the caller commits it at once, before the proof is checked, so
    that a refused attempt counts too); attempts older than the window are dropped."""
    session.execute(delete(ComputeKeyAttempt).where(ComputeKeyAttempt.organisation_id == organisation_id,
                                                    ComputeKeyAttempt.at <= utcnow() - RATE_WINDOW))
    session.add(ComputeKeyAttempt(organisation_id=organisation_id, at=utcnow()))
    session.flush()


def known_key(session: Session, organisation_id: int, key: PublicKey) -> ComputeKey | None:
    """The organisation's row for this key if it is registered already (409 if another
    organisation's or revoked): re-registering is answered without any new check."""
    row = session.get(ComputeKey, key.key_id)
    if row is None:
        return None
    if row.organisation_id != organisation_id:
        raise AppError(409, "key_registered_elsewhere",
                       "this public key is registered by another organisation; generate your own key pair")
    if row.revoked_at is not None:
        raise AppError(409, "key_revoked", f"key {key.key_id} was revoked; generate a new key pair")
    return row


def admit_key(session: Session, organisation_id: int, key: PublicKey, proof: Any, settings: ComputeSettings,
              portal_settings: Any, *, actor: Actor, request: RequestInfo,
              executor: Executor | None = None) -> tuple[ComputeKey, bool]:
    """Register a key for the API and the portal alike: a known, proven key is answered at
    once; a new one passes the limits, is counted as an attempt (committed), has its proof
    checked, then is stored. A known key registered before proofs is proved now.
    Returns (row, created); the caller commits."""
    known = known_key(session, organisation_id, key)
    if known is not None and known.proven_at is not None:
        return known, False
    check_registration_limits(session, organisation_id, settings)
    check_key_proof(session, portal_settings, organisation_id, key, proof, executor)
    if known is not None:
        known.proven_at = utcnow()
        append(session, actor=actor, action="compute.key.prove", target=f"compute-key:{key.key_id}",
               details={"bits": key.bits, "organisation": organisation_id}, request=request)
        return known, False
    return register_key(session, organisation_id, key, actor=actor, request=request)


def list_keys(session: Session, organisation_id: int) -> list[ComputeKey]:
    return list(session.scalars(
        select(ComputeKey).where(ComputeKey.organisation_id == organisation_id).order_by(ComputeKey.created_at)
    ))


def own_key(session: Session, organisation_id: int, kid: Any, *, usable: bool = True) -> ComputeKey:
    """The organisation's key ``kid``; another organisation's key is reported missing, so
    key ids cannot be probed. ``usable``: a revoked key is refused (409 key_revoked)."""
    if not isinstance(kid, str) or not kid:
        raise bad_request("invalid_key_id", "key_id is the kid of one of your registered keys")
    row = session.get(ComputeKey, kid)
    if row is None or row.organisation_id != organisation_id:
        raise AppError(404, "key_not_found", f"no registered key {kid[:40]!r} of your organisation")
    if usable and row.revoked_at is not None:
        raise AppError(409, "key_revoked", f"key {kid} was revoked")
    if usable and row.proven_at is None:
        raise AppError(409, "key_not_proven", f"key {kid} was registered before key proofs: register it again "
                       "with its proof (the SDK's register_key does) before computing with it")
    return row


def revoke_key(session: Session, row: ComputeKey, *, actor: Actor, request: RequestInfo) -> ComputeKey:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        append(session, actor=actor, action="compute.key.revoke", target=f"compute-key:{row.kid}",
               details={"organisation": row.organisation_id}, request=request)
    return row
