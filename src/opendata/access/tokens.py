"""Access tokens: RFC 9068 JWTs minted by the client-credentials grant.

Issuing needs the client's live licence and signs with the deployment's crypto suite
(ES256 by default, access/keys.py); verifying pins the algorithm of the key the token's
``kid`` names (never the one its header asks for), requires every claim,
checks ``typ``, ``iss`` and ``aud`` with at most LEEWAY_SECONDS of clock skew, and then
asks the database (one indexed query, see ``live_state``) whether the licence is still
active, the client not revoked, its secret not rotated since the token was minted (the
``sv`` claim), its organisation and the account that created it not disabled, and the
token's jti not on the revocation list, so any of these bites on the very next request
whichever process serves it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, selectinload

from opendata import localtime
from opendata.access import keys
from opendata.access.licences import status_of
from opendata.access.models import ApiClient, Licence, LicenceUsage, Organisation, RevokedToken, User
from opendata.db import utcnow
from opendata.numbers import ascii_digits
from opendata.settings import Settings

TOKEN_TYPES = ("at+jwt", "application/at+jwt")  # RFC 9068 §2.1 allows both spellings
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "licence_id", "datasets"]


class OAuthError(Exception):
    """An RFC 6749 §5.2 error of the token endpoints: ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class TokenInvalid(Exception):
    """A bearer token that does not verify; ``code`` is invalid_token or token_expired."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class DatasetGrant:
    operations: frozenset[str]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class VerifiedToken:
    jti: str
    client_id: str
    licence_id: int
    scope: str
    issued_at: int
    expires_at: int
    datasets: dict[str, DatasetGrant]
    claims: dict[str, Any]
    # The client's secret version when the token was minted; tokens from before the
    # claim existed count as version 0, the version every client starts at.
    secret_version: int = 0


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    licence_id: int
    jti: str


# --- issuing ----------------------------------------------------------------------------

def _parse_scope(scope: str | None) -> tuple[int | None, set[tuple[str, str]]]:
    licence_id, pairs = None, set()
    for word in (scope or "").split():
        kind, _, value = word.partition(":")
        if kind == "licence":
            number = ascii_digits(value, 12)
            if number is None:
                raise OAuthError("invalid_scope", f"cannot read scope {word!r}: a licence is licence:<number>")
            if licence_id is not None and number != licence_id:
                raise OAuthError("invalid_scope", "a token serves one licence: name one licence:<id>")
            licence_id = number
        elif kind and value and ":" not in value:
            pairs.add((kind, value))
        else:
            raise OAuthError("invalid_scope", f"cannot read scope {word!r}: use licence:<id> and <dataset>:<operation>")
    return licence_id, pairs


def _usable_licences(session: Session, organisation_id: int) -> list[Licence]:
    now = utcnow()
    return list(session.scalars(
        select(Licence).where(Licence.organisation_id == organisation_id, Licence.state == "active",
                              Licence.valid_from <= now, Licence.valid_until > now)
        .options(selectinload(Licence.datasets)).order_by(Licence.id)
    ))


def _pick_licence(session: Session, client: ApiClient, wanted: int | None) -> Licence:
    usable = _usable_licences(session, client.organisation_id)
    if wanted is not None:
        for licence in usable:
            if licence.id == wanted:
                return licence
        raise OAuthError("invalid_scope", f"licence {wanted} is not an active licence of your organisation")
    if not usable:
        raise OAuthError("invalid_scope", "your organisation holds no active licence")
    if len(usable) > 1:
        ids = " ".join(f"licence:{lic.id}" for lic in usable)
        raise OAuthError("invalid_scope", f"your organisation holds several active licences; ask for one of: {ids}")
    return usable[0]


def _granted(licence: Licence, pairs: set[tuple[str, str]]) -> dict[str, dict[str, list[str]]]:
    granted = {d.dataset_id: d for d in licence.datasets}
    for dataset_id, operation in sorted(pairs):
        if dataset_id not in granted or operation not in granted[dataset_id].operations:
            raise OAuthError("invalid_scope", f"licence {licence.id} does not grant {operation} on {dataset_id!r}")
    claims = {}
    for dataset_id, row in granted.items():
        operations = [op for op in row.operations if not pairs or (dataset_id, op) in pairs]
        if operations:
            claims[dataset_id] = {"operations": operations, "fields": list(row.fields)}
    return claims


def issue(session: Session, settings: Settings, client: ApiClient, scope: str | None) -> IssuedToken:
    """Sign a token for one of the client's organisation's live licences."""
    wanted, pairs = _parse_scope(scope)
    licence = _pick_licence(session, client, wanted)
    datasets = _granted(licence, pairs)
    credit_code = session.scalar(select(Organisation.credit_code).where(Organisation.id == licence.organisation_id))
    now = int(utcnow().timestamp())
    # Never valid past the licence's end.
    expires = min(now + settings.token_lifetime_seconds, int(licence.valid_until.timestamp()))
    granted_scope = " ".join(
        [f"licence:{licence.id}"] + [f"{d}:{op}" for d, grant in datasets.items() for op in grant["operations"]]
    )
    jti = secrets.token_urlsafe(18)
    signer = keys.key_ring(session).signer(session, settings.signing_key_passphrase)
    claims = {
        "iss": settings.issuer, "sub": client.client_id, "aud": settings.token_audience,
        "iat": now, "nbf": now, "exp": expires, "jti": jti, "client_id": client.client_id,
        "scope": granted_scope, "licence_id": licence.id, "org": credit_code, "datasets": datasets,
        "sv": client.secret_version or 0,
    }
    token = keys.suites_of(session).jwt.encode(claims, signer.private_key, algorithm=signer.alg,
                                               headers={"typ": "at+jwt", "kid": signer.kid})
    return IssuedToken(token, expires - now, granted_scope, licence.id, jti)


# --- verifying --------------------------------------------------------------------------

def decode(session: Session, settings: Settings, token: str, *, verify_exp: bool = True) -> VerifiedToken:
    """Signature and claims only (no state); raises TokenInvalid.

    A token verified before (same issuer and audience) is taken from the key ring's
    cache, with only its expiry checked again.
    """
    ring = keys.key_ring(session)
    cache_key = (token, settings.issuer, settings.token_audience)
    cached = ring.verified.get(cache_key) if verify_exp else None
    if cached is not None:
        if cached.expires_at + keys.LEEWAY_SECONDS >= time.time():
            return cached
        ring.verified.drop(cache_key)
        raise TokenInvalid("token_expired", "the access token has expired; request a new one")
    verified = _decode(ring, session, settings, token, verify_exp)
    if verify_exp:
        ring.verified.put(cache_key, verified)
    return verified


def _decode(ring: keys.KeyRing, session: Session, settings: Settings, token: str,
            verify_exp: bool) -> VerifiedToken:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenInvalid("invalid_token", "the bearer token is not a JWT") from None
    # Never let the token choose how it is checked: the algorithm is its key's, one type.
    if str(header.get("typ", "")).lower() not in TOKEN_TYPES:
        raise TokenInvalid("invalid_token", "the token's typ header is not at+jwt: it is not an access token")
    kid = header.get("kid")
    found = ring.verification_key(session, kid, settings.token_lifetime_seconds) if isinstance(kid, str) else None
    if found is None:
        raise TokenInvalid("invalid_token", "the token's signing key (kid) is unknown or retired")
    algorithm, key = found
    if header.get("alg") != algorithm:
        raise TokenInvalid("invalid_token", f"the token's key signs with {algorithm}, not {header.get('alg')!r}")
    try:
        claims = keys.suites_of(session).jwt.decode(
            token, key, algorithms=[algorithm], audience=settings.token_audience,
            issuer=settings.issuer, leeway=keys.LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS, "verify_exp": verify_exp},
        )
    except jwt.ExpiredSignatureError:
        raise TokenInvalid("token_expired", "the access token has expired; request a new one") from None
    except jwt.PyJWTError as exc:
        raise TokenInvalid("invalid_token", f"the access token is not valid: {exc}") from None
    return _verified(claims)


def _verified(claims: dict[str, Any]) -> VerifiedToken:
    try:
        datasets = {
            str(dataset_id): DatasetGrant(frozenset(grant["operations"]), tuple(grant["fields"]))
            for dataset_id, grant in claims["datasets"].items()
        }
        secret_version = claims.get("sv", 0)
        if (not isinstance(claims["licence_id"], int) or claims["sub"] != claims["client_id"]
                or not isinstance(secret_version, int)):
            raise TypeError
        return VerifiedToken(
            jti=str(claims["jti"]), client_id=str(claims["client_id"]), licence_id=claims["licence_id"],
            scope=str(claims["scope"]), issued_at=int(claims["iat"]), expires_at=int(claims["exp"]),
            datasets=datasets, claims=claims, secret_version=secret_version,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise TokenInvalid("invalid_token", "the access token's claims are malformed") from None


@dataclass(frozen=True)
class LiveState:
    licence: str  # active, pending, expired, closed, revoked
    client_revoked: bool
    token_revoked: bool
    limit: int | None
    used: int
    # Why the client's tokens no longer work although it is not revoked, or None:
    # secret_rotated, organisation_disabled, client_owner_disabled (see STOPPED).
    stopped: str | None = None


STOPPED = {
    "secret_rotated": (401, "the client's secret was rotated after this token was issued; request a new token"),
    "organisation_disabled": (403, "the client's organisation is disabled"),
    "client_owner_disabled": (403, "the account that created this API client is disabled"),
}


def stop_reason(state: LiveState, token: VerifiedToken) -> tuple[int, str, str] | None:
    """(status, code, message) when the token's client may no longer use it, else None."""
    if state.token_revoked:
        return 401, "token_revoked", "this access token has been revoked"
    if state.client_revoked:
        return 401, "client_revoked", f"API client {token.client_id} has been revoked"
    if state.stopped is not None:
        status, message = STOPPED[state.stopped]
        return status, state.stopped, message
    return None


