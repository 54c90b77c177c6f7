"""The asset register as a table (CSV or XLSX): one row per registered asset, the columns
of the register itself (公共数据资产登记表), for the department's records and for audits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session

from opendata.assets import service
from opendata.assets.models import DataAsset
from opendata.catalogue import vocabulary as vocab
from opendata.formats import Column

FORMATS = ("xlsx", "csv")

COLUMNS: tuple[Column, ...] = (
    Column("code", "资产编码", "Asset code", "string"),
    Column("dataset", "数据集编号", "Dataset id", "string"),
    Column("revision", "登记版本", "Revision", "integer"),
    Column("status", "登记状态", "Status", "string"),
    Column("holder_department", "持有部门", "Holder department", "string"),
    Column("source_system", "来源系统", "Source system", "string"),
    Column("responsible_department", "责任部门", "Responsible department", "string"),
    Column("update_mechanism", "更新机制", "Update mechanism", "string"),
    Column("quality_standard", "质量标准", "Quality standard", "string"),
    Column("rows", "数据量（行）", "Rows", "integer"),
    Column("bytes", "数据量（字节）", "Bytes", "integer"),
    Column("quality_score", "质量评分", "Quality score", "number"),
    Column("open_level", "开放等级", "Open level", "string"),
    Column("permitted_uses", "允许用途", "Permitted uses", "string"),
    Column("value_assessment", "价值评估", "Value assessment", "string"),
    Column("compliance_status", "合规性审查", "Compliance review", "string"),
    Column("compliance_reviewer", "审查人", "Reviewer", "string"),
    Column("compliance_date", "审查日期", "Review date", "date"),
    Column("registered_by", "登记人", "Registered by", "string"),
    Column("registered_at", "登记时间", "Registered at", "datetime"),
    Column("amended_at", "变更时间", "Amended at", "datetime"),
    Column("certificate_url", "资产凭证", "Certificate", "string"),
)


def _row(asset: DataAsset, api: str) -> Sequence[Any]:
    level = vocab.OPEN_LEVEL_BY_CODE.get(asset.open_level)
    return (
        asset.code, asset.dataset_id, asset.revision, asset.status, asset.holder_department,
        asset.source_system, asset.responsible_department, asset.update_mechanism, asset.quality_standard,
        asset.row_count, asset.byte_count, asset.quality_score, level.zh if level else asset.open_level,
        "; ".join(asset.permitted_uses or []), asset.value_assessment, asset.compliance_status,
        asset.compliance_reviewer, asset.compliance_date, asset.registered_by, asset.registered_at,
        asset.amended_at, f"{api}/api/v1/assets/{asset.code}/certificate",
    )


def register_rows(session: Session, api: str) -> Iterator[Sequence[Any]]:
    """The register's rows (revoked registrations are not in the register), by code. The
    register holds one row per dataset at most: it is read at once."""
    for asset in service.list_assets(session):
        yield _row(asset, api)
