"""Registering private linear models and deciding on them.

An enterprise registers a model under one of its licences: plaintext features (checked
against the catalogue and the licence), encrypted weights and bias under one of its keys.
The server stores the ciphertexts and ``protocols.model_digest`` over everything that
defines the model. The model is ``pending`` until an administrator approves or rejects it
with a reason. The administrator judges the *features* (which data, which filters, which
defaults): the weights are ciphertexts nobody but the owner can read. Scoring recomputes
the digest, so a model changed in the database after approval is refused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute import ComputeError
from opendata.compute.encoding import check_scale
from opendata.compute.features import Feature, canonical, resolve
from opendata.compute.models import ComputeModel
from opendata.compute.paillier import PublicKey
from opendata.compute.protocols import model_digest
from opendata.compute.schemas import ModelRequest
from opendata.db import utcnow
from opendata.errors import AppError, bad_request

MAX_SCORE_SCALE = 24


def check_score_scale(score_scale: object, features: list[Feature]) -> int:
    """w_i is encrypted at score_scale - scale_i, so score_scale covers every feature scale."""
    if isinstance(score_scale, bool) or not isinstance(score_scale, int) or not 0 <= score_scale <= MAX_SCORE_SCALE:
        raise bad_request("scale_invalid", f"score_scale is a whole number from 0 to {MAX_SCORE_SCALE}")
    low = [i for i, f in enumerate(features) if f.scale > score_scale]
    if low:
        raise bad_request("scale_invalid", f"score_scale {score_scale} is below the scale of feature(s) {low}")
    return check_scale(score_scale)


def check_ciphertexts(public_key: PublicKey, request: ModelRequest) -> None:
    try:
        for c in [*request.enc_weights, request.enc_bias]:
            public_key.validate_ciphertext(c)
    except ComputeError as error:
        raise bad_request(error.code, str(error)) from None


def digest_of(public_key: PublicKey, features: list[str], feature_scales: list[int], score_scale: int,
              enc_weights: list[str], enc_bias: str) -> str:
    return model_digest(public_key, [int(w) for w in enc_weights], int(enc_bias), features, feature_scales,
                        score_scale)


def stored_digest(public_key: PublicKey, row: ComputeModel) -> str:
    return digest_of(public_key, [canonical(f) for f in row.features], [f["scale"] for f in row.features],
                     row.score_scale, row.enc_weights, row.enc_bias)


def resolve_features(session: Session, request: ModelRequest) -> list[Feature]:
    return [resolve(session, raw, index) for index, raw in enumerate(request.features)]


def register(session: Session, request: ModelRequest, features: list[Feature], public_key: PublicKey, *,
             licence_id: int, organisation_id: int, actor: Actor, info: RequestInfo) -> ComputeModel:
    """Store a checked model as pending (in the caller's transaction, audited)."""
    score_scale = check_score_scale(request.score_scale, features)
    check_ciphertexts(public_key, request)
    specs = [f.spec for f in features]
    digest = digest_of(public_key, [f.canonical() for f in features], [f.scale for f in features], score_scale,
                       request.enc_weights, request.enc_bias)
    row = ComputeModel(
        licence_id=licence_id, organisation_id=organisation_id, key_id=public_key.key_id, name=request.name,
        features=specs, score_scale=score_scale, enc_weights=list(request.enc_weights),
        enc_bias=request.enc_bias, digest=digest, state="pending", created_at=utcnow(), created_by=actor.name,
    )
    session.add(row)
    session.flush()
    append(session, actor=actor, action="compute.model.register", target=f"model:{row.id}",
           details={"licence": licence_id, "digest": digest, "features": specs, "score_scale": score_scale},
           request=info)
    return row


def get_model(session: Session, model_id: int, organisation_id: int | None = None) -> ComputeModel:
    """The model; another organisation's is reported missing, so ids cannot be probed."""
    row = session.get(ComputeModel, model_id)
    if row is None or (organisation_id is not None and row.organisation_id != organisation_id):
        raise AppError(404, "not_found", f"model {model_id} does not exist")
    return row


def list_models(session: Session, *, organisation_id: int | None = None, licence_id: int | None = None,
                state: str | None = None) -> list[ComputeModel]:
    query = select(ComputeModel).order_by(ComputeModel.id.desc())
    if organisation_id is not None:
        query = query.where(ComputeModel.organisation_id == organisation_id)
    if licence_id is not None:
        query = query.where(ComputeModel.licence_id == licence_id)
    if state is not None:
        query = query.where(ComputeModel.state == state)
    return list(session.scalars(query))


def decide(session: Session, row: ComputeModel, decision: str, reason: str, *, actor: Actor,
           info: RequestInfo) -> ComputeModel:
    """approve or reject a pending model, once (409 invalid_transition afterwards)."""
    if row.state != "pending":
        raise AppError(409, "invalid_transition", f"model {row.id} is {row.state}, not pending")
    row.state = "approved" if decision == "approve" else "rejected"
    row.decided_at, row.decided_by, row.decision_reason = utcnow(), actor.name, reason
    append(session, actor=actor, action=f"compute.model.{decision}", target=f"model:{row.id}",
           details={"licence": row.licence_id, "digest": row.digest, "reason": reason, "features": row.features},
           request=info)
    return row
