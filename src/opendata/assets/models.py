"""Tables of the asset register: one row per registered dataset, one per issued certificate."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base, UTCDateTime, utcnow

COMPLIANCE_STATUSES = ("pending", "passed", "failed")  # 待审查 / 通过 / 不通过
STATUSES = ("registered", "revoked")


class DataAsset(Base):
    """A dataset registered as a public-data asset; amendments raise ``revision``."""

    __tablename__ = "data_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="registered", index=True)
    holder_department: Mapped[str] = mapped_column(String(255))
    source_system: Mapped[str | None] = mapped_column(String(255))
    responsible_department: Mapped[str | None] = mapped_column(String(255))
    update_mechanism: Mapped[str | None] = mapped_column(String(255))
    quality_standard: Mapped[str | None] = mapped_column(String(255))
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    byte_count: Mapped[int | None] = mapped_column(BigInteger)
    quality_score: Mapped[float | None] = mapped_column(Float)
    open_level: Mapped[str] = mapped_column(String(16))
    permitted_uses: Mapped[list[str]] = mapped_column(JSON, default=list)
    value_assessment: Mapped[str | None] = mapped_column(Text)
    compliance_status: Mapped[str] = mapped_column(String(16), default="pending")
    compliance_reviewer: Mapped[str | None] = mapped_column(String(255))
    compliance_date: Mapped[date | None] = mapped_column(Date)
    compliance_notes: Mapped[str | None] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(255))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    amended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class AssetCertificate(Base):
    """One issued certificate (资产凭证): the signed document of one revision of an asset."""

    __tablename__ = "data_asset_certificates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the certificate's jti
    asset_id: Mapped[int] = mapped_column(ForeignKey("data_assets.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    kid: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
