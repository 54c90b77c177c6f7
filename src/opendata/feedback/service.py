"""Comments and problem reports, publisher replies and moderation. Takes a session,
knows no HTTP.

Published at once (post-moderation, as data.gouv.fr's discussions): an administrator
hides a comment with a reason and may restore it; hidden comments leave every public
list but stay in the administrators' view. The dataset's publisher department (its
publisher accounts, the same rule as editing its metadata) and administrators reply,
and set a problem report open or resolved. Every write is audited in its transaction
(``feedback.comment``, ``feedback.reply``, ``feedback.status``, ``feedback.hide``,
``feedback.restore``); a refused one is audited as a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, selectinload

from opendata.access.dataset_edit import may_edit
from opendata.access.principals import Principal
from opendata.audit.service import RequestInfo, append, refuse
from opendata.catalogue.models import Dataset
from opendata.db import utcnow
from opendata.errors import AppError, bad_request, text_field
from opendata.feedback.models import CATEGORIES, KINDS, PROBLEM_STATUSES, CommentReply, DatasetComment

BODY_MIN = 2
BODY_MAX = 2000
REASON_MAX = 500
PAGE_SIZE_MAX = 100
RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class CommentInput:
    kind: str
    body: str
    category: str | None = None


@dataclass(frozen=True)
class CommentPage:
    items: list[DatasetComment]
    total: int
    page: int
    page_size: int


def may_answer(principal: Principal, dataset: Dataset) -> bool:
    """An administrator, or a publisher account of the dataset's own department."""
    return may_edit(principal, dataset)


def _check_input(data: CommentInput) -> tuple[str, str | None, str]:
    if data.kind not in KINDS:
        raise bad_request("invalid_kind", f"kind is one of {', '.join(KINDS)}")
    category = (data.category or "").strip() or None
    if data.kind == "problem":
        if category not in CATEGORIES:
            raise bad_request("invalid_category", f"a problem report's category is one of {', '.join(CATEGORIES)}")
    elif category is not None:
        raise bad_request("invalid_category", "only a problem report has a category")
    return data.kind, category, text_field(data.body, "body", BODY_MAX, BODY_MIN)


def post_comment(session: Session, principal: Principal, dataset: Dataset, data: CommentInput,
                 request: RequestInfo, *, per_hour: int) -> DatasetComment:
    """A new comment or problem report by the caller, visible at once. Comments on closed
    (不予开放) datasets are allowed: their metadata is public, and asking for them is feedback."""
    kind, category, body = _check_input(data)
    since = utcnow() - RATE_WINDOW
    recent = session.scalar(select(func.count()).select_from(DatasetComment).where(
        DatasetComment.author_id == principal.user.id, DatasetComment.created_at > since)) or 0
    if recent >= per_hour:
        refuse(session, AppError(429, "too_many_comments",
                                 f"at most {per_hour} comments or reports an hour; try again later",
                                 headers={"Retry-After": str(int(RATE_WINDOW.total_seconds()))}),
               actor=principal.actor, action="feedback.comment", target=f"dataset:{dataset.id}", request=request)
    row = DatasetComment(dataset_id=dataset.id, author_id=principal.user.id, kind=kind, category=category,
                         status="open" if kind == "problem" else None, body=body, created_at=utcnow())
    session.add(row)
    session.flush()
    append(session, actor=principal.actor, action="feedback.comment", target=f"comment:{row.id}",
           details={"dataset": dataset.id, "kind": kind, "category": category}, request=request)
    return row


def get_comment(session: Session, comment_id: int, *, include_hidden: bool = False) -> DatasetComment:
    row = session.scalars(
        select(DatasetComment).where(DatasetComment.id == comment_id)
        .options(selectinload(DatasetComment.author), selectinload(DatasetComment.replies)
                 .selectinload(CommentReply.author))
    ).one_or_none()
    if row is None or (row.hidden_at is not None and not include_hidden):
        raise AppError(404, "not_found", f"comment {comment_id} does not exist")
    return row


