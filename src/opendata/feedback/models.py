"""Tables of ratings, comments / problem reports and their official replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opendata.access.models import User
from opendata.db import Base, UTCDateTime, utcnow

KINDS = ("comment", "problem")
# What a problem report is about (data.sh.gov.cn's 纠错 categories, data.gov.uk's "report a problem").
CATEGORIES = ("data_error", "broken_link", "outdated", "other")
PROBLEM_STATUSES = ("open", "resolved")


class DatasetRating(Base):
    """One person's stars for a dataset: the primary key makes it one rating per person."""

    __tablename__ = "dataset_ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    stars: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetComment(Base):
    """A comment or a problem report, visible at once; hidden (not deleted) by moderation."""

    __tablename__ = "dataset_comments"
    __table_args__ = (Index("ix_dataset_comments_dataset_id_id", "dataset_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Problem reports only: what is wrong, and whether the publisher resolved it.
    category: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    replies: Mapped[list["CommentReply"]] = relationship(
        order_by="CommentReply.id", cascade="all, delete-orphan", back_populates="comment")


class CommentReply(Base):
    """The publisher's (or an administrator's) answer under a comment."""

    __tablename__ = "comment_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("dataset_comments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # "publisher" or "admin": the role the author answered in (the page marks the publisher's).
    author_role: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    comment: Mapped[DatasetComment] = relationship(back_populates="replies")
