"""Job tables: a long computation (a scoring of a whole customer book, ...) and its chunks.

The state lives here, not in a process, so that any portal process can answer "how far is
job X" and a restart can tell which jobs lost the process that ran them. Results are
ciphertexts only the job's organisation can decrypt, kept per chunk until the job's
``expires_at`` (then purged: the rows stay, their ``output`` goes).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base, UTCDateTime, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED = (
    "queued", "running", "succeeded", "failed", "cancelled", "expired")
JOB_STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED)
ACTIVE_STATES = (QUEUED, RUNNING)


class ComputeJob(Base):
    __tablename__ = "compute_jobs"
    __table_args__ = (Index("ix_compute_jobs_state_heartbeat", "state", "heartbeat_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: not enumerable
    kind: Mapped[str] = mapped_column(String(32))
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(127))  # the audit actor (client:…)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    # What the job is, for its owner and the administrators (no subject, no ciphertext).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total_chunks: Mapped[int] = mapped_column(Integer)
    done_chunks: Mapped[int] = mapped_column(Integer, default=0)
    # Quota units charged at submission on ``charged_on``; what was not computed is refunded.
    units: Mapped[int] = mapped_column(Integer)
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    charged_on: Mapped[date] = mapped_column(Date)
    engine: Mapped[str] = mapped_column(String(16))  # local | dask
    runner: Mapped[str] = mapped_column(String(127))  # host:pid of the process coordinating it
    error_code: Mapped[str | None] = mapped_column(String(63))
    error_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ComputeJobChunk(Base):
    __tablename__ = "compute_job_chunks"

    job_id: Mapped[str] = mapped_column(ForeignKey("compute_jobs.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    input: Mapped[Any] = mapped_column(JSON, nullable=True)  # e.g. the chunk's subjects; dropped with the output
    output: Mapped[str | None] = mapped_column(Text)  # JSON of the chunk's encrypted results
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
