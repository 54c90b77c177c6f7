"""Who is computing, under which licence, and the audited refusals on the way.

Computations authenticate exactly as the data guard does (access.guard): an RFC 9068
access token verified by ``access.tokens.decode``, then ``access.tokens.live_state`` (one
indexed query: licence state, client and token revocation, today's compute usage), with
the guard's codes. They do not call ``authorize_data`` itself because that charges one
quota unit per call and per dataset, while a computation is charged per *subject* and may
read several datasets (a scoring model); see ``charge``.

Every refusal goes through ``Refusals``: roll back, append an audit record saying as much
as was known at that point (actor, licence, dataset or model), commit, raise.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata import localtime
from opendata.access import quotas, tokens
from opendata.access.models import Licence
from opendata.access.principals import SESSION_TOKEN_PREFIX, require_user
from opendata.audit.service import ANONYMOUS, Actor, RequestInfo, refuse
from opendata.compute import ComputeError
from opendata.errors import AppError, bad_request
from opendata.settings import Settings

OPERATION = "compute"
USAGE_KIND = "compute"
BEARER_CHALLENGE = 'Bearer realm="opendata", error="invalid_token"'


@dataclass
class Refusals:
    """Audited refusals for one request; fill in actor, target and details as they are learnt."""

    session: Session
    request: RequestInfo
    action: str
    target: str | None = None
    actor: Actor = ANONYMOUS
    details: dict[str, Any] = field(default_factory=dict)

    def deny(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
             **details: Any) -> NoReturn:
        self.fail(AppError(status, code, message, headers=headers), **details)

    def fail(self, error: AppError, **details: Any) -> NoReturn:
        error.audited = True  # type: ignore[attr-defined]  # see audited()
        refuse(self.session, error, actor=self.actor, action=self.action, target=self.target,
               details={**self.details, **details}, request=self.request)


@contextmanager
def audited(refusals: Refusals) -> Iterator[None]:
    """Turn every error raised inside (a service's AppError, a core ComputeError) into an
    audited refusal; errors already audited by ``refusals`` pass through unchanged."""
    try:
        yield
    except AppError as error:
        if getattr(error, "audited", False):
            raise
        refusals.fail(error)
    except ComputeError as error:
        refusals.fail(bad_request(error.code, str(error)))


@dataclass(frozen=True)
class ComputeCaller:
    """A client computing under one licence, as its verified token says."""

    token: tokens.VerifiedToken
    organisation_id: int
    actor: Actor
    request: RequestInfo
    quota_limit: int
    quota_used: int

    @property
    def licence_id(self) -> int:
        return self.token.licence_id


def authenticate(session: Session, settings: Settings, raw_token: str | None, refusals: Refusals) -> ComputeCaller:
    """The client behind ``Authorization: Bearer <access token>``, if its licence is live."""
    if raw_token is None or raw_token.startswith(SESSION_TOKEN_PREFIX):
        refusals.deny(401, "token_required",
                      "computations need an access token of a licence (POST /api/v1/token, client "
                      "credentials) as Authorization: Bearer <token>",
                      headers={"WWW-Authenticate": 'Bearer realm="opendata"'})
    try:
        token = tokens.decode(session, settings, raw_token)
    except tokens.TokenInvalid as exc:
        refusals.deny(401, exc.code, exc.message, headers={"WWW-Authenticate": BEARER_CHALLENGE})
    refusals.actor = Actor(f"client:{token.client_id}", "client")
    refusals.request = refusals.request.with_jti(token.jti)
    refusals.details = {"licence": token.licence_id}
    state = tokens.live_state(session, token, USAGE_KIND)
    if state is None:
        refusals.deny(401, "invalid_token", "the token's licence or client no longer exists")
    stopped = tokens.stop_reason(state, token)  # revoked, rotated, disabled (access.tokens)
    if stopped is not None:
        refusals.deny(*stopped)
    if state.licence != "active":
        refusals.deny(403, "licence_inactive", f"licence {token.licence_id} is {state.licence}",
                      licence_state=state.licence)
    return ComputeCaller(token, _organisation_of(session, token.licence_id), refusals.actor, refusals.request,
                         state.limit or 0, state.used)


# A licence's organisation never changes: remember it rather than ask on every request
# (per database: one process may serve several).
_organisations: dict[tuple[Any, int], int] = {}


def _organisation_of(session: Session, licence_id: int) -> int:
    key = (session.get_bind().url, licence_id)
    organisation_id = _organisations.get(key)
    if organisation_id is None:
        organisation_id = int(session.scalar(select(Licence.organisation_id).where(Licence.id == licence_id)))
        if len(_organisations) > 10_000:
            _organisations.clear()
        _organisations[key] = organisation_id
    return organisation_id


def require_grant(refusals: Refusals, caller: ComputeCaller, dataset_id: str, fields: Iterable[str]) -> None:
    """The token's licence grants ``compute`` on ``dataset_id`` and on every field in ``fields``."""
    grant = caller.token.datasets.get(dataset_id)
    if grant is None:
        refusals.deny(403, "dataset_not_licensed", f"this token's licence does not cover dataset {dataset_id!r}",
                      dataset=dataset_id)
    if OPERATION not in grant.operations:
        refusals.deny(403, "operation_not_licensed", f"this token does not grant compute on dataset {dataset_id!r}",
                      dataset=dataset_id)
    outside = sorted({f for f in fields if f not in grant.fields})
    if outside:
        refusals.deny(403, "field_not_licensed",
                      f"the licence does not grant field(s) {', '.join(outside)} of {dataset_id!r} for compute",
                      dataset=dataset_id, fields=outside)


def check_quota(refusals: Refusals, caller: ComputeCaller, units: int) -> None:
    """Refuse before any work when today's usage already leaves too little. Not the charge
    itself (see charge): concurrent requests may all pass this, only one charge can win."""
    if caller.quota_used + units > caller.quota_limit:
        refusals.fail(quotas.quota_exceeded(USAGE_KIND, caller.quota_limit, localtime.zone_of(refusals.session)), units=units,
                      used_today=caller.quota_used)


def charge(refusals: Refusals, caller: ComputeCaller, units: int) -> int:
    """Charge ``units`` (one per subject computed on) in the caller's transaction, all or nothing."""
    used = quotas.charge(refusals.session, caller.licence_id, USAGE_KIND, units, caller.quota_limit)
    if used is None:
        refusals.fail(quotas.quota_exceeded(USAGE_KIND, caller.quota_limit, localtime.zone_of(refusals.session)), units=units)
    return used


@dataclass(frozen=True)
class Owner:
    """Whoever manages an organisation's keys: one of its API clients or enterprise users."""

    organisation_id: int
    actor: Actor
    licence_id: int | None
    request: RequestInfo


def owner_of(request: Any, session: Session, settings: Settings, raw_token: str | None, refusals: Refusals,
             ) -> Owner:
    """An access token's client, or else a signed-in enterprise user (session token or cookie)."""
    if raw_token is not None and not raw_token.startswith(SESSION_TOKEN_PREFIX):
        caller = authenticate(session, settings, raw_token, refusals)
        return Owner(caller.organisation_id, caller.actor, caller.licence_id, caller.request)
    principal = require_user(request, session, action=refusals.action, roles=("enterprise",),
                             target=refusals.target)
    refusals.actor = principal.actor
    organisation_id = principal.user.organisation_id
    if organisation_id is None:
        refusals.deny(403, "no_organisation", "this account belongs to no organisation")
    return Owner(organisation_id, principal.actor, None, refusals.request)
