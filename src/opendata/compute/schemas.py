"""Request and response shapes of the compute API.

Request bodies are parsed here rather than by Litestar, so that *every* bad input (even
JSON that does not parse) reaches the handler, gets a precise 400 code and is audited with
the caller it came from. Unknown members are refused (``unexpected_field``): in particular
a scoring request cannot carry weights -- only a registered, approved model is ever used.

Big integers (ciphertexts) travel as decimal strings, as everywhere in compute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opendata.compute.model_inputs import REVIEWED, ReviewedWeights, SecretInputs, parse_reviewed, parse_secret
from opendata.compute.models import OUTPUT_MODES, ComputeKey, ComputeModel
from opendata.errors import bad_request

AGGREGATES = ("value", "count", "sum")
MAX_NAME_CHARS = 200
MAX_REASON_CHARS = 4000


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise bad_request("invalid_json", "the request body is not valid JSON") from None


def members(body: Any, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("invalid_body", f"{what} is a JSON object")
    unexpected = sorted(set(body) - set(required) - set(optional))
    if unexpected:
        raise bad_request("unexpected_field", f"{what} has no member(s) {', '.join(map(repr, unexpected))}")
    missing = [name for name in required if name not in body]
    if missing:
        raise bad_request("missing_field", f"{what} needs {', '.join(map(repr, missing))}")
    return body


def _ciphertext(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise bad_request("not_decimal", f"{what} is a ciphertext as a decimal string")
    return value


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise bad_request("invalid_field", f"{what} is a text of 1 to {limit} characters")
    return value.strip()


# --- verification ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    ciphertext: str
    scale: Any  # checked against the field's type once the field is known
    proof: Any  # its range proof (compute/inputs.py), checked by the worker


@dataclass(frozen=True)
class VerifyRequest:
    dataset: Any
    resource: Any
    subject: Any
    where: Any
    key_id: Any
    claims: dict[str, Claim]


def parse_verify(body: Any, max_fields: int) -> VerifyRequest:
    data = members(body, "a verification", ("dataset", "subject", "key_id", "claims"), ("resource", "where"))
    claims = data["claims"]
    if not isinstance(claims, dict) or not 0 < len(claims) <= max_fields:
        raise bad_request("invalid_claims", f"claims maps 1 to {max_fields} field names to "
                          '{"ciphertext": "<decimal>", "scale": <int>, "proof": {...}}')
    parsed = {}
    for name, claim in claims.items():
        item = members(claim, f"the claim on {name!r}", ("ciphertext",), ("scale", "proof"))
        if "proof" not in item:
            raise bad_request("range_proof_invalid", f"the claim on {name!r} needs its range proof (\"proof\")")
        parsed[name] = Claim(_ciphertext(item["ciphertext"], f"the claim on {name!r}"), item.get("scale", 0),
                             item["proof"])
    return VerifyRequest(data["dataset"], data.get("resource"), data["subject"], data.get("where"),
                         data["key_id"], parsed)


# --- models ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeatureIn:
    dataset: Any
    resource: Any
    field: Any
    aggregate: str
    where: Any
    scale: Any
    default: Any
    map: Any


@dataclass(frozen=True)
class ModelRequest:
    name: str
    key_id: Any
    features: list[FeatureIn]
    score_scale: Any
    output_mode: str
    reviewed: ReviewedWeights | None  # reviewed mode: plaintext weights, encrypted by the server
    secret: SecretInputs | None  # decision / banded: encrypted, range-proved inputs


def parse_feature(raw: Any, index: int) -> FeatureIn:
    what = f"feature {index}"
    data = members(raw, what, ("dataset",), ("resource", "field", "aggregate", "where", "scale", "default", "map"))
    aggregate = data.get("aggregate", "value")
    if aggregate not in AGGREGATES:
        raise bad_request("invalid_feature", f"{what}: aggregate is one of {', '.join(AGGREGATES)}")
    if aggregate != "count" and not data.get("field"):
        raise bad_request("invalid_feature", f"{what}: name the field (only a count may leave it out)")
    return FeatureIn(data["dataset"], data.get("resource"), data.get("field"), aggregate, data.get("where"),
                     data.get("scale", 0), data.get("default", 0), data.get("map"))


MODEL_MEMBERS = ("name", "key_id", "features", "score_scale", "output_mode")
REVIEWED_MEMBERS = ("weights", "bias")
SECRET_MEMBERS = ("enc_weights", "enc_bias", "enc_thresholds", "weight_bits", "bias_bits", "proofs")


def parse_model(body: Any, max_features: int) -> ModelRequest:
    """A model for one output mode (compute/model_inputs.py): ``reviewed`` brings plaintext
    ``weights`` and ``bias``; ``decision`` / ``banded`` bring range-proved ciphertexts."""
    data = members(body, "a model", MODEL_MEMBERS, (*REVIEWED_MEMBERS, *SECRET_MEMBERS))
    mode = data["output_mode"]
    if mode not in OUTPUT_MODES:
        raise bad_request("invalid_output_mode", f"output_mode is one of {', '.join(OUTPUT_MODES)}")
    allowed = REVIEWED_MEMBERS if mode == REVIEWED else SECRET_MEMBERS
    foreign = sorted(set(data) - set(MODEL_MEMBERS) - set(allowed))
    if foreign:
        raise bad_request("unexpected_field", f"a {mode} model has no member(s) {', '.join(map(repr, foreign))}")
    features = data["features"]
    if not isinstance(features, list) or not 0 < len(features) <= max_features:
        raise bad_request("invalid_features", f"features is a list of 1 to {max_features} features")
    parsed = [parse_feature(f, i) for i, f in enumerate(features)]
    return ModelRequest(
        name=_text(data["name"], "name", MAX_NAME_CHARS), key_id=data["key_id"], features=parsed,
        score_scale=data["score_scale"], output_mode=mode,
        reviewed=parse_reviewed(data, len(parsed)) if mode == REVIEWED else None,
        secret=parse_secret(data, mode, len(parsed)) if mode != REVIEWED else None,
    )


def parse_score(body: Any, max_batch: int) -> list[Any]:
    data = members(body, "a scoring request", ("subjects",))
    subjects = data["subjects"]
    if not isinstance(subjects, list) or not subjects:
        raise bad_request("invalid_subjects", "subjects is a non-empty list of subject key values")
    if len(subjects) > max_batch:
        raise bad_request("batch_too_large", f"{len(subjects)} subjects; at most {max_batch} per request")
    if len(set(map(str, subjects))) != len(subjects):
        raise bad_request("duplicate_subject", "each subject may appear once per request")
    return subjects


def parse_reason(body: Any) -> str:
    data = members(body, "a decision", ("reason",))
    return _text(data["reason"], "reason", MAX_REASON_CHARS)


def parse_approval(body: Any) -> tuple[str, str]:
    """(reason, output_mode): approving names the output mode the administrator grants."""
    data = members(body, "an approval", ("reason", "output_mode"))
    if data["output_mode"] not in OUTPUT_MODES:
        raise bad_request("invalid_output_mode", f"output_mode is one of {', '.join(OUTPUT_MODES)}")
    return _text(data["reason"], "reason", MAX_REASON_CHARS), data["output_mode"]


def parse_policy(body: Any) -> tuple[bool, Any, bool]:
    """(reveal_not_found, authorised_subjects, all_subjects); all_subjects defaults to false."""
    data = members(body, "a compute policy", ("reveal_not_found",), ("authorised_subjects", "all_subjects"))
    for name in ("reveal_not_found", "all_subjects"):
        if not isinstance(data.get(name, False), bool):
            raise bad_request("invalid_field", f"{name} is true or false")
    return data["reveal_not_found"], data.get("authorised_subjects"), data.get("all_subjects", False)


# --- responses ------------------------------------------------------------------------------

@dataclass
class KeyOut:
    kid: str
    bits: int
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    public_key: dict[str, str]


def key_out(row: ComputeKey) -> KeyOut:
    return KeyOut(row.kid, row.bits, row.created_at, row.created_by, row.revoked_at,
                  {"kty": "paillier", "n": row.n, "kid": row.kid})


@dataclass
class ModelOut:
    """A model as its owner and the administrators see it: features and state, never the
    ciphertexts (they are the owner's own, and useless to anyone else)."""

    id: int
    name: str
    licence_id: int
    key_id: str
    state: str
    features: list[dict[str, Any]]
    score_scale: int
    digest: str
    created_at: datetime
    created_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    # None: registered before output modes; it cannot score (register it again).
    output_mode: str | None = None
    thresholds: int = 0
    weight_bits: int | None = None
    bias_bits: int | None = None
    # reviewed mode: the plaintext weights the administrator reads ({"weights", "bias"}).
    reviewed_weights: dict[str, Any] | None = None
    # What one result can tell about one subject, at most (docs/security/compute-threat-model.md).
    leakage_bits_per_subject: float | None = None


def model_out(row: ComputeModel, key_bits: int | None = None) -> ModelOut:
    from opendata.compute.model_registry import leakage_of

    return ModelOut(row.id, row.name, row.licence_id, row.key_id, row.state, list(row.features), row.score_scale,
                    row.digest, row.created_at, row.created_by, row.decided_at, row.decided_by,
                    row.decision_reason, row.output_mode, len(row.enc_thresholds or ()), row.weight_bits,
                    row.bias_bits, row.plain_weights, leakage_of(row, key_bits))


@dataclass
class PolicyOut:
    """``all_subjects``: the administrator allowed every subject (``warning`` says so);
    otherwise only ``authorised_subjects`` (empty: none, the default)."""

    licence_id: int
    reveal_not_found: bool
    all_subjects: bool
    authorised_subjects: list[str]
    warning: str | None = None


@dataclass
class VerifyOut:
    """``results[field]`` decrypts to 0 exactly when the claim equals the stored value."""

    dataset: str
    resource: str
    key_id: str
    results: dict[str, str]
    reference: int  # the audit record of this computation


@dataclass
class ScoreOut:
    """By the model's output mode: ``scores[subject]`` decrypts to w.x + b at ``score_scale``
    (reviewed); ``decisions[subject]`` decrypts to a residue below n/2 exactly when the score
    is at or above the threshold (decision); ``bands[subject]`` is a shuffled list, one per
    threshold, whose count of such residues is the band (banded). ``not_found`` lists the
    subjects without any row, and is present only when the licence's policy reveals it."""

    model_id: int
    key_id: str
    score_scale: int
    output_mode: str
    reference: int
    scores: dict[str, str] | None = field(default=None)
    decisions: dict[str, str] | None = field(default=None)
    bands: dict[str, list[str]] | None = field(default=None)
    not_found: list[str] | None = field(default=None)
