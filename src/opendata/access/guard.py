"""The one place that decides whether a request may read a dataset's rows.

Every door to rows (the query API, downloads, the portal's preview, the SDK through the
API) calls ``authorize_data`` and serves only what the returned Grant allows, then, for a
query, ``record_rows_served`` before it sends the page.

- Unconditional data (无条件开放) is open to everyone: no token needed, none looked at.
- Closed data (不予开放) is never served as rows, token or not; a compute licence may
  name it for computations only.
- Conditional data (有条件开放) needs ``Authorization: Bearer <access token>`` whose
  licence grants this operation on this dataset, and then only the granted fields. A door
  that allows it (``browser=True``: the download door) also takes the signed-in person's
  portal session in its place, under their organisation's licence (access.holdings):
  every check, charge and audit record after that is the same, the actor being the person.

Both functions commit the caller's session when they write (a download's quota charge,
the audit record of a served query): the charge must be durable, and its row lock and the
audit chain lock released, before rows stream out. Call them before writing anything of
your own. Every refusal is audited and committed (after rolling the session back) before
the error is raised.

Charge only what is served (issue 10): every check, including the fields a request
filters or sorts on (``also_named``), passes before anything is charged. A download is
charged one unit when it starts, so that the quota is checked, but audited only when it
ends (``record_download``): as a success when the whole file was sent, else refunded and
audited as ``incomplete``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Iterable, NoReturn

from litestar import Request
from sqlalchemy.orm import Session

from opendata import localtime
from opendata.access import holdings, quotas, tokens
from opendata.access.principals import bearer_token
from opendata.audit.context import request_info
from opendata.audit.service import ANONYMOUS, Actor, RequestInfo, append, refuse
from opendata.catalogue.models import Dataset
from opendata.errors import AppError
from opendata.settings import Settings

OPERATIONS = ("query", "download", "compute")
ROW_OPERATIONS = ("query", "download")
USAGE_KIND = {"query": "rows", "download": "downloads", "compute": "compute"}
# The query parameter by which a client names the fields it wants (the rows endpoint's).
FIELDS_PARAMETER = "fields"
# Why a signed-in person's browser may not use a licence (access.holdings.browser_holder).
BROWSER_REFUSALS = {
    "licence_required": "your organisation holds no licence in force for {operation} on dataset {dataset!r} "
                        "(有条件开放): apply for one in the workspace",
    "organisation_disabled": "your organisation is disabled",
    "cross_site_download": "a licensed download must start from this portal's own pages, not another site's",
}


@dataclass(frozen=True)
class Grant:
    """What a request may do with one dataset. ``fields`` None means every field.

    Under a licence, ``rows_remaining`` is how many rows the licence may still be served
    today: a query should not fetch more (record_rows_served refuses a page that would
    pass the quota).
    """

    dataset_id: str
    operation: str
    licence_id: int | None = None
    fields: frozenset[str] | None = None
    client_id: str | None = None
    token_jti: str | None = None
    rows_per_day: int | None = None
    rows_remaining: int | None = None
    request_info: RequestInfo | None = None
    # A download's charge, settled by record_download: the local day charged and the total then.
    charged_day: date | None = None
    used_today: int | None = None
    # A download of a kept version's rows (docs/versions.md): its number, for the audit.
    version: int | None = None
    # A signed-in person using their organisation's licence in the browser (no client).
    user: str | None = None

    @property
    def actor(self) -> Actor:
        if self.user is not None:
            return Actor(f"user:{self.user}", "enterprise")
        return Actor(f"client:{self.client_id}", "client")


def _settings(request: Request) -> Settings:
    plugin = request.app.state.get("opendata")
    if plugin is None:
        raise RuntimeError("authorize_data needs the OpenDataPlugin on the application")
    return plugin.settings


def _asked_explicitly(request: Request) -> bool:
    return bool(request.query_params.get(FIELDS_PARAMETER, "").strip())


def authorize_data(
    request: Request, session: Session, dataset: Dataset, operation: str, fields: list[str],
    *, fields_explicit: bool | None = None, credentials: str | None = None, also_named: Iterable[str] = (),
    probe: bool = False, browser: bool = False,
) -> Grant:
    """Allow or refuse ``operation`` on ``dataset`` for ``fields`` (the fields asked for).

    ``fields`` is every field of the data dictionary when the client named none: then a
    licence narrows the grant to its fields (returned in ``Grant.fields``). When the
    client named fields itself (``fields_explicit``; by default: the request has a
    non-empty ``fields`` query parameter), any field the licence does not grant is
    refused with 403 field_not_licensed, never silently dropped. ``also_named``: the
    fields the request names elsewhere (its filters and sort keys), which must be granted
    too; they are checked here, before any charge, so such a refusal costs nothing.

    ``probe``: a HEAD request. Every check runs (and every refusal is audited) exactly as
    for the GET, the quota included, but nothing is charged and no success is recorded:
    no row or byte is served.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    if dataset.open_level == "unconditional":
        return Grant(dataset.id, operation)
    refusal = _Refusal(session, request_info(request), f"data.{operation}", f"dataset:{dataset.id}")
    if dataset.open_level == "closed" and operation in ROW_OPERATIONS:
        refusal.deny(403, "closed_dataset",
                     f"dataset {dataset.id!r} is closed (不予开放): its rows are never served; "
                     "only licensed computations may use it")
    # ``credentials``: a door that takes the token from elsewhere (CKAN's bare
    # ``Authorization: <token>``) passes it in; otherwise ``Authorization: Bearer``.
    raw = credentials if credentials is not None else bearer_token(request)
    kind = USAGE_KIND[operation]
    holder = holdings.browser_holder(session, request, dataset.id, operation, kind) \
        if raw is None and browser else None
    if isinstance(holder, str):
        refusal.deny(403, holder, BROWSER_REFUSALS[holder].format(dataset=dataset.id, operation=operation))
    if raw is None and holder is None:
        refusal.deny(403, "licence_required",
                     f"dataset {dataset.id!r} is conditionally open (有条件开放): apply for a licence "
                     "and send its access token as Authorization: Bearer <token>")
    user = None
    if holder is not None:
        token, state, user = holder.token, holder.state, holder.user.username
        refusal.actor = Actor(f"user:{user}", holder.user.role)
        refusal.details = {"licence": token.licence_id, "via": "session"}
    else:
        try:
            token = tokens.decode(session, _settings(request), raw)
        except tokens.TokenInvalid as exc:
            refusal.deny(401, exc.code, exc.message,
                         headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc.code}"'})
        refusal.actor = Actor(f"client:{token.client_id}", "client")
        refusal.request = refusal.request.with_jti(token.jti)
        refusal.details = {"licence": token.licence_id}
        state = _live(refusal, tokens.live_state(session, token, kind), token)
    limit = state.limit or 0
    allowed = _allowed_fields(refusal, token, dataset, operation, fields,
                              _asked_explicitly(request) if fields_explicit is None else fields_explicit)
    granted = token.datasets[dataset.id].fields
    outside = sorted({name for name in also_named if name not in granted})
    if outside:
        refusal.deny(403, "field_not_licensed",
                     f"the licence does not cover field(s) {', '.join(outside)}", fields=outside)
    grant = Grant(dataset.id, operation, token.licence_id, allowed, token.client_id or None, token.jti or None,
                  request_info=refusal.request, user=user)
    if operation == "query":
        remaining = limit - state.used
        if remaining <= 0:
            refusal.raise_error(quotas.quota_exceeded(kind, limit, localtime.zone_of(session)))
        return replace(grant, rows_per_day=limit, rows_remaining=remaining)
    if probe:
        if state.used >= limit:
            refusal.raise_error(quotas.quota_exceeded(kind, limit, localtime.zone_of(session)))
        return grant
    # A download or a computation is charged one unit when it is authorised.
    day = localtime.today(session)
    used = quotas.charge(session, token.licence_id, kind, 1, limit, day)
    if used is None:
        refusal.raise_error(quotas.quota_exceeded(kind, limit, localtime.zone_of(session)))
    if operation == "download":
        session.commit()  # audited by record_download when the download ends
        return replace(grant, charged_day=day, used_today=used)
    append(session, actor=refusal.actor, action=refusal.action, target=refusal.target,
           details={"licence": token.licence_id, "fields": sorted(allowed), f"{kind}_used_today": used},
           request=refusal.request)
    session.commit()
    return grant


