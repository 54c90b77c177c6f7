"""Asking for data, supporting a request, answering it. Takes a session, knows no HTTP.

Every change is audited in the same transaction (``demand.create``, ``demand.support``,
``demand.answer``); a bad input raises before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from opendata.access.principals import Principal
from opendata.audit.service import RequestInfo, append
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, Publisher
from opendata.db import utcnow
from opendata.demand.models import STATUSES, DataRequest, DataRequestSupport
from opendata.errors import AppError, bad_request, text_field

TITLE_MAX = 255
TEXT_MAX = 4000
ANSWER_STATUSES = ("planned", "published", "declined")
SORTS = ("support", "newest")


@dataclass(frozen=True)
class RequestInput:
    title: str
    description: str
    domain: str | None = None
    publisher_id: str | None = None


@dataclass(frozen=True)
class ListedRequest:
    request: DataRequest
    supporters: int


def create_request(session: Session, principal: Principal, data: RequestInput, request: RequestInfo) -> DataRequest:
    title = text_field(data.title, "title", TITLE_MAX, 4)
    description = text_field(data.description, "description", TEXT_MAX, 10)
    domain = None
    if data.domain:
        term = vocab.resolve_domain(data.domain)
        if term is None:
            raise bad_request("unknown_domain", f"unknown domain {data.domain!r}")
        domain = term.code
    if data.publisher_id and session.get(Publisher, data.publisher_id) is None:
        raise bad_request("unknown_publisher", f"publisher {data.publisher_id!r} does not exist")
    row = DataRequest(title=title, description=description, domain=domain, publisher_id=data.publisher_id or None,
                      requester_id=principal.user.id, status="open", created_at=utcnow())
    session.add(row)
    session.flush()
    append(session, actor=principal.actor, action="demand.create", target=f"data_request:{row.id}",
           details={"title": title, "domain": domain, "publisher": row.publisher_id}, request=request)
    return row


def get_request(session: Session, request_id: int) -> DataRequest:
    row = session.scalars(
        select(DataRequest).where(DataRequest.id == request_id)
        .options(selectinload(DataRequest.requester), selectinload(DataRequest.answerer),
                 selectinload(DataRequest.publisher))
    ).one_or_none()
    if row is None:
        raise AppError(404, "not_found", f"data request {request_id} does not exist")
    return row


def supporters(session: Session, request_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(DataRequestSupport).where(DataRequestSupport.request_id == request_id)
    ) or 0


def has_supported(session: Session, request_id: int, user_id: int) -> bool:
    return session.get(DataRequestSupport, (request_id, user_id)) is not None


def list_requests(session: Session, *, status: str | None = None, sort: str = "support",
                  requester_id: int | None = None) -> list[ListedRequest]:
    if status is not None and status not in STATUSES:
        raise bad_request("unknown_state", f"status is one of {', '.join(STATUSES)}")
    if sort not in SORTS:
        raise bad_request("invalid_sort", f"sort is one of {', '.join(SORTS)}")
    counts = (
        select(DataRequestSupport.request_id, func.count().label("n"))
        .group_by(DataRequestSupport.request_id).subquery()
    )
    support = func.coalesce(counts.c.n, 0)
    statement = (
        select(DataRequest, support).outerjoin(counts, counts.c.request_id == DataRequest.id)
        .options(selectinload(DataRequest.requester), selectinload(DataRequest.publisher))
    )
    if status is not None:
        statement = statement.where(DataRequest.status == status)
    if requester_id is not None:
        statement = statement.where(DataRequest.requester_id == requester_id)
    if sort == "support":
        statement = statement.order_by(support.desc(), DataRequest.id.desc())
    else:
        statement = statement.order_by(DataRequest.id.desc())
    return [ListedRequest(row, int(n)) for row, n in session.execute(statement)]


def support(session: Session, principal: Principal, row: DataRequest, request: RequestInfo) -> int:
    """Add the caller's vote; returns the new count. One vote per person, and not for
    one's own request: support measures how many *others* need the same data."""
    if row.requester_id == principal.user.id:
        raise AppError(409, "own_request", "you asked for this data yourself; support is for other people's requests")
    if has_supported(session, row.id, principal.user.id):
        raise AppError(409, "already_supported", "you support this request already")
    session.add(DataRequestSupport(request_id=row.id, user_id=principal.user.id, created_at=utcnow()))
    try:
        session.flush()
    except IntegrityError:  # the same person's second click, in a race with the first
        raise AppError(409, "already_supported", "you support this request already") from None
    count = supporters(session, row.id)
    append(session, actor=principal.actor, action="demand.support", target=f"data_request:{row.id}",
           details={"supporters": count}, request=request)
    return count


def answer(session: Session, principal: Principal, row: DataRequest, status: str, text: str,
           dataset_id: str | None, request: RequestInfo) -> DataRequest:
    """An administrator's answer: planned, published (naming the dataset) or declined."""
    if principal.user.role != "admin":
        raise AppError(403, "forbidden_role", "only administrators answer data requests")
    if status not in ANSWER_STATUSES:
        raise bad_request("unknown_state", f"answer with one of {', '.join(ANSWER_STATUSES)}")
    reply = text_field(text, "answer", TEXT_MAX)
    dataset_id = (dataset_id or "").strip() or None
    if status == "published":
        if dataset_id is None:
            raise bad_request("missing_dataset", "say which dataset now publishes the data")
        if session.get(Dataset, dataset_id) is None:
            raise bad_request("unknown_dataset", f"dataset {dataset_id!r} does not exist")
    elif dataset_id is not None:
        raise bad_request("unexpected_dataset", "only a published request names a dataset")
    previous = row.status
    row.status, row.answer, row.dataset_id = status, reply, dataset_id
    row.answered_by, row.answered_at = principal.user.id, utcnow()
    append(session, actor=principal.actor, action="demand.answer", target=f"data_request:{row.id}",
           details={"from": previous, "to": status, "dataset": dataset_id}, request=request)
    return row
