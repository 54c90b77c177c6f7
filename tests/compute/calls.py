"""Building compute requests the way a key holder does, for the API tests."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from opendata.audit.models import AuditRecord
from opendata.compute.keyholder import KeyHolder
from opendata.compute.values import claim_integer
from opendata.db import Database
from tests.compute.proving import CLAIM_BITS, proved
from sqlalchemy import select

VERIFY = "/api/v1/compute/verify"
MODELS = "/api/v1/compute/models"
KEYS = "/api/v1/compute/keys"


def claim(key: KeyHolder, value: Any, field_type: str, scale: int = 0) -> dict[str, Any]:
    """A claim with its range proof (the key must be registered: tests/compute/proving.py)."""
    ciphertext, proof = proved(key, claim_integer(value, field_type, scale), CLAIM_BITS, "verify-claim")
    return {"ciphertext": ciphertext, "scale": scale, "proof": proof}


def verify_body(key: KeyHolder, subject: str, claims: dict[str, dict[str, Any]],
                dataset: str = "personal-social-insurance", where: dict[str, Any] | None = None,
                **extra: Any) -> dict[str, Any]:
    body = {"dataset": dataset, "subject": subject, "key_id": key.public_key.key_id, "claims": claims, **extra}
    if where is not None:
        body["where"] = where
    return body


def verify(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post(VERIFY, json=body, headers=headers)


def audit_records(database_url: str, action: str | None = None, limit: int = 5) -> list[AuditRecord]:
    """The newest audit records (of ``action``), newest first."""
    database = Database(database_url)
    with database.session() as session:
        query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
        if action is not None:
            query = query.where(AuditRecord.action == action)
        records = list(session.scalars(query))
    database.dispose()
    return records


def details(record: AuditRecord) -> dict[str, Any]:
    return json.loads(record.details)


def model_body(key: KeyHolder, features: list[dict[str, Any]], weights: list[Any], bias: Any,
               score_scale: int, name: str = "小微企业授信评分") -> dict[str, Any]:
    """A reviewed model: plaintext weights, which the administrator reads; exact scores."""
    return {"name": name, "key_id": key.public_key.key_id, "features": features, "score_scale": score_scale,
            "output_mode": "reviewed", "weights": [str(w) for w in weights], "bias": str(bias)}


def secret_model_body(key: KeyHolder, features: list[dict[str, Any]], weights: list[int], bias: int,
                      thresholds: list[int], *, weight_bits: int = 64, bias_bits: int = 96, score_scale: int = 0,
                      name: str = "阈值判定模型") -> dict[str, Any]:
    """A decision (one threshold) or banded model: fixed-point integers encrypted and range-proved."""
    enc_w = [proved(key, w, weight_bits, "model-input") for w in weights]
    enc_b = proved(key, bias, bias_bits, "model-input")
    enc_t = [proved(key, t, bias_bits, "model-input") for t in thresholds]
    return {"name": name, "key_id": key.public_key.key_id, "features": features, "score_scale": score_scale,
            "output_mode": "decision" if len(thresholds) == 1 else "banded",
            "enc_weights": [c for c, _ in enc_w], "enc_bias": enc_b[0], "enc_thresholds": [c for c, _ in enc_t],
            "weight_bits": weight_bits, "bias_bits": bias_bits,
            "proofs": {"weights": [p for _, p in enc_w], "bias": enc_b[1], "thresholds": [p for _, p in enc_t]}}


def approval(mode: str = "reviewed", reason: str = "特征与权重均在授权范围内") -> dict[str, str]:
    return {"reason": reason, "output_mode": mode}
