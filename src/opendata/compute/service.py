"""Verification (核验) and private scoring (模型服务) requests, from raw body to audited answer.

Each computation is three steps, so that the arithmetic never runs inside a database
transaction nor on the event loop:

1. ``prepare_*`` (a worker thread, one read-only session): authenticate the token, parse
   the body, check catalogue, licence, policy, key and the day's quota, read the rows.
   Every refusal is audited. Nothing is written.
2. the handler awaits ``protocols.*_async`` in the process pool.
3. ``finish_*`` (a worker thread, a new session): charge the quota, append the audit
   record, commit -- one short write transaction per computation.

Refusals never depend on the subject's rows (see rows.py), and a quota unit is one subject
computed on: a verification costs 1, a scoring of k subjects costs k.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from opendata.audit.service import RequestInfo, append
from opendata.compute import parameters, probing
from opendata.compute.inputs import CLAIM_BOUND_BITS, Blinding, ProofCheck
from opendata.compute.model_inputs import BANDED, DECISION, REVIEWED
from opendata.compute.callers import ComputeCaller, Refusals, audited, authenticate, charge, check_quota, require_grant
from opendata.compute.features import Feature, check_subjects, feature_matrix, from_stored
from opendata.compute.model_registry import get_model, stored_digest
from opendata.compute.models import ComputeModel
from opendata.compute.paillier import PublicKey
from opendata.compute.policy import Policy, policy_of, subject_digest, unauthorised
from opendata.compute.public_keys import own_key
from opendata.compute.rows import (
    SubjectSource, check_filters, check_subject, require_unique, source_for, subject_row,
)
from opendata.compute.runtime import ComputeRuntime
from opendata.compute.schemas import ScoreOut, VerifyOut, parse_json, parse_score, parse_verify
from opendata.compute.values import VERIFIABLE_TYPES, ValueInputError, actual_integer, check_field_scale
from opendata.db import Database
from opendata.errors import AppError, bad_request
from opendata.settings import Settings


@dataclass(frozen=True)
class Incoming:
    """What the handler hands over from the HTTP request (read on the event loop)."""

    raw_token: str | None
    info: RequestInfo
    body: bytes


def digest(value: Any, secret: bytes | None = None) -> str:
    """SHA-256 of canonical JSON: what the audit trail records of inputs and outputs.

    Inputs name subjects, whose ids are guessable: they are digested with the subject secret
    (HMAC), or anyone reading the trail could recover a subject by hashing candidate ids."""
    body = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    if secret is not None:
        return hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(body).hexdigest()


def _refusals_after(caller: ComputeCaller, session: Session, action: str, target: str) -> Refusals:
    return Refusals(session, caller.request, action, target, caller.actor, {"licence": caller.licence_id})


def _check_authorised(session: Session, refusals: Refusals, licence_id: int, subjects: list[str],
                      secret: bytes) -> Policy:
    """The licence's policy, once every subject is on its authorised list (if it has one)."""
    policy = policy_of(session, licence_id)
    outside = unauthorised(session, policy, subjects)
    if outside:
        refusals.deny(403, "subject_not_authorised",
                      f"{len(outside)} subject(s) are not on this licence's list of authorised subjects",
                      subjects=[subject_digest(secret, s) for s in outside[:100]], outside=len(outside))
    return policy


# --- verification ---------------------------------------------------------------------------

@dataclass(frozen=True)
class VerificationJob:
    caller: ComputeCaller
    checks: ProofCheck
    dataset_id: str
    resource_id: str
    public_key: PublicKey
    claims: dict[str, str]
    actual: dict[str, int | None] | None
    reveal_not_found: bool
    details: dict[str, Any]
    caps: probing.Caps
    subjects: list[str]  # digests
    probed: dict[tuple[str, str], int]  # today's counts before this request


