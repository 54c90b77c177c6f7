"""Daily usage counters, the raw material of the open-data index (数据开放指数)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base


class UsageCounter(Base):
    """How often something happened to a dataset on a day: one row per
    (dataset, day, metric, format), incremented in place."""

    __tablename__ = "usage_counters"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    format: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
