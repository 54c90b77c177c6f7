"""What an organisation's licences let it do with one dataset, and the browser's way in.

The portal shows a licence holder how to use its licence ("Use your licence"), and lets
its signed-in people download within it in the browser. A download in the browser has no
access token: ``browser_holder`` finds the signed-in person's session (the portal's
cookie) and the licence of their organisation that covers the dataset and operation, and
gives the guard what it would have read from a token: the licence's grants and its live
state. Everything after that (fields, masks, quota, audit) is the guard's, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from litestar import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from opendata import localtime
from opendata.access.licences import licence_status, limit_for
from opendata.access.models import Licence, LicenceDataset, LicenceUsage, User
from opendata.access.principals import SESSION_COOKIE, find_session
from opendata.access.tokens import DatasetGrant, LiveState, VerifiedToken

# Browsers say where a request comes from; a download started by another site's page must
# not spend the holder's quota (the session cookie is SameSite=Lax: sent on top-level GETs).
SAME_SITE_FETCHES = {"same-origin", "none"}


def _from_this_portal(request: Request) -> bool:
    """Sec-Fetch-Site when the browser sends it; otherwise (older browsers) the Origin or
    Referer, when either is sent, must name this portal (the host reached or base_url):
    without the check another site's link spends the holder's quota in such a browser."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in SAME_SITE_FETCHES
    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent is None:
        return True  # a typed address, a bookmark, a script: no page started it
    plugin = request.app.state.get("opendata")
    allowed = {urlsplit(str(request.base_url)).netloc}
    if plugin is not None:
        allowed.add(urlsplit(plugin.settings.base_url).netloc)
    netloc = urlsplit(sent).netloc
    return bool(netloc) and netloc in allowed


@dataclass(frozen=True)
class Holding:
    licence: Licence
    entry: LicenceDataset  # the licence's operations and fields on this dataset


def holdings(session: Session, organisation_id: int | None, dataset_id: str,
             operation: str | None = None) -> list[Holding]:
    """The organisation's licences in force that cover ``dataset_id`` (and ``operation``),
    newest first."""
    if organisation_id is None:
        return []
    found = session.scalars(
        select(Licence).join(LicenceDataset)
        .where(Licence.organisation_id == organisation_id, Licence.state == "active",
               LicenceDataset.dataset_id == dataset_id)
        .options(selectinload(Licence.datasets)).order_by(Licence.id.desc())
    ).unique()
    result = []
    for licence in found:
        entry = next(d for d in licence.datasets if d.dataset_id == dataset_id)
        if licence_status(licence) == "active" and (operation is None or operation in entry.operations):
            result.append(Holding(licence, entry))
    return result


@dataclass(frozen=True)
class BrowserHolder:
    """A signed-in person downloading under their organisation's licence."""

    user: User
    token: VerifiedToken  # the licence's grants in a token's shape (no jti, no client)
    state: LiveState


def browser_holder(session: Session, request: Request, dataset_id: str, operation: str,
                   usage_kind: str) -> BrowserHolder | str | None:
    """None: no signed-in person (the guard asks for a token). A string: why this
    signed-in person cannot use a licence here (an error code). Else the holder."""
    cookie = request.cookies.get(SESSION_COOKIE)
    found = find_session(session, cookie) if cookie else None
    if found is None:
        return None
    user = found.user
    if not _from_this_portal(request):
        return "cross_site_download"
    if user.organisation is not None and user.organisation.disabled:
        return "organisation_disabled"
    held = holdings(session, user.organisation_id, dataset_id, operation)
    if not held:
        return "licence_required"
    licence = held[0].licence
    used = session.scalar(select(LicenceUsage.used).where(
        LicenceUsage.licence_id == licence.id, LicenceUsage.day == localtime.today(session),
        LicenceUsage.kind == usage_kind)) or 0
    grants = {d.dataset_id: DatasetGrant(frozenset(d.operations), tuple(d.fields)) for d in licence.datasets}
    token = VerifiedToken(jti="", client_id="", licence_id=licence.id, scope=f"licence:{licence.id}",
                          issued_at=0, expires_at=0, datasets=grants, claims={})
    return BrowserHolder(user, token, LiveState("active", False, False, limit_for(licence, usage_kind), used))
