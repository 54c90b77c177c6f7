"""Response shapes of the feedback API (documented in the OpenAPI schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opendata.feedback.models import CommentReply, DatasetComment
from opendata.feedback.ratings import RatingSummary


@dataclass
class RatingSummaryOut:
    """average: mean stars to one decimal (null while nobody rated); distribution: how
    many people gave each number of stars ("1" … "5")."""

    average: float | None
    count: int
    distribution: dict[str, int]


@dataclass
class RatingOut(RatingSummaryOut):
    # The caller's own stars, when signed in and rated.
    mine: int | None = None


@dataclass
class ReplyOut:
    id: int
    body: str
    author: str
    # "publisher": the dataset's publisher department answered; "admin": an administrator.
    author_role: str
    created_at: datetime


@dataclass
class CommentOut:
    id: int
    dataset_id: str
    kind: str
    body: str
    author: str
    created_at: datetime
    category: str | None = None
    status: str | None = None
    replies: list[ReplyOut] = field(default_factory=list)
    hidden: bool = False
    # Administrators only: why and when it was hidden.
    hidden_reason: str | None = None
    hidden_at: datetime | None = None


@dataclass
class CommentPageOut:
    items: list[CommentOut]
    total: int
    page: int
    page_size: int


def rating_summary_out(summary: RatingSummary) -> RatingSummaryOut:
    return RatingSummaryOut(summary.average, summary.count, dict(summary.distribution))


def rating_out(summary: RatingSummary, mine: int | None = None) -> RatingOut:
    return RatingOut(summary.average, summary.count, dict(summary.distribution), mine)


def reply_out(row: CommentReply) -> ReplyOut:
    return ReplyOut(row.id, row.body, row.author.display_name, row.author_role, row.created_at)


def comment_out(row: DatasetComment, *, moderator: bool = False) -> CommentOut:
    out = CommentOut(id=row.id, dataset_id=row.dataset_id, kind=row.kind, body=row.body,
                     author=row.author.display_name, created_at=row.created_at, category=row.category,
                     status=row.status, replies=[reply_out(r) for r in row.replies],
                     hidden=row.hidden_at is not None)
    if moderator:
        out.hidden_reason, out.hidden_at = row.hidden_reason, row.hidden_at
    return out
