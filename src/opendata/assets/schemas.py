"""Request and response shapes of /api/v1/assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from opendata.assets.models import DataAsset
from opendata.assets.service import AssetInput


@dataclass(frozen=True)
class AssetRegisterIn(AssetInput):
    dataset: str = ""

    def to_input(self) -> AssetInput:
        return AssetInput(**{name: getattr(self, name) for name in AssetInput.__dataclass_fields__})


@dataclass
class RevokeIn:
    reason: str


@dataclass
class AssetOut:
    code: str
    dataset: str
    revision: int
    status: str
    holder_department: str
    source_system: str | None
    responsible_department: str | None
    update_mechanism: str | None
    quality_standard: str | None
    rows: int
    bytes: int | None
    quality_score: float | None
    open_level: str
    permitted_uses: list[str] = field(default_factory=list)
    value_assessment: str | None = None
    compliance_status: str = "pending"
    compliance_reviewer: str | None = None
    compliance_date: date | None = None
    compliance_notes: str | None = None
    registered_by: str = ""
    registered_at: datetime | None = None
    amended_at: datetime | None = None
    revoked_at: datetime | None = None
    certificate_url: str = ""


def asset_out(asset: DataAsset) -> AssetOut:
    return AssetOut(
        code=asset.code, dataset=asset.dataset_id, revision=asset.revision, status=asset.status,
        holder_department=asset.holder_department, source_system=asset.source_system,
        responsible_department=asset.responsible_department, update_mechanism=asset.update_mechanism,
        quality_standard=asset.quality_standard, rows=asset.row_count, bytes=asset.byte_count,
        quality_score=asset.quality_score, open_level=asset.open_level,
        permitted_uses=list(asset.permitted_uses or []), value_assessment=asset.value_assessment,
        compliance_status=asset.compliance_status, compliance_reviewer=asset.compliance_reviewer,
        compliance_date=asset.compliance_date, compliance_notes=asset.compliance_notes,
        registered_by=asset.registered_by, registered_at=asset.registered_at, amended_at=asset.amended_at,
        revoked_at=asset.revoked_at, certificate_url=f"/api/v1/assets/{asset.code}/certificate",
    )
