"""Tables of the reuse showcase: the showcases and the datasets each one uses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opendata.access.models import User
from opendata.db import Base, UTCDateTime, utcnow

# What was built: an application, an analysis (report, article), a visualisation, other.
KINDS = ("app", "analysis", "visualisation", "other")
# submitted -> approved | rejected; approved -> rejected (taken down, with its reason).
STATES = ("submitted", "approved", "rejected")


class Showcase(Base):
    __tablename__ = "showcases"
    __table_args__ = (Index("ix_showcases_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(500))
    # A screenshot's address: the pages link to it, never load it (no hot-linking; the CSP
    # allows images of this site only).
    image_url: Mapped[str | None] = mapped_column(String(500))
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)

    submitter: Mapped[User] = relationship(foreign_keys=[submitter_id])
    datasets: Mapped[list["ShowcaseDataset"]] = relationship(
        order_by="ShowcaseDataset.position", cascade="all, delete-orphan", back_populates="showcase")

    @property
    def dataset_ids(self) -> list[str]:
        return [d.dataset_id for d in self.datasets]


class ShowcaseDataset(Base):
    """A dataset a showcase uses (the key makes each dataset count once)."""

    __tablename__ = "showcase_datasets"

    showcase_id: Mapped[int] = mapped_column(ForeignKey("showcases.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    showcase: Mapped[Showcase] = relationship(back_populates="datasets")