def _page(session: Session, statement: Select, page: int, page_size: int) -> CommentPage:
    if page < 1:
        raise bad_request("invalid_page", "page starts at 1")
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise bad_request("invalid_page_size", f"page_size is 1 to {PAGE_SIZE_MAX}")
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = session.scalars(
        statement.options(selectinload(DatasetComment.author),
                          selectinload(DatasetComment.replies).selectinload(CommentReply.author))
        .order_by(DatasetComment.id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return CommentPage(list(items), total, page, page_size)


def list_comments(session: Session, dataset_id: str, *, include_hidden: bool = False, page: int = 1,
                  page_size: int = 20) -> CommentPage:
    statement = select(DatasetComment).where(DatasetComment.dataset_id == dataset_id)
    if not include_hidden:
        statement = statement.where(DatasetComment.hidden_at.is_(None))
    return _page(session, statement, page, page_size)


def awaiting_reply(session: Session, principal: Principal, *, page: int = 1, page_size: int = 20) -> CommentPage:
    """Visible comments without a reply, and open problem reports, on the datasets the
    caller answers for (a publisher: its department's; an administrator: all)."""
    replied = exists().where(CommentReply.comment_id == DatasetComment.id)
    statement = (select(DatasetComment).join(Dataset, Dataset.id == DatasetComment.dataset_id)
                 .where(DatasetComment.hidden_at.is_(None))
                 .where(~replied | (DatasetComment.status == "open")))
    if principal.user.role != "admin":
        statement = statement.where(Dataset.publisher_id == principal.user.publisher_id)
    return _page(session, statement, page, page_size)


def moderation_list(session: Session, *, hidden: bool | None = None, page: int = 1,
                    page_size: int = 20) -> CommentPage:
    statement = select(DatasetComment)
    if hidden is True:
        statement = statement.where(DatasetComment.hidden_at.is_not(None))
    elif hidden is False:
        statement = statement.where(DatasetComment.hidden_at.is_(None))
    return _page(session, statement, page, page_size)


def _require_answerer(session: Session, principal: Principal, dataset: Dataset, action: str, target: str,
                      request: RequestInfo) -> None:
    if not may_answer(principal, dataset):
        refuse(session, AppError(403, "not_your_dataset",
                                 f"dataset {dataset.id!r} belongs to {dataset.publisher_id}; only its publisher "
                                 "department or an administrator may do this"),
               actor=principal.actor, action=action, target=target, request=request)


def reply(session: Session, principal: Principal, comment: DatasetComment, body: object,
          request: RequestInfo) -> CommentReply:
    dataset = session.get(Dataset, comment.dataset_id)
    assert dataset is not None  # the foreign key cascades
    _require_answerer(session, principal, dataset, "feedback.reply", f"comment:{comment.id}", request)
    text = text_field(body, "body", BODY_MAX, BODY_MIN)
    row = CommentReply(comment_id=comment.id, author_id=principal.user.id, author_role=principal.user.role,
                       body=text, created_at=utcnow())
    session.add(row)
    session.flush()
    append(session, actor=principal.actor, action="feedback.reply", target=f"comment:{comment.id}",
           details={"dataset": dataset.id, "reply": row.id}, request=request)
    return row


def set_status(session: Session, principal: Principal, comment: DatasetComment, status: object,
               request: RequestInfo) -> DatasetComment:
    dataset = session.get(Dataset, comment.dataset_id)
    assert dataset is not None
    _require_answerer(session, principal, dataset, "feedback.status", f"comment:{comment.id}", request)
    if comment.kind != "problem":
        raise AppError(409, "not_a_problem", "only a problem report is open or resolved")
    if status not in PROBLEM_STATUSES:
        raise bad_request("invalid_status", f"status is one of {', '.join(PROBLEM_STATUSES)}")
    previous = comment.status
    comment.status = str(status)
    comment.resolved_at, comment.resolved_by = ((utcnow(), principal.user.id) if status == "resolved"
                                                else (None, None))
    append(session, actor=principal.actor, action="feedback.status", target=f"comment:{comment.id}",
           details={"from": previous, "to": status}, request=request)
    return comment


def _require_admin(session: Session, principal: Principal, action: str, target: str, request: RequestInfo) -> None:
    if principal.user.role != "admin":
        refuse(session, AppError(403, "forbidden_role", "only administrators moderate comments"),
               actor=principal.actor, action=action, target=target, request=request)


def hide(session: Session, principal: Principal, comment: DatasetComment, reason: object,
         request: RequestInfo) -> DatasetComment:
    _require_admin(session, principal, "feedback.hide", f"comment:{comment.id}", request)
    text = text_field(reason, "reason", REASON_MAX)
    if comment.hidden_at is not None:
        raise AppError(409, "already_hidden", f"comment {comment.id} is hidden already")
    comment.hidden_at, comment.hidden_by, comment.hidden_reason = utcnow(), principal.user.id, text
    append(session, actor=principal.actor, action="feedback.hide", target=f"comment:{comment.id}",
           details={"dataset": comment.dataset_id, "reason": text}, request=request)
    return comment


def restore(session: Session, principal: Principal, comment: DatasetComment, request: RequestInfo) -> DatasetComment:
    _require_admin(session, principal, "feedback.restore", f"comment:{comment.id}", request)
    if comment.hidden_at is None:
        raise AppError(409, "not_hidden", f"comment {comment.id} is not hidden")
    reason = comment.hidden_reason
    comment.hidden_at, comment.hidden_by, comment.hidden_reason = None, None, None
    append(session, actor=principal.actor, action="feedback.restore", target=f"comment:{comment.id}",
           details={"dataset": comment.dataset_id, "hidden_for": reason}, request=request)
    return comment