def _live_state_statement() -> Any:
    licence, client = Licence.__table__, ApiClient.__table__
    revoked, usage = RevokedToken.__table__, LicenceUsage.__table__
    organisation, owner = Organisation.__table__, User.__table__
    return (
        select(licence.c.state, licence.c.valid_from, licence.c.valid_until, licence.c.rows_per_day,
               licence.c.downloads_per_day, licence.c.compute_calls_per_day, client.c.revoked_at,
               revoked.c.jti, usage.c.used, client.c.secret_version, organisation.c.disabled, owner.c.disabled)
        .select_from(licence)
        .join(client, and_(client.c.client_id == bindparam("client_id"),
                           client.c.organisation_id == licence.c.organisation_id))
        .join(organisation, organisation.c.id == licence.c.organisation_id)
        .outerjoin(owner, owner.c.id == client.c.created_by)
        .outerjoin(revoked, revoked.c.jti == bindparam("jti"))
        .outerjoin(usage, and_(usage.c.licence_id == licence.c.id, usage.c.day == bindparam("day"),
                               usage.c.kind == bindparam("kind")))
        .where(licence.c.id == bindparam("licence_id"))
    )


# Built once: it runs on every request that carries a token.
_LIVE_STATE = _live_state_statement()
_LIMIT_INDEX = {"rows": 3, "downloads": 4, "compute": 5}