def record_rows_served(session: Session, grant: Grant, rows: int) -> None:
    """Charge ``rows`` served under a licence to its daily quota and audit the query.

    Call it after fetching a page and before sending it: a page that would pass the
    quota is refused (429) and must not be sent. Open data: nothing to do.
    """
    if grant.licence_id is None:
        return
    if rows < 0:
        raise ValueError("rows served cannot be negative")
    actor = grant.actor
    target, request = f"dataset:{grant.dataset_id}", grant.request_info or RequestInfo()
    limit = grant.rows_per_day if grant.rows_per_day is not None else 0
    used = quotas.charge(session, grant.licence_id, "rows", rows, limit) if rows else None
    if rows and used is None:
        refuse(session, quotas.quota_exceeded("rows", limit, localtime.zone_of(session)),
               actor=actor, action="data.query", target=target,
               details={"licence": grant.licence_id, "rows": rows}, request=request)
    append(session, actor=actor, action="data.query", target=target,
           details={"licence": grant.licence_id, "rows": rows, "fields": sorted(grant.fields or ()),
                    "rows_used_today": used},
           request=request)
    session.commit()


def record_download(session: Session, grant: Grant, *, completed: bool, rows: int, size: int) -> None:
    """Settle a licensed download's charge when its stream ends, and audit it.

    Sent whole: a success record. Broken off (the client went away, the server stopped,
    an error mid-stream): the unit charged at the start is given back and the record's
    outcome is ``incomplete``. Open data: nothing to do. Commits."""
    if grant.licence_id is None or grant.charged_day is None:
        return
    actor = grant.actor
    details: dict[str, Any] = {"licence": grant.licence_id, "fields": sorted(grant.fields or ()), "rows": rows,
                               "bytes": size}
    if grant.version is not None:
        details["version"] = grant.version
    if completed:
        append(session, actor=actor, action="data.download", target=f"dataset:{grant.dataset_id}",
               details={**details, "downloads_used_today": grant.used_today}, request=grant.request_info or RequestInfo())
    else:
        quotas.refund(session, grant.licence_id, "downloads", 1, grant.charged_day)
        append(session, actor=actor, action="data.download", target=f"dataset:{grant.dataset_id}",
               outcome="incomplete", code="stream_broken", details={**details, "refunded": 1},
               request=grant.request_info or RequestInfo())
    session.commit()


