"""Registering, amending and revoking public-data assets. Takes a session, knows no HTTP.

Every change is audited in the caller's transaction (``asset.register``, ``asset.amend``,
``asset.revoke``) and issues a new certificate, superseding the previous one. Inputs are
checked and the signing key is fetched before anything is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access import keys
from opendata.access.models import SigningKey
from opendata.assets import certificate, volume
from opendata.assets.models import COMPLIANCE_STATUSES, AssetCertificate, DataAsset
from opendata.audit.service import Actor, RequestInfo, append
from opendata.catalogue.models import Dataset
from opendata.db import utcnow
from opendata.errors import AppError, bad_request
from opendata.quality.service import measure_dataset
from opendata.settings import Settings

CODE_PREFIX = "PDA"
TEXT_MAX = 255
LONG_TEXT_MAX = 4000
USES_MAX = 20


@dataclass(frozen=True)
class AssetInput:
    """What an administrator states; None means "keep" on amendment and "from the dataset"
    (or empty) on registration."""

    holder_department: str | None = None
    source_system: str | None = None
    responsible_department: str | None = None
    update_mechanism: str | None = None
    quality_standard: str | None = None
    permitted_uses: list[str] | None = None
    value_assessment: str | None = None
    compliance_status: str | None = None
    compliance_reviewer: str | None = None
    compliance_date: date | None = None
    compliance_notes: str | None = None


def check_character(digits: str) -> str:
    """ISO 7064 MOD 11-2 (as in resident identity numbers): 0-9 or X."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2 % 11
    return "0123456789X"[(12 - total) % 11]


def asset_code(asset_id: int, year: int) -> str:
    """``PDA-<year>-<6-digit number>-<check>``, e.g. PDA-2026-000001-X."""
    digits = f"{year:04d}{asset_id:06d}"
    return f"{CODE_PREFIX}-{year:04d}-{asset_id:06d}-{check_character(digits)}"


def _text(value: Any, name: str, limit: int = TEXT_MAX) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request("invalid_field", f"{name} must be text")
    text = value.strip()
    if len(text) > limit:
        raise bad_request("invalid_field", f"{name} has at most {limit} characters")
    return text or None


def _checked(data: AssetInput) -> dict[str, Any]:
    """The stated values, cleaned; raises before anything is written."""
    values: dict[str, Any] = {}
    for spec in fields(AssetInput):
        raw = getattr(data, spec.name)
        if raw is None:
            continue
        if spec.name == "permitted_uses":
            if not isinstance(raw, list) or len(raw) > USES_MAX:
                raise bad_request("invalid_field", f"permitted_uses is a list of at most {USES_MAX} uses")
            values[spec.name] = [u for u in (_text(x, "permitted use") for x in raw) if u]
        elif spec.name == "compliance_status":
            if raw not in COMPLIANCE_STATUSES:
                raise bad_request("invalid_field", f"compliance_status is one of {', '.join(COMPLIANCE_STATUSES)}")
            values[spec.name] = raw
        elif spec.name == "compliance_date":
            values[spec.name] = raw
        else:
            long = spec.name in ("value_assessment", "compliance_notes")
            values[spec.name] = _text(raw, spec.name, LONG_TEXT_MAX if long else TEXT_MAX)
    return values


def get_asset(session: Session, code: str) -> DataAsset:
    asset = session.scalars(select(DataAsset).where(DataAsset.code == code.strip().upper())).one_or_none()
    if asset is None:
        raise AppError(404, "not_found", f"asset {code!r} is not registered")
    return asset


def list_assets(session: Session, *, include_revoked: bool = False) -> list[DataAsset]:
    query = select(DataAsset).order_by(DataAsset.id)
    if not include_revoked:
        query = query.where(DataAsset.status == "registered")
    return list(session.scalars(query))


def register(session: Session, settings: Settings, dataset_id: str, data: AssetInput, actor: Actor,
             request: RequestInfo) -> DataAsset:
    values = _checked(data)
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise AppError(404, "not_found", f"dataset {dataset_id!r} does not exist")
    if session.scalar(select(DataAsset.id).where(DataAsset.dataset_id == dataset_id)) is not None:
        raise AppError(409, "already_registered", f"dataset {dataset_id!r} is registered already; amend it")
    signer = keys.key_ring(session).signer(session, settings.signing_key_passphrase)
    now = utcnow()
    asset = DataAsset(
        code=f"pending-{uuid.uuid4().hex[:20]}", dataset_id=dataset.id, revision=1, status="registered",
        holder_department=values.pop("holder_department", None) or dataset.publisher.name_zh,
        source_system=dataset.source_system, update_mechanism=dataset.update_mechanism,
        quality_standard=dataset.quality_standard, responsible_department=dataset.publisher.name_zh,
        permitted_uses=[], compliance_status="pending", open_level=dataset.open_level,
        registered_by=actor.name, registered_at=now,
    )
    for name, value in values.items():
        setattr(asset, name, value)
    _measure(session, asset, dataset)
    session.add(asset)
    session.flush()
    asset.code = asset_code(asset.id, now.year)
    issued = _issue(session, settings, asset, dataset, signer)
    append(session, actor=actor, action="asset.register", target=f"asset:{asset.code}",
           details={"dataset": dataset.id, "certificate": issued.id}, request=request)
    return asset


