"""API clients: the programs of an organisation, with a secret shown exactly once."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access.models import ApiClient, Organisation, User
from opendata.access.passwords import digest, new_secret, same_digest
from opendata.audit.service import Actor, RequestInfo, append
from opendata.db import utcnow
from opendata.errors import AppError, bad_request

CLIENT_ID_PREFIX = "odc_"


def find_organisation(session: Session, credit_code: str) -> Organisation:
    code = credit_code.strip().upper()
    organisation = session.scalars(select(Organisation).where(Organisation.credit_code == code)).one_or_none()
    if organisation is None:
        raise AppError(404, "not_found", f"no organisation has credit code {code!r}")
    return organisation


def create_client(
    session: Session, organisation: Organisation, name: str, *, actor: Actor, request: RequestInfo,
    created_by: int | None = None,
) -> tuple[ApiClient, str]:
    """A new client and its secret; only the secret's digest is stored."""
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise bad_request("invalid_name", "a client needs a name of 1-255 characters")
    secret = new_secret()
    client = ApiClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(10), organisation_id=organisation.id,
        name=name, secret_digest=digest(secret), created_by=created_by,
    )
    session.add(client)
    session.flush()
    append(session, actor=actor, action="client.create", target=f"client:{client.client_id}",
           details={"organisation": organisation.credit_code, "name": name}, request=request)
    return client, secret


def get_client(session: Session, client_id: str, organisation_id: int | None = None) -> ApiClient:
    """The client, which must belong to ``organisation_id`` when one is given: another
    organisation's client is reported missing, not forbidden, so ids cannot be probed."""
    client = session.get(ApiClient, client_id)
    if client is None or (organisation_id is not None and client.organisation_id != organisation_id):
        raise AppError(404, "not_found", f"API client {client_id!r} does not exist")
    return client


def list_clients(session: Session, organisation_id: int) -> list[ApiClient]:
    return list(session.scalars(
        select(ApiClient).where(ApiClient.organisation_id == organisation_id).order_by(ApiClient.created_at)
    ))


def rotate_secret(session: Session, client: ApiClient, *, actor: Actor, request: RequestInfo) -> str:
    """A new secret; the old one stops working at once, and so do the tokens issued
    under it (their ``sv`` claim no longer matches the client's secret version)."""
    if client.revoked_at is not None:
        raise AppError(409, "client_revoked", f"API client {client.client_id} is revoked")
    secret = new_secret()
    client.secret_digest = digest(secret)
    client.rotated_at = utcnow()
    client.secret_version = (client.secret_version or 0) + 1
    append(session, actor=actor, action="client.rotate", target=f"client:{client.client_id}",
           details={"secret_version": client.secret_version}, request=request)
    return secret


def revoke_client(session: Session, client: ApiClient, *, actor: Actor, request: RequestInfo,
                  reason: str | None = None) -> None:
    """Revoke for good: no new tokens, and its live tokens fail on their next use."""
    if client.revoked_at is not None:
        raise AppError(409, "client_revoked", f"API client {client.client_id} is revoked already")
    client.revoked_at = utcnow()
    append(session, actor=actor, action="client.revoke", target=f"client:{client.client_id}",
           details={"reason": reason} if reason else None, request=request)


def authenticate_client(session: Session, client_id: str, secret: str) -> ApiClient | None:
    """The live client whose id and secret these are, else None. A client of a disabled
    organisation, or made by a disabled account, is not live."""
    client = session.get(ApiClient, client_id) if client_id else None
    if client is None or client.revoked_at is not None:
        return None
    if not same_digest(client.secret_digest, digest(secret)):
        return None
    organisation = session.get(Organisation, client.organisation_id)
    owner = session.get(User, client.created_by) if client.created_by is not None else None
    if (organisation is not None and organisation.disabled) or (owner is not None and owner.disabled):
        return None
    return client