class _Refusal:
    """Who is being refused what, filled in as the guard learns it, so that every
    refusal's audit record says as much as was known at that point."""

    def __init__(self, session: Session, request: RequestInfo, action: str, target: str) -> None:
        self.session, self.request, self.action, self.target = session, request, action, target
        self.actor: Actor = ANONYMOUS
        self.details: dict[str, Any] = {}

    def deny(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
             **details: Any) -> NoReturn:
        self.raise_error(AppError(status, code, message, headers=headers), **details)

    def raise_error(self, error: AppError, **details: Any) -> NoReturn:
        refuse(self.session, error, actor=self.actor, action=self.action, target=self.target,
               details={**self.details, **details}, request=self.request)


def _live(refusal: _Refusal, state: tokens.LiveState | None, token: tokens.VerifiedToken) -> tokens.LiveState:
    """The token's live state, if it still allows anything at all; else an audited refusal."""
    if state is None:
        refusal.deny(401, "invalid_token", "the token's licence or client no longer exists")
    stopped = tokens.stop_reason(state, token)
    if stopped is not None:
        refusal.deny(*stopped)
    if state.licence != "active":
        refusal.deny(403, "licence_inactive", f"licence {token.licence_id} is {state.licence}",
                     licence_state=state.licence)
    return state


def _allowed_fields(refusal: _Refusal, token: tokens.VerifiedToken, dataset: Dataset, operation: str,
                    fields: list[str], explicit: bool) -> frozenset[str]:
    granted = token.datasets.get(dataset.id)
    if granted is None:
        refusal.deny(403, "dataset_not_licensed",
                     f"this token's licence does not cover dataset {dataset.id!r}")
    if operation not in granted.operations:
        refusal.deny(403, "operation_not_licensed",
                     f"this token does not grant {operation} on dataset {dataset.id!r}")
    if explicit:
        outside = [f for f in fields if f not in granted.fields]
        if outside:
            refusal.deny(403, "field_not_licensed",
                         f"the licence does not grant field(s) {', '.join(outside)} of {dataset.id!r}",
                         fields=outside)
        return frozenset(fields)
    narrowed = frozenset(f for f in fields if f in granted.fields)
    if not narrowed:
        refusal.deny(403, "field_not_licensed", f"the licence grants none of these fields of {dataset.id!r}")
    return narrowed
