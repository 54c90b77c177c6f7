"""Compute tables: enterprises' Paillier public keys, their registered linear models, and
each licence's compute policy (who may be computed on, and whether "not found" is told).

Only public material is stored: a key's modulus n, a model's *encrypted* weights and bias.
The server can never decrypt either; the digest pins what an administrator approved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from datetime import date

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base, UTCDateTime, utcnow

MODEL_STATES = ("pending", "approved", "rejected")
# What a scoring returns (docs/security/compute-threat-model.md): exact scores only of
# weights an administrator has read; otherwise a sign or a band, never the score.
OUTPUT_MODES = ("reviewed", "decision", "banded")


class ComputeKey(Base):
    """A Paillier public key of an organisation, by its fingerprint (``kid``)."""

    __tablename__ = "compute_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    n: Mapped[str] = mapped_column(Text)  # decimal, as on the wire
    bits: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(127))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the key's proof of well-formedness (compute/public_keys.py) was verified. None:
    # registered before proofs were required; such a key computes nothing until proved.
    proven_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ComputeParameter(Base):
    """The portal's proof parameters by name (compute/parameters.py), with their private
    factors: never served, only their public form is."""

    __tablename__ = "compute_parameters"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    private_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComputeKeyAttempt(Base):
    """One key registration attempt of an organisation, successful or not: registration is
    rate-limited per organisation (a proof costs the server up to a second to verify)."""

    __tablename__ = "compute_key_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ComputeModel(Base):
    """A private linear model registered under a licence: plaintext features, encrypted
    weights. Scores only once an administrator has approved its features."""

    __tablename__ = "compute_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("compute_keys.kid"))
    name: Mapped[str] = mapped_column(String(200))
    features: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    score_scale: Mapped[int] = mapped_column(Integer)
    enc_weights: Mapped[list[str]] = mapped_column(JSON)
    enc_bias: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(127))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(127))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # Chosen by the administrator at approval (OUTPUT_MODES); None for models registered
    # before output modes existed: they cannot score until registered again.
    output_mode: Mapped[str | None] = mapped_column(String(16))
    # Submitted for review (reviewed mode): the plaintext weights and bias as decimal text.
    plain_weights: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # decision (one) / banded (several, ascending) encrypted thresholds at score_scale.
    enc_thresholds: Mapped[list[str] | None] = mapped_column(JSON)
    # Declared bound: |w_i| < 2^weight_bits, |b|, |t| < 2^bias_bits (range-proved).
    weight_bits: Mapped[int | None] = mapped_column(Integer)
    bias_bits: Mapped[int | None] = mapped_column(Integer)


class LicenceComputePolicy(Base):
    """How a licence may compute, set by an administrator. No row: the defaults (not
    found is not revealed, *no* subject may be computed on: deny by default)."""

    __tablename__ = "licence_compute_policies"

    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"), primary_key=True)
    reveal_not_found: Mapped[bool] = mapped_column(Boolean, default=False)
    # False: only the subjects in licence_authorised_subjects (possibly none) may be used.
    # True: every subject -- an explicit administrator choice, shown with a warning.
    all_subjects: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(127))


class LicenceAuthorisedSubject(Base):
    """One subject key value (a person id, a credit code) a restricted licence may use.
    A table rather than a JSON list: lists run to tens of thousands of applicants, and
    each request needs an indexed membership test, not the whole list."""

    __tablename__ = "licence_authorised_subjects"

    # References the licence (not the policy row): a shorter constraint name than
    # PostgreSQL's 63-character limit, and the policy row is never deleted on its own.
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)


class ComputeSubjectUsage(Base):
    """Computations of one licence on one subject (keyed digest) per local day (the timezone setting), in total
    (``field`` "") and per verified field: the per-subject and per-field daily caps, and
    the probing alerts (compute/probing.py)."""

    __tablename__ = "compute_subject_usage"

    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class LicenceHiddenQueryGrant(Base):
    """A licence's right to hidden queries (匿踪查询) on one resource: which fields a query
    may return and how many queries a local day. Instead of a list of subjects -- the
    portal never learns which subject a hidden query reads. Set by an administrator."""

    __tablename__ = "licence_hidden_query_grants"
    __table_args__ = (UniqueConstraint("licence_id", "dataset_id", "resource_id", name="uq_hidden_query_grant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[str] = mapped_column(String(63))
    fields: Mapped[list[str]] = mapped_column(JSON)
    per_day: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(127))


class LicenceIntersectionGrant(Base):
    """A licence's right to private intersection statistics (联合统计) on one resource: the
    numeric fields with their clamping bounds, the privacy budget (epsilon per query and in
    total, spent so far), the minimum cohort, the most ids a list may have and the sessions a
    local day. Set by an administrator; ``epsilon_spent`` only grows (compute/psi_grants.py)."""

    __tablename__ = "licence_intersection_grants"
    __table_args__ = (UniqueConstraint("licence_id", "dataset_id", "resource_id", name="uq_intersection_grant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[str] = mapped_column(String(63))
    # {field: {"lower": "0", "upper": "40000"}}: decimal text, the clamping bounds.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    scale: Mapped[int] = mapped_column(Integer)
    epsilon_per_query: Mapped[float] = mapped_column(Float)
    epsilon_total: Mapped[float] = mapped_column(Float)
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    min_cohort: Mapped[int] = mapped_column(Integer)
    max_ids: Mapped[int] = mapped_column(Integer)
    per_day: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(127))


class IntersectionSession(Base):
    """One private intersection: opened by an offer, answered (or expired) once. Holds no
    secret: the portal's scalar is derived from an instance secret and the session id, and
    nothing of the enterprise's list is stored. ``epsilon`` is what its answer spent."""

    __tablename__ = "compute_intersection_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[str] = mapped_column(String(63))
    field: Mapped[str] = mapped_column(String(63))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    key_id: Mapped[str] = mapped_column(String(32))
    subjects: Mapped[int] = mapped_column(Integer)
    value_total: Mapped[str] = mapped_column(Text)  # sum of the offered fixed-point values (decimal)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="open")
    epsilon: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
