"""Tables of the data-request list (供需对接)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opendata.access.models import User
from opendata.catalogue.models import Publisher
from opendata.db import Base, UTCDateTime, utcnow

STATUSES = ("open", "planned", "published", "declined")


class DataRequest(Base):
    """A request for data that is not published yet, and the administrators' answer."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    # The domain and department the requester thinks the data belongs to (optional).
    domain: Mapped[str | None] = mapped_column(String(32))
    publisher_id: Mapped[str | None] = mapped_column(ForeignKey("publishers.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    # When published: the dataset that now answers the request.
    dataset_id: Mapped[str | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"))
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    answerer: Mapped[User | None] = relationship(foreign_keys=[answered_by])
    publisher: Mapped[Publisher | None] = relationship()


class DataRequestSupport(Base):
    """One person's support of a request: the primary key makes it one vote per person."""

    __tablename__ = "data_request_supports"

    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
