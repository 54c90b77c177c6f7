"""Building compute requests the way a key holder does, for the API tests."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from opendata.audit.models import AuditRecord
from opendata.compute.keyholder import KeyHolder
from opendata.compute.values import claim_integer
from opendata.db import Database
from sqlalchemy import select

VERIFY = "/api/v1/compute/verify"
MODELS = "/api/v1/compute/models"
KEYS = "/api/v1/compute/keys"


def claim(key: KeyHolder, value: Any, field_type: str, scale: int = 0) -> dict[str, Any]:
    return {"ciphertext": str(key.encrypt_int(claim_integer(value, field_type, scale))), "scale": scale}


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
    enc_weights, enc_bias = key.encrypt_model(weights, bias, [f.get("scale", 0) for f in features], score_scale)
    return {"name": name, "key_id": key.public_key.key_id, "features": features, "score_scale": score_scale,
            "enc_weights": [str(w) for w in enc_weights], "enc_bias": str(enc_bias)}