def _claim_scales(source: SubjectSource, claims: dict[str, Any]) -> dict[str, int]:
    scales = {}
    for name, claim in claims.items():
        if name not in source.fields or name == source.subject_key:
            raise bad_request("unknown_field", f"{source.dataset_id}/{source.resource_id} has no verifiable "
                              f"field {name[:63]!r}")
        field_type = source.field_type(name)
        if field_type not in VERIFIABLE_TYPES:
            raise bad_request("field_not_computable", f"{name} is {field_type}: it cannot be verified")
        try:
            scales[name] = check_field_scale(claim.scale, field_type)
        except ValueInputError as error:
            raise bad_request(error.code, f"{name}: {error}") from None
    return scales


def _verification(session: Session, database: Database, settings: Settings, runtime: ComputeRuntime,
                  caller: ComputeCaller, refusals: Refusals, body: bytes) -> VerificationJob:
    request = parse_verify(parse_json(body), runtime.settings.max_verify_fields)
    source = source_for(session, request.dataset, request.resource)
    refusals.target = f"dataset:{source.dataset_id}"
    subject = check_subject(source, request.subject)
    where = check_filters(source, request.where)
    scales = _claim_scales(source, request.claims)
    require_grant(refusals, caller, source.dataset_id, [*request.claims, *where])
    require_unique(session, source, where)
    secret = runtime.subject_secret(database)
    policy = _check_authorised(session, refusals, caller.licence_id, [request.subject], secret)
    key_row = own_key(session, caller.organisation_id, request.key_id)
    public_key = runtime.public_key(key_row.kid, key_row.n)
    claims = {name: claim.ciphertext for name, claim in request.claims.items()}
    for ciphertext in claims.values():
        public_key.validate_ciphertext(ciphertext)  # before any row is read: no oracle
    checks = ProofCheck(
        parameters.ring_pedersen(session),
        parameters.context(settings, caller.organisation_id, key_row.kid, parameters.VERIFY_CLAIM),
        [(claim.ciphertext, claim.proof, CLAIM_BOUND_BITS) for claim in request.claims.values()],
        [f"the claim on {name!r}" for name in request.claims])
    check_quota(refusals, caller, 1)
    digests = [subject_digest(secret, request.subject)]
    caps = runtime.settings.caps
    probed = probing.check(session, caps, caller.licence_id, digests, sorted(claims))
    row = subject_row(session, source, subject, where, list(claims))
    actual = None if row is None else {
        name: actual_integer(row[name], source.field_type(name), scales[name]) for name in claims
    }
    details = {
        "licence": caller.licence_id, "dataset": source.dataset_id, "resource": source.resource_id,
        "fields": sorted(claims), "scales": scales, "where": request.where or {}, "key": key_row.kid,
        "subjects": digests, "found": row is not None,
        "inputs": digest({"claims": claims, "where": request.where or {}, "subject": request.subject}, secret),
    }
    return VerificationJob(caller, checks, source.dataset_id, source.resource_id, public_key, claims, actual,
                           policy.reveal_not_found, details, caps, digests, probed)


def prepare_verification(database: Database, settings: Settings, runtime: ComputeRuntime,
                         incoming: Incoming) -> VerificationJob:
    with database.session() as session:
        refusals = Refusals(session, incoming.info, "compute.verify")
        caller = authenticate(session, settings, incoming.raw_token, refusals)
        with audited(refusals):
            return _verification(session, database, settings, runtime, caller, refusals, incoming.body)


def finish_verification(database: Database, job: VerificationJob, results: dict[str, int] | None,
                        seconds: float) -> VerifyOut:
    """Charge one unit and audit; ``results`` None: not found, revealed by the policy (404)."""
    outputs = {field: str(value) for field, value in (results or {}).items()}
    with database.session() as session:
        refusals = _refusals_after(job.caller, session, "compute.verify", f"dataset:{job.dataset_id}")
        used = charge(refusals, job.caller, 1)
        probing.charge(session, job.caps, job.caller.licence_id, job.subjects, sorted(job.claims), job.probed,
                       actor=job.caller.actor, request=job.caller.request, action="compute.verify")
        reference = append(session, actor=job.caller.actor, action="compute.verify", target=refusals.target,
                           details={**job.details, "outputs": digest(outputs), "duration_ms": round(seconds * 1e3, 1),
                                    "compute_used_today": used},
                           request=job.caller.request)
        session.commit()
    if results is None:
        raise AppError(404, "subject_not_found", "no row of this subject matches (this licence's policy reveals it)")
    return VerifyOut(job.dataset_id, job.resource_id, job.public_key.key_id, outputs, reference)