def live_state(session: Session, token: VerifiedToken, usage_kind: str | None = None,
               day: date | None = None) -> LiveState | None:
    """Licence state, client and jti revocation and today's usage of one quota, in one
    query by primary keys. None when the licence or the client (in its organisation) is gone."""
    row = session.execute(_LIVE_STATE, {
        "client_id": token.client_id, "jti": token.jti, "licence_id": token.licence_id,
        "day": day or localtime.today(session), "kind": usage_kind or "",
    }).first()
    if row is None:
        return None
    limit = row[_LIMIT_INDEX[usage_kind]] if usage_kind else None
    stopped = None
    if (row[9] or 0) != token.secret_version:
        stopped = "secret_rotated"
    elif row[10]:
        stopped = "organisation_disabled"
    elif row[11]:
        stopped = "client_owner_disabled"
    return LiveState(status_of(row[0], row[1], row[2]), row[6] is not None, row[7] is not None, limit, row[8] or 0,
                     stopped)


# --- introspection and revocation -------------------------------------------------------

def introspect(session: Session, settings: Settings, token: str, caller_client_id: str | None) -> dict[str, Any]:
    """RFC 7662: {"active": false} for anything not usable right now or not the caller's."""
    try:
        verified = decode(session, settings, token)
    except TokenInvalid:
        return {"active": False}
    if caller_client_id is not None and caller_client_id != verified.client_id:
        return {"active": False}
    state = live_state(session, verified)
    if state is None or state.licence != "active" or stop_reason(state, verified) is not None:
        return {"active": False}
    claims = verified.claims
    return {
        "active": True, "token_type": "Bearer", "scope": verified.scope, "client_id": verified.client_id,
        "sub": claims["sub"], "aud": claims["aud"], "iss": claims["iss"], "exp": verified.expires_at,
        "iat": verified.issued_at, "nbf": claims.get("nbf", verified.issued_at), "jti": verified.jti,
        "licence_id": verified.licence_id, "datasets": claims["datasets"],
    }


def revoke(session: Session, settings: Settings, token: str, caller_client_id: str) -> VerifiedToken | None:
    """RFC 7009: put the token's jti on the revocation list. Returns the token revoked, or
    None for a token that does not verify (which the endpoint must not report as an error)."""
    try:
        verified = decode(session, settings, token, verify_exp=False)
    except TokenInvalid:
        return None
    if verified.client_id != caller_client_id:
        raise OAuthError("unauthorized_client", "this token was not issued to you")
    if session.get(RevokedToken, verified.jti) is None:
        session.add(RevokedToken(
            jti=verified.jti, client_id=verified.client_id, revoked_at=utcnow(),
            expires_at=datetime.fromtimestamp(verified.expires_at, UTC) + timedelta(seconds=keys.LEEWAY_SECONDS),
        ))
    return verified
