"""The reuse showcase's logic: submit, list, moderate. Takes a session, knows no HTTP.

Pre-moderated (as data.gouv.fr's reuses and the city platforms' 应用成果 are): a new
showcase is ``submitted`` and visible only to its submitter and the administrators
until one approves it. Deciding needs a reason, kept on the showcase (the submitter reads
why) and in the audit record; an approved showcase can be taken down (rejected) again.
Every write is audited in its transaction (``showcase.submit``, ``showcase.approve``,
``showcase.reject``); a refused one is audited as a refusal.

Links are the only thing a showcase puts on the platform's pages: they must be http(s)
URLs (``javascript:``, ``data:`` and the like are refused, as are credentials in a URL
and control characters), are shown with ``rel="nofollow ugc noopener noreferrer"``, and
an image's URL is linked, never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from opendata.access.principals import Principal
from opendata.audit.service import RequestInfo, append, refuse
from opendata.catalogue.models import Dataset
from opendata.db import utcnow
from opendata.errors import AppError, bad_request, text_field
from opendata.showcase.models import KINDS, STATES, Showcase, ShowcaseDataset

TITLE_MAX = 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 4000
URL_MAX = 500
REASON_MAX = 500
DATASETS_MAX = 10
PAGE_SIZE_MAX = 100
PER_DAY = 5  # submissions per person in 24 hours
DAY = timedelta(days=1)
DECISIONS = {"approve": "approved", "reject": "rejected"}
# (from, to) an administrator may move a showcase along.
TRANSITIONS = {("submitted", "approved"), ("submitted", "rejected"), ("approved", "rejected")}


@dataclass(frozen=True)
class ShowcaseInput:
    title: object
    description: object
    url: object
    datasets: object
    kind: object = "app"
    image_url: object = None


@dataclass
class ShowcasePage:
    items: list[Showcase]
    total: int
    page: int
    page_size: int
    counts: dict[str, int] = field(default_factory=dict)


def _text(value: object, name: str, limit: int, minimum: int = 1) -> str:
    """``text_field``, its error naming the field in ``details`` (the form says which)."""
    try:
        return text_field(value, name, limit, minimum)
    except AppError as error:
        raise bad_request(error.code, error.message, details={"field": name}) from None


def _bad_url(name: str, message: str) -> AppError:
    return bad_request("invalid_url", f"{name} {message}", details={"field": name})


def checked_url(value: object, name: str, *, required: bool = True) -> str | None:
    """An http(s) URL without credentials, spaces or control characters; else a 400."""
    if not required and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    text = _text(value, name, URL_MAX)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise _bad_url(name, "must not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise _bad_url(name, "is not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise _bad_url(name, "must be an http:// or https:// address of a site")
    if "@" in parts.netloc:
        raise _bad_url(name, "must not carry a user name or password")
    return text


def _dataset_ids(session: Session, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("invalid_datasets", "datasets is a list of dataset ids")
    ids = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if not 1 <= len(ids) <= DATASETS_MAX:
        raise bad_request("invalid_datasets", f"name 1 to {DATASETS_MAX} datasets the showcase uses")
    known = set(session.scalars(select(Dataset.id).where(Dataset.id.in_(ids))))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise bad_request("unknown_dataset", f"no dataset {', '.join(unknown)}")
    return ids


def submit(session: Session, principal: Principal, data: ShowcaseInput, request: RequestInfo) -> Showcase:
    title = _text(data.title, "title", TITLE_MAX, 2)
    description = _text(data.description, "description", DESCRIPTION_MAX, DESCRIPTION_MIN)
    if data.kind not in KINDS:
        raise bad_request("invalid_showcase_kind", f"kind is one of {', '.join(KINDS)}")
    url = checked_url(data.url, "url")
    image_url = checked_url(data.image_url, "image_url", required=False)
    ids = _dataset_ids(session, data.datasets)
    recent = session.scalar(select(func.count()).select_from(Showcase).where(
        Showcase.submitter_id == principal.user.id, Showcase.created_at > utcnow() - DAY)) or 0
    if recent >= PER_DAY:
        refuse(session, AppError(429, "too_many_showcases", f"at most {PER_DAY} showcases a day; try again tomorrow",
                                 headers={"Retry-After": str(int(DAY.total_seconds()))}),
               actor=principal.actor, action="showcase.submit", request=request)
    row = Showcase(title=title, description=description, kind=str(data.kind), url=url, image_url=image_url,
                   submitter_id=principal.user.id, state="submitted", created_at=utcnow(),
                   datasets=[ShowcaseDataset(dataset_id=d, position=i) for i, d in enumerate(ids)])
    session.add(row)
    session.flush()
    append(session, actor=principal.actor, action="showcase.submit", target=f"showcase:{row.id}",
           details={"datasets": ids, "url": url}, request=request)
    return row


def _may_see(showcase: Showcase, viewer: Principal | None) -> bool:
    if showcase.state == "approved":
        return True
    return viewer is not None and (viewer.user.role == "admin" or viewer.user.id == showcase.submitter_id)


def get_showcase(session: Session, showcase_id: int, viewer: Principal | None = None) -> Showcase:
    """The showcase, if ``viewer`` may see it (approved: everyone; else its submitter and
    administrators); else 404, so that ids cannot be probed."""
    row = session.scalars(select(Showcase).where(Showcase.id == showcase_id)
                          .options(selectinload(Showcase.submitter), selectinload(Showcase.datasets))).one_or_none()
    if row is None or not _may_see(row, viewer):
        raise AppError(404, "not_found", f"showcase {showcase_id} does not exist")
    return row


def list_showcases(session: Session, *, state: str | None = "approved", dataset_id: str | None = None,
                   submitter_id: int | None = None, kind: str | None = None, page: int = 1,
                   page_size: int = 20) -> ShowcasePage:
    """Newest first. ``state`` None: every state (the submitter's own list, moderation)."""
    if page < 1:
        raise bad_request("invalid_page", "page starts at 1")
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise bad_request("invalid_page_size", f"page_size is 1 to {PAGE_SIZE_MAX}")
    if state is not None and state not in STATES:
        raise bad_request("invalid_state", f"state is one of {', '.join(STATES)}")
    if kind is not None and kind not in KINDS:
        raise bad_request("invalid_showcase_kind", f"kind is one of {', '.join(KINDS)}")
    statement: Select = select(Showcase)
    if state is not None:
        statement = statement.where(Showcase.state == state)
    if dataset_id is not None:
        statement = statement.where(Showcase.id.in_(
            select(ShowcaseDataset.showcase_id).where(ShowcaseDataset.dataset_id == dataset_id)))
    if submitter_id is not None:
        statement = statement.where(Showcase.submitter_id == submitter_id)
    if kind is not None:
        statement = statement.where(Showcase.kind == kind)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = session.scalars(statement.options(selectinload(Showcase.submitter), selectinload(Showcase.datasets))
                            .order_by(Showcase.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return ShowcasePage(list(items), total, page, page_size)


def state_counts(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: n for state, n in session.execute(
        select(Showcase.state, func.count()).group_by(Showcase.state))})
    return counts


def decide(session: Session, principal: Principal, showcase: Showcase, decision: object, reason: object,
           request: RequestInfo) -> Showcase:
    """Approve or reject (an approved one: take it down), with a reason. Administrators only."""
    target = f"showcase:{showcase.id}"
    if principal.user.role != "admin":
        refuse(session, AppError(403, "forbidden_role", "only administrators decide on showcases"),
               actor=principal.actor, action="showcase.decide", target=target, request=request)
    if decision not in DECISIONS:
        raise bad_request("invalid_decision", "decision is approve or reject")
    text = text_field(reason, "reason", REASON_MAX)
    to = DECISIONS[str(decision)]
    if (showcase.state, to) not in TRANSITIONS:
        raise AppError(409, "invalid_transition", f"showcase {showcase.id} is {showcase.state}; it cannot be {to}")
    previous = showcase.state
    showcase.state, showcase.decided_at, showcase.decided_by, showcase.decision_reason = (
        to, utcnow(), principal.user.id, text)
    append(session, actor=principal.actor, action=f"showcase.{decision}", target=target,
           details={"from": previous, "reason": text}, request=request)
    return showcase
