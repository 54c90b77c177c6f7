"""Registering private linear models and deciding on them.

An enterprise registers a model under one of its licences: plaintext features (checked
against the catalogue and the licence) and, by output mode (model_inputs.py), either
plaintext weights for review (the server encrypts them) or range-proved encrypted weights,
bias and thresholds. The server stores the ciphertexts and a digest over everything that
defines the model. The model is ``pending`` until an administrator approves (naming the
output mode granted) or rejects it, with a reason. Scoring recomputes the digest, so a model
changed in the database after approval is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.compute import ComputeError
from opendata.compute.encoding import check_scale
from opendata.compute.features import Feature, canonical, resolve
from opendata.compute.models import ComputeModel
from opendata.compute.paillier import PublicKey
from opendata.compute import model_inputs, parameters
from opendata.compute.inputs import leakage_bits
from opendata.compute.paillier import DEFAULT_MIN_KEY_BITS
from opendata.compute.protocols import length_prefixed, model_digest
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


def digest_of(public_key: PublicKey, features: list[str], feature_scales: list[int], score_scale: int,
              enc_weights: list[str], enc_bias: str) -> str:
    """v1 digest (models registered before output modes; they no longer score)."""
    return model_digest(public_key, [int(w) for w in enc_weights], int(enc_bias), features, feature_scales,
                        score_scale)


def mode_digest(public_key: PublicKey, features: list[str], feature_scales: list[int], score_scale: int,
                enc_weights: list[str], enc_bias: str, output_mode: str, enc_thresholds: list[str] | None,
                weight_bits: int | None, bias_bits: int | None, plain_weights: dict[str, Any] | None) -> str:
    """v2: the v1 digest plus the output mode, thresholds, bounds and reviewed weights."""
    base = digest_of(public_key, features, feature_scales, score_scale, enc_weights, enc_bias)
    body = length_prefixed(
        b"opendata/linear-model/v2", base.encode(), output_mode.encode(),
        length_prefixed(*(str(int(t)).encode() for t in enc_thresholds or ())),
        str(weight_bits).encode(), str(bias_bits).encode(),
        json.dumps(plain_weights, sort_keys=True, ensure_ascii=False).encode("utf-8"),
    )
    return hashlib.sha256(body).hexdigest()


def stored_digest(public_key: PublicKey, row: ComputeModel) -> str:
    names, scales = [canonical(f) for f in row.features], [f["scale"] for f in row.features]
    if row.output_mode is None:
        return digest_of(public_key, names, scales, row.score_scale, row.enc_weights, row.enc_bias)
    return mode_digest(public_key, names, scales, row.score_scale, row.enc_weights, row.enc_bias, row.output_mode,
                       row.enc_thresholds, row.weight_bits, row.bias_bits, row.plain_weights)


def leakage_of(row: ComputeModel, key_bits: int | None = None) -> float | None:
    """At most this many bits about one subject per result (None: exact scores, or no mode)."""
    if row.output_mode not in model_inputs.SECRET_MODES:
        return None
    return round(leakage_bits(key_bits or DEFAULT_MIN_KEY_BITS, len(row.features), row.weight_bits,
                              row.bias_bits, len(row.enc_thresholds or ())), 3)


def resolve_features(session: Session, request: ModelRequest) -> list[Feature]:
    return [resolve(session, raw, index) for index, raw in enumerate(request.features)]


def register(session: Session, request: ModelRequest, features: list[Feature], public_key: PublicKey, *,
             licence_id: int, organisation_id: int, actor: Actor, info: RequestInfo,
             portal_settings: Any) -> ComputeModel:
    """Store a checked model as pending (in the caller's transaction, audited)."""
    score_scale = check_score_scale(request.score_scale, features)
    scales = [f.scale for f in features]
    plain, thresholds, weight_bits, bias_bits = None, None, None, None
    if request.reviewed is not None:
        ints, bias = model_inputs.reviewed_integers(request.reviewed, [score_scale - s for s in scales], score_scale)
        enc_weights, enc_bias = model_inputs.encrypt_reviewed(public_key, ints, bias)
        plain = request.reviewed.as_json()
    else:
        inputs = request.secret
        assert inputs is not None
        context = parameters.context(portal_settings, organisation_id, public_key.key_id, parameters.MODEL_INPUT)
        model_inputs.check_secret(public_key, inputs, parameters.ring_pedersen(session), context, len(features))
        enc_weights, enc_bias = inputs.enc_weights, inputs.enc_bias
        thresholds, weight_bits, bias_bits = inputs.enc_thresholds, inputs.weight_bits, inputs.bias_bits
    specs = [f.spec for f in features]
    digest = mode_digest(public_key, [f.canonical() for f in features], scales, score_scale, enc_weights, enc_bias,
                         request.output_mode, thresholds, weight_bits, bias_bits, plain)
    row = ComputeModel(
        licence_id=licence_id, organisation_id=organisation_id, key_id=public_key.key_id, name=request.name,
        features=specs, score_scale=score_scale, enc_weights=list(enc_weights), enc_bias=enc_bias, digest=digest,
        state="pending", created_at=utcnow(), created_by=actor.name, output_mode=request.output_mode,
        plain_weights=plain, enc_thresholds=thresholds, weight_bits=weight_bits, bias_bits=bias_bits,
    )
    session.add(row)
    session.flush()
    append(session, actor=actor, action="compute.model.register", target=f"model:{row.id}",
           details={"licence": licence_id, "digest": digest, "features": specs, "score_scale": score_scale,
                    "output_mode": request.output_mode, "weights": plain, "weight_bits": weight_bits,
                    "bias_bits": bias_bits, "thresholds": len(thresholds or ())},
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
    return list(session.scalars(models_query(organisation_id=organisation_id, licence_id=licence_id, state=state)))


def models_query(*, organisation_id: int | None = None, licence_id: int | None = None,
                 state: str | None = None) -> Select[tuple[ComputeModel]]:
    """Registered models, newest first, narrowed by organisation, licence or state."""
    query = select(ComputeModel).order_by(ComputeModel.id.desc())
    if organisation_id is not None:
        query = query.where(ComputeModel.organisation_id == organisation_id)
    if licence_id is not None:
        query = query.where(ComputeModel.licence_id == licence_id)
    if state is not None:
        query = query.where(ComputeModel.state == state)
    return query


def decide(session: Session, row: ComputeModel, decision: str, reason: str, *, actor: Actor,
           info: RequestInfo, output_mode: str | None = None) -> ComputeModel:
    """approve (granting ``output_mode``) or reject a pending model, once (409
    invalid_transition afterwards). The mode granted must be the one the model was built
    for: its inputs (plaintext or proved) fix what it can safely return."""
    if row.state != "pending":
        raise AppError(409, "invalid_transition", f"model {row.id} is {row.state}, not pending")
    if decision == "approve":
        if row.output_mode is None:
            raise AppError(409, "model_outdated", f"model {row.id} has no output mode: it must be registered again")
        if output_mode != row.output_mode:
            raise AppError(409, "output_mode_mismatch", f"model {row.id} was registered for {row.output_mode} "
                           f"output, not {output_mode}: approve it as {row.output_mode} or reject it")
    row.state = "approved" if decision == "approve" else "rejected"
    row.decided_at, row.decided_by, row.decision_reason = utcnow(), actor.name, reason
    append(session, actor=actor, action=f"compute.model.{decision}", target=f"model:{row.id}",
           details={"licence": row.licence_id, "digest": row.digest, "reason": reason, "features": row.features,
                    "output_mode": row.output_mode if decision == "approve" else None},
           request=info)
    return row
