"""Access tables: accounts, sessions, API clients, applications, licences, usage, keys.

Secrets never sit here in the clear: passwords are argon2 hashes, session tokens and
client secrets SHA-256 digests (they are long random strings, see passwords.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opendata.db import Base, UTCDateTime, utcnow

ROLES = ("developer", "enterprise", "publisher", "admin")


class Organisation(Base):
    """An enterprise (企业) identified by its unified social credit code."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    contact_name: Mapped[str] = mapped_column(String(63))
    contact_phone: Mapped[str] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    # A disabled organisation's clients get no tokens and its live tokens stop (tokens.live_state).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(63), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    publisher_id: Mapped[str | None] = mapped_column(ForeignKey("publishers.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()


class AuthSession(Base):
    """A signed-in person: the cookie (or bearer) carries the token, the row its digest."""

    __tablename__ = "auth_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class ApiClient(Base):
    """A program of an organisation, authenticating with client id + secret."""

    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    secret_digest: Mapped[str] = mapped_column(String(64))
    # Bumped by every rotation and carried in tokens as ``sv``: a token minted under an
    # older secret stops on its next use.
    secret_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Application(Base):
    """A licence application (授权申请); its state machine follows REMS."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    items: Mapped[list["ApplicationItem"]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationItem.position"
    )
    events: Mapped[list["ApplicationEvent"]] = relationship(order_by="ApplicationEvent.id")
    organisation: Mapped[Organisation] = relationship()
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    licence: Mapped["Licence | None"] = relationship(viewonly=True, uselist=False)


class ApplicationItem(Base):
    """One dataset an application asks for: which operations on which fields."""

    __tablename__ = "application_items"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    operations: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[list[str]] = mapped_column(JSON)


class ApplicationEvent(Base):
    """One command applied to an application, with who, when and why: what the
    applicant sees as the application's history."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    command: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()


class Licence(Base):
    """What an approval grants an organisation: datasets × operations × fields, a
    validity window [valid_from, valid_until) and daily quotas."""

    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    rows_per_day: Mapped[int] = mapped_column(Integer)
    downloads_per_day: Mapped[int] = mapped_column(Integer)
    compute_calls_per_day: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)

    datasets: Mapped[list["LicenceDataset"]] = relationship(
        cascade="all, delete-orphan", order_by="LicenceDataset.position"
    )
    organisation: Mapped[Organisation] = relationship()


class LicenceDataset(Base):
    __tablename__ = "licence_datasets"

    licence_id: Mapped[int] = mapped_column(
        ForeignKey("licences.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    operations: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[list[str]] = mapped_column(JSON)


class LicenceUsage(Base):
    """How much of a quota a licence used on a local day (the timezone setting); incremented in place by one
    conditional upsert so that concurrent requests can never overrun the limit."""

    __tablename__ = "licence_usage"

    licence_id: Mapped[int] = mapped_column(
        ForeignKey("licences.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class SigningKey(Base):
    """A token signing key pair. The newest key without ``retired_at`` signs; retired
    keys stay published (JWKS) and keep verifying until their tokens have expired."""

    __tablename__ = "signing_keys"
    # Exactly one active key: processes creating the first key at the same moment race on
    # this index, and the losers use the winner's key (keys.ensure_active_key).
    __table_args__ = (
        Index("uq_signing_keys_one_active", "algorithm", unique=True,
              sqlite_where=text("retired_at IS NULL"), postgresql_where=text("retired_at IS NULL")),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key_pem: Mapped[str] = mapped_column(Text)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedToken(Base):
    """Access tokens revoked before their expiry (RFC 7009), by jti."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Past this the token is dead anyway; rows before it can be purged.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)



class SignInThrottle(Base):
    """Failed sign-ins of one subject (``account:<name>`` or ``address:<ip>``), shared by
    every process through the database (access/throttle.py)."""

    __tablename__ = "sign_in_throttles"

    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