def amend(session: Session, settings: Settings, code: str, data: AssetInput, actor: Actor,
          request: RequestInfo) -> DataAsset:
    values = _checked(data)
    asset = get_asset(session, code)
    if asset.status != "registered":
        raise AppError(409, "revoked", f"asset {asset.code} is revoked")
    signer = keys.key_ring(session).signer(session, settings.signing_key_passphrase)
    changed = {name: value for name, value in values.items() if getattr(asset, name) != value}
    for name, value in changed.items():
        setattr(asset, name, value)
    dataset = session.get(Dataset, asset.dataset_id)
    assert dataset is not None  # the foreign key keeps it
    asset.open_level = dataset.open_level
    _measure(session, asset, dataset)
    asset.revision += 1
    asset.amended_at = utcnow()
    issued = _issue(session, settings, asset, dataset, signer)
    append(session, actor=actor, action="asset.amend", target=f"asset:{asset.code}",
           details={"revision": asset.revision, "changed": sorted(changed), "certificate": issued.id},
           request=request)
    return asset


def revoke(session: Session, code: str, reason: str, actor: Actor, request: RequestInfo) -> DataAsset:
    text = _text(reason, "reason", LONG_TEXT_MAX)
    if not text:
        raise bad_request("missing_field", "a revocation needs a reason")
    asset = get_asset(session, code)
    if asset.status == "revoked":
        raise AppError(409, "revoked", f"asset {asset.code} is revoked already")
    asset.status, asset.revoked_at, asset.revoke_reason = "revoked", utcnow(), text
    for issued in session.scalars(select(AssetCertificate).where(AssetCertificate.asset_id == asset.id,
                                                                 AssetCertificate.superseded_at.is_(None))):
        issued.superseded_at = asset.revoked_at
    append(session, actor=actor, action="asset.revoke", target=f"asset:{asset.code}", details={"reason": text},
           request=request)
    return asset


def _measure(session: Session, asset: DataAsset, dataset: Dataset) -> None:
    asset.row_count, asset.byte_count = volume.measure(session, dataset)
    # The measured score at registration or amendment (docs/quality.md); None for a
    # dataset without tables, which has nothing measured.
    asset.quality_score = measure_dataset(session, dataset).score


def payload_of(asset: DataAsset, dataset: Dataset, settings: Settings, certificate_id: str,
               supersedes: str | None) -> dict[str, Any]:
    return {
        "type": "公共数据资产登记凭证", "id": certificate_id, "issuer": settings.issuer,
        "issued_at": utcnow().isoformat(timespec="seconds"), "supersedes": supersedes,
        "asset": {
            "code": asset.code, "revision": asset.revision,
            "dataset": {"id": dataset.id, "title_zh": dataset.title_zh, "title_en": dataset.title_en},
            "holder_department": asset.holder_department, "source_system": asset.source_system,
            "responsible_department": asset.responsible_department, "update_mechanism": asset.update_mechanism,
            "quality_standard": asset.quality_standard,
            "volume": {"rows": asset.row_count, "bytes": asset.byte_count},
            "quality_score": asset.quality_score, "open_level": asset.open_level,
            "permitted_uses": list(asset.permitted_uses or []), "value_assessment": asset.value_assessment,
            "compliance": {"status": asset.compliance_status, "reviewer": asset.compliance_reviewer,
                           "date": asset.compliance_date.isoformat() if asset.compliance_date else None,
                           "notes": asset.compliance_notes},
            "registered_at": asset.registered_at.isoformat(timespec="seconds"),
            "registered_by": asset.registered_by,
        },
    }


def _issue(session: Session, settings: Settings, asset: DataAsset, dataset: Dataset, signer: Any) -> AssetCertificate:
    previous = current_certificate(session, asset.id)
    certificate_id = str(uuid.uuid4())
    document = certificate.sign(payload_of(asset, dataset, settings, certificate_id,
                                           previous.id if previous else None), signer, keys.suites_of(session))
    now = utcnow()
    if previous is not None:
        previous.superseded_at = now
    issued = AssetCertificate(id=certificate_id, asset_id=asset.id, revision=asset.revision, kid=signer.kid,
                              document=document, issued_at=now)
    session.add(issued)
    session.flush()
    return issued


def current_certificate(session: Session, asset_id: int) -> AssetCertificate | None:
    return session.scalars(select(AssetCertificate).where(AssetCertificate.asset_id == asset_id)
                           .order_by(AssetCertificate.revision.desc()).limit(1)).first()


def certificate_status(session: Session, certificate_id: str) -> dict[str, Any]:
    issued = session.get(AssetCertificate, certificate_id[:36])
    if issued is None:
        raise AppError(404, "not_found", f"no certificate {certificate_id!r} was issued here")
    asset = session.get(DataAsset, issued.asset_id)
    assert asset is not None
    latest = current_certificate(session, asset.id)
    status = "current" if issued.superseded_at is None else ("revoked" if asset.status == "revoked"
                                                             and latest and latest.id == issued.id else "superseded")
    return {"certificate": issued.id, "asset": asset.code, "revision": issued.revision, "status": status,
            "superseded_at": issued.superseded_at.isoformat() if issued.superseded_at else None,
            "current_certificate": latest.id if latest and status == "superseded" else None}


def certificate_jwks(session: Session, settings: Settings) -> dict[str, Any]:
    """The token JWKS plus every retired key that signed a certificate: certificates
    outlive tokens, so their keys stay published."""
    published = keys.jwks(session, settings.token_lifetime_seconds)["keys"]
    seen = {k["kid"] for k in published}
    signing = select(SigningKey).where(SigningKey.kid.in_(select(AssetCertificate.kid).distinct()))
    return {"keys": published + [k.public_jwk for k in session.scalars(signing) if k.kid not in seen]}
