"""One row per ingest of a tabular resource: the counts the quality score is computed from.

Counts, not ratios, are stored, so a dataset's score pools its resources exactly and
anyone can recompute it from the rows (docs/quality.md). Timeliness is not stored: it
depends on the day it is read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base, UTCDateTime, utcnow


class QualityMeasurement(Base):
    __tablename__ = "quality_measurements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(63))
    resource_pk: Mapped[int] = mapped_column(ForeignKey("resources.pk", ondelete="CASCADE"))
    resource_id: Mapped[str] = mapped_column(String(63))
    # "upload" (a publisher's file) or "catalogue" (a catalogue load): where the measured rows came from.
    origin: Mapped[str] = mapped_column(String(16))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(BigInteger)
    # {"fields": {name: {"values", "invalid"}}, "keys": [...], "checks": [...], "references": [...]}
    detail: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_quality_measurements_resource_pk_id", "resource_pk", "id"),
        Index("ix_quality_measurements_dataset_id", "dataset_id"),
    )
