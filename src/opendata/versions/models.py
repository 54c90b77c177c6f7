"""Version records: one row per new generation of a resource's table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base, UTCDateTime, utcnow

ORIGINS = ("load", "upload", "rollback")
"""How a version came about: a catalogue load, a publisher's upload, a roll-back."""


class DatasetVersion(Base):
    """A version of a dataset: one resource's new table generation and its diff.

    Numbers count per dataset (1, 2, ...). ``table_name`` names the generation's table
    while it is kept (the current one and the previous ``versions_kept``); NULL once dropped.
    """

    __tablename__ = "dataset_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "user:<name>" for an upload or roll-back, "catalogue load" for a load.
    actor: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the file's bytes as received (a roll-back repeats its source's digest).
    file_digest: Mapped[str | None] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(BigInteger)
    # The primary key the diff is by; None: rows compared whole.
    diff_key: Mapped[str | None] = mapped_column(String(63))
    added: Mapped[int] = mapped_column(BigInteger)
    removed: Mapped[int] = mapped_column(BigInteger)
    # None when there is no key to tell a changed row from a removed and an added one.
    changed: Mapped[int | None] = mapped_column(BigInteger)
    # {"added": [keys], "removed": [keys], "changed": [keys],
    #  "columns_added": [names], "columns_removed": [names]}
    samples: Mapped[dict] = mapped_column(JSON)
    # [{"name", "type"}] of this generation's table.
    columns: Mapped[list] = mapped_column(JSON)
    table_name: Mapped[str | None] = mapped_column(String(63))
    # For a roll-back: the number of the version restored.
    restored_from: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("dataset_id", "number", name="uq_dataset_versions_dataset_id_number"),
        Index("ix_dataset_versions_table_name", "table_name"),
    )