# --- scoring --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScoringJob:
    caller: ComputeCaller
    output_mode: str
    blinding: Blinding | None  # decision / banded: how results are blinded (inputs.py)
    model_id: int
    public_key: PublicKey
    score_scale: int
    enc_weights: list[str]
    enc_bias: str
    subjects: list[str]  # scored, in request order
    rows: list[list[int]]
    not_found: list[str] | None  # only when the policy reveals it
    requested: int
    details: dict[str, Any]
    caps: probing.Caps
    digests: list[str]
    probed: dict[tuple[str, str], int]


def _usable_model(session: Session, runtime: ComputeRuntime, caller: ComputeCaller,
                  model_id: int) -> tuple[ComputeModel, PublicKey, list[Feature]]:
    row = get_model(session, model_id, caller.organisation_id)
    if row.licence_id != caller.licence_id:
        raise AppError(403, "model_other_licence",
                       f"model {model_id} is registered under licence {row.licence_id}: use a token of that licence")
    if row.state != "approved":
        raise AppError(409, "model_not_approved", f"model {model_id} is {row.state}: only approved models score")
    if row.output_mode is None:
        raise AppError(409, "model_outdated", f"model {model_id} was registered before output modes (its weights "
                       "were never reviewed nor bounded): register it again")
    key_row = own_key(session, caller.organisation_id, row.key_id)
    public_key = runtime.public_key(key_row.kid, key_row.n)
    if stored_digest(public_key, row) != row.digest:
        raise AppError(409, "model_integrity", f"model {model_id} no longer matches the digest that was approved")
    try:
        features = [from_stored(session, spec, i) for i, spec in enumerate(row.features)]
    except AppError as error:
        raise AppError(409, "model_outdated", f"the catalogue changed under model {model_id}: {error.message}") from None
    return row, public_key, features


@dataclass(frozen=True)
class ScoringChecks:
    """A scoring request that passed every check (model, grants, subjects, quota, caps):
    what the synchronous endpoint and a scoring job both compute from."""

    model_id: int
    model_digest: str
    key_id: str
    output_mode: str
    score_scale: int
    enc_weights: list[str]
    enc_bias: str
    public_key: PublicKey
    features: list[Feature]
    typed: list[list[Any]]  # per feature, the subjects as its key column compares them
    reveal_not_found: bool
    digests: list[str]
    caps: probing.Caps
    probed: dict[tuple[str, str], int]
    blinding: Blinding | None
    secret: bytes

    @property
    def feature_names(self) -> list[str]:
        return [f"{f.spec['dataset']}/{f.spec['field'] or '*'}" for f in self.features]


def scoring_checks(session: Session, database: Database, runtime: ComputeRuntime, caller: ComputeCaller,
                   refusals: Refusals, model_id: int, subjects: list[Any]) -> ScoringChecks:
    """Every check of a scoring of ``subjects``, refused (audited by the caller) before any work."""
    row, public_key, features = _usable_model(session, runtime, caller, model_id)
    for feature in features:
        require_grant(refusals, caller, feature.source.dataset_id, feature.licensed_fields)
    typed = check_subjects(features, subjects)
    secret = runtime.subject_secret(database)
    reveal = _check_authorised(session, refusals, caller.licence_id, subjects, secret).reveal_not_found
    check_quota(refusals, caller, len(subjects))
    digests = [subject_digest(secret, s) for s in subjects]
    caps = runtime.settings.caps
    probed = probing.check(session, caps, caller.licence_id, digests)
    blinding = None if row.output_mode == REVIEWED else Blinding.for_model(
        public_key.n, row.enc_thresholds, len(features), row.weight_bits, row.bias_bits)
    return ScoringChecks(model_id, row.digest, row.key_id, row.output_mode, row.score_scale, list(row.enc_weights),
                         row.enc_bias, public_key, features, typed, reveal, digests, caps, probed, blinding, secret)


