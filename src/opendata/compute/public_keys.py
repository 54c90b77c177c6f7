"""Enterprises' Paillier public keys: registration (validated by the core), listing, revocation.

A key belongs to the organisation that registered it; only that organisation's clients may
compute with it. The same modulus cannot be registered by two organisations (it would let
one organisation's results be read by the other's private key holder).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute import ComputeError
from opendata.compute.models import ComputeKey
from opendata.compute.paillier import PublicKey
from opendata.compute.runtime import ComputeSettings
from opendata.db import utcnow
from opendata.errors import AppError, bad_request


def parse_public_key(body: Any, settings: ComputeSettings) -> PublicKey:
    """``{"public_key": {"kty": "paillier", "n": "...", "kid": "..."}}`` -> a validated key.

    Every check is the core's (paillier.validate_public_key): size first (so a huge n costs
    nothing), then odd, not a square, no prime factor below 10^6, not prime, kid matches n.
    """
    if not isinstance(body, dict) or set(body) - {"public_key"} or not isinstance(body.get("public_key"), dict):
        raise bad_request("invalid_body", 'send {"public_key": {"kty": "paillier", "n": "<decimal>"}}')
    try:
        return PublicKey.from_dict(body["public_key"], min_bits=settings.min_key_bits, max_bits=settings.max_key_bits)
    except ComputeError as error:
        raise bad_request(error.code, str(error)) from None


def register_key(session: Session, organisation_id: int, key: PublicKey, *, actor: Actor,
                 request: RequestInfo) -> tuple[ComputeKey, bool]:
    """Store the key for the organisation (in the caller's transaction, audited).

    Returns (row, created): registering the same key again is not an error, so a client
    can simply register at start-up. A revoked key stays revoked (409)."""
    row = session.get(ComputeKey, key.key_id)
    if row is not None:
        if row.organisation_id != organisation_id:
            raise AppError(409, "key_registered_elsewhere",
                           "this public key is registered by another organisation; generate your own key pair")
        if row.revoked_at is not None:
            raise AppError(409, "key_revoked", f"key {key.key_id} was revoked; generate a new key pair")
        return row, False
    row = ComputeKey(kid=key.key_id, organisation_id=organisation_id, n=str(key.n), bits=key.bits,
                     created_at=utcnow(), created_by=actor.name)
    session.add(row)
    session.flush()
    append(session, actor=actor, action="compute.key.register", target=f"compute-key:{key.key_id}",
           details={"bits": key.bits, "organisation": organisation_id}, request=request)
    return row, True


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
    return row


def revoke_key(session: Session, row: ComputeKey, *, actor: Actor, request: RequestInfo) -> ComputeKey:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        append(session, actor=actor, action="compute.key.revoke", target=f"compute-key:{row.kid}",
               details={"organisation": row.organisation_id}, request=request)
    return row
