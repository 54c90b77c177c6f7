"""The demo's public-data asset register (公共数据资产登记): four of its datasets are
registered, with certificates, when the demo catalogue is first loaded, so the register,
the certificates and `opendata assets verify` have something real to show.

Registered as any administrator would (opendata.assets.service, audited as
``demo:asset-register``); a dataset that has an asset row already (registered, amended or
revoked by an administrator since) is left alone, so a reload never undoes their work.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from opendata.assets.models import DataAsset
from opendata.assets.service import AssetInput, register
from opendata.audit.service import Actor, RequestInfo
from opendata.catalogue.manifest import CatalogueSpec
from opendata.db import Database
from opendata.settings import Settings, demo_catalogue_path

from .specs import CATALOGUE

REVIEWER = "广州市政务服务和数据管理局"
DEMO_ASSETS: dict[str, AssetInput] = {
    "bus-stops": AssetInput(
        permitted_uses=["公共出行服务", "交通规划研究"], value_assessment="高：全市公交站点基础数据，出行服务高频调用",
        compliance_status="passed", compliance_reviewer=REVIEWER, compliance_date=date(2024, 10, 15),
        compliance_notes="无个人信息，无条件开放"),
    "enterprise-registrations": AssetInput(
        permitted_uses=["企业信用服务", "市场主体分析"], value_assessment="高：市场主体基础信息，与信用、纳税、社保数据关联",
        compliance_status="passed", compliance_reviewer=REVIEWER, compliance_date=date(2024, 10, 15),
        compliance_notes="法定代表人姓名按规则脱敏后开放"),
    "tax-credit-ratings": AssetInput(
        permitted_uses=["金融机构授信审查", "供应链风险评估"], value_assessment="中高：有条件开放，授权使用",
        compliance_status="passed", compliance_reviewer=REVIEWER, compliance_date=date(2024, 11, 1),
        compliance_notes="按授权协议限定用途与字段"),
    "personal-social-insurance": AssetInput(
        permitted_uses=["授权核验（原始数据不出域）"], value_assessment="高：个人数据，仅支持密态计算",
        compliance_status="pending", compliance_reviewer=REVIEWER,
        compliance_notes="个人信息保护影响评估进行中"),
}
ACTOR = Actor("demo:asset-register", "admin")
REQUEST = RequestInfo(method="LOAD", path="catalogue:guangzhou-demo")


def is_demo(spec: CatalogueSpec) -> bool:
    folder = spec.folder
    return spec.id == CATALOGUE["id"] and folder is not None and folder.resolve() == demo_catalogue_path().resolve()


def register_demo_assets(database: Database, settings: Settings, spec: CatalogueSpec) -> list[str]:
    """Register the demo's assets that have no asset row yet; the codes registered."""
    if not is_demo(spec):
        return []
    codes = []
    with database.session() as session:  # the key ring may commit its first signing key
        known = set(session.scalars(select(DataAsset.dataset_id)))
        for dataset_id, data in DEMO_ASSETS.items():
            if dataset_id not in known:
                codes.append(register(session, settings, dataset_id, data, ACTOR, REQUEST).code)
        session.commit()
    return codes