def _scoring(session: Session, database: Database, runtime: ComputeRuntime, caller: ComputeCaller,
             refusals: Refusals, model_id: int, body: bytes) -> ScoringJob:
    subjects = parse_score(parse_json(body), runtime.settings.max_score_batch)
    checked = scoring_checks(session, database, runtime, caller, refusals, model_id, subjects)
    matrix, found = feature_matrix(session, checked.features, subjects, checked.typed)
    reveal = checked.reveal_not_found
    scored = [(s, x) for s, x in zip(subjects, matrix) if not reveal or s in found]
    details = {
        "licence": caller.licence_id, "model": model_id, "digest": checked.model_digest, "key": checked.key_id,
        "features": checked.feature_names, "subjects": checked.digests, "found": len(found),
        "inputs": digest({"model": checked.model_digest, "subjects": subjects}, checked.secret),
    }
    return ScoringJob(caller, checked.output_mode, checked.blinding, model_id, checked.public_key,
                      checked.score_scale, checked.enc_weights, checked.enc_bias,
                      [s for s, _ in scored], [x for _, x in scored],
                      [s for s in subjects if s not in found] if reveal else None, len(subjects), details,
                      checked.caps, checked.digests, checked.probed)


def prepare_scoring(database: Database, settings: Settings, runtime: ComputeRuntime, incoming: Incoming,
                    model_id: int) -> ScoringJob:
    with database.session() as session:
        refusals = Refusals(session, incoming.info, "compute.score", f"model:{model_id}")
        caller = authenticate(session, settings, incoming.raw_token, refusals)
        with audited(refusals):
            return _scoring(session, database, runtime, caller, refusals, model_id, incoming.body)


OUTPUT_KEYS = {REVIEWED: "scores", DECISION: "decisions", BANDED: "bands"}


def score_outputs(output_mode: str, subjects: list[str], results: list[Any]) -> dict[str, Any]:
    """The worker's results as the wire carries them, by subject (see ScoreOut)."""
    if output_mode == REVIEWED:
        return {s: str(v) for s, v in zip(subjects, results, strict=True)}
    if output_mode == DECISION:
        return {s: str(v[0]) for s, v in zip(subjects, results, strict=True)}
    return {s: [str(c) for c in v] for s, v in zip(subjects, results, strict=True)}


def finish_scoring(database: Database, job: ScoringJob, results: list[Any], seconds: float) -> ScoreOut:
    """Charge one unit per subject asked for (found or not) and audit."""
    outputs = score_outputs(job.output_mode, job.subjects, results)
    with database.session() as session:
        refusals = _refusals_after(job.caller, session, "compute.score", f"model:{job.model_id}")
        used = charge(refusals, job.caller, job.requested)
        probing.charge(session, job.caps, job.caller.licence_id, job.digests, (), job.probed,
                       actor=job.caller.actor, request=job.caller.request, action="compute.score")
        reference = append(session, actor=job.caller.actor, action="compute.score", target=refusals.target,
                           details={**job.details, "output_mode": job.output_mode, "outputs": digest(outputs),
                                    "duration_ms": round(seconds * 1e3, 1), "compute_used_today": used},
                           request=job.caller.request)
        session.commit()
    by_mode = OUTPUT_KEYS[job.output_mode]
    return ScoreOut(job.model_id, job.public_key.key_id, job.score_scale, job.output_mode, reference,
                    not_found=job.not_found, **{by_mode: outputs})


def record_failure(database: Database, caller: ComputeCaller, action: str, target: str, error: AppError) -> None:
    """Audit a computation that failed in the worker processes, after prepare succeeded
    (nothing was charged: the charge comes with the success record)."""
    with database.session() as session:
        append(session, actor=caller.actor, action=action, target=target, outcome="refused", code=error.code,
               details={"licence": caller.licence_id, "status": error.status, "message": error.message},
               request=caller.request)
        session.commit()
