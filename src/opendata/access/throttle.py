"""Sign-in throttling, per account and per client address, shared through the database.

Each subject (``account:<user name>``, or the identifier as typed when no account has it,
and ``address:<client ip>``) has a row counting its recent failures. Past the free
failures every further attempt must wait ``base * 2^(failures - free)`` seconds (capped)
after the last one; at the lockout count the subject is locked for ``lockout_seconds``
or until an administrator unlocks it. A throttled attempt is refused before the password
is looked at, so guessing during a back-off or a lockout learns nothing.

An attempt is *claimed* before the password is checked: one conditional UPDATE that only
succeeds if the row still holds the count it was read with and the subject is not waiting.
Concurrent attempts (any process) therefore each take their own count, and a burst of
parallel guesses cannot slip past the back-off while the first ones are being verified.
The claim is committed at once. A success then clears the account's row and gives the
address its claim back; a failure keeps the count and may lock the subject.

Unknown identifiers are throttled exactly like real ones, so the throttle reveals nothing
about which accounts exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opendata.access.models import SignInThrottle
from opendata.db import utcnow
from opendata.errors import AppError
from opendata.settings import Settings

_TABLE = SignInThrottle.__table__
ACCOUNT, ADDRESS = "account", "address"


@dataclass(frozen=True)
class Limits:
    free_failures: int
    lockout_failures: int


@dataclass(frozen=True)
class ThrottlePolicy:
    account: Limits = Limits(5, 10)
    address: Limits = Limits(20, 100)
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    lockout_seconds: int = 900
    window_seconds: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> "ThrottlePolicy":
        return cls(
            Limits(settings.signin_free_failures, settings.signin_lockout_failures),
            Limits(settings.signin_address_free_failures, settings.signin_address_lockout_failures),
            settings.signin_backoff_base_seconds, settings.signin_backoff_max_seconds,
            settings.signin_lockout_seconds, settings.signin_failure_window_seconds,
        )

    def limits(self, subject: str) -> Limits:
        return self.account if subject.startswith(ACCOUNT + ":") else self.address

    def delay(self, subject: str, failures: int) -> float:
        free = self.limits(subject).free_failures
        if failures < free:
            return 0.0
        return min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** min(failures - free, 40))


def account_subject(name: str) -> str:
    return f"{ACCOUNT}:{name[:255]}"


def address_subject(ip: str | None) -> str | None:
    return f"{ADDRESS}:{ip[:64]}" if ip else None


def _throttled(subject: str, until: datetime, locked: bool, now: datetime) -> AppError:
    wait = max(1, math.ceil((until - now).total_seconds()))
    who = "this account" if subject.startswith(ACCOUNT + ":") else "your network address"
    if locked:
        error = AppError(429, "sign_in_locked",
                         f"{who} is locked after too many failed sign-ins; try again in {wait} s "
                         "or ask an administrator to unlock it")
    else:
        error = AppError(429, "sign_in_throttled",
                         f"too many failed sign-ins for {who}; wait {wait} s before trying again")
    # The subject stays out of the answer: for an e-mail it would name the account.
    error.headers = {**(error.headers or {}), "Retry-After": str(wait)}
    error.details = {"retry_after": wait}
    return error


def _allowed_at(policy: ThrottlePolicy, subject: str, failures: int, now: datetime) -> datetime | None:
    """When the next attempt may come; None for at once (a timestamp would make a
    concurrent attempt whose clock was read a moment earlier wait for nothing)."""
    delay = policy.delay(subject, failures)
    return now + timedelta(seconds=delay) if delay > 0 else None


def _claim_one(session: Session, policy: ThrottlePolicy, subject: str) -> AppError | None:
    """Count one attempt for ``subject`` unless it must wait; the refusal if it must."""
    # A lost race means another attempt took the count: read again. Each loss is another
    # attempt's success, and at most the free failures succeed before the back-off, so this
    # bound is never what stops a claim in practice.
    for _ in range(64):
        now = utcnow()
        row = session.execute(select(_TABLE).where(_TABLE.c.subject == subject)).first()
        if row is None:
            try:
                with session.begin_nested():
                    session.execute(_TABLE.insert().values(
                        subject=subject, failures=1, last_failure_at=now,
                        next_allowed_at=_allowed_at(policy, subject, 1, now)))
                return None
            except IntegrityError:
                continue
        if row.locked_until is not None and row.locked_until > now:
            return _throttled(subject, row.locked_until, True, now)
        if row.next_allowed_at is not None and row.next_allowed_at > now:
            return _throttled(subject, row.next_allowed_at, False, now)
        # Failures long ago are forgiven; an expired lockout is not (the count stays, so
        # the next failure locks again).
        stale = row.last_failure_at + timedelta(seconds=policy.window_seconds) <= now and row.locked_until is None
        failures = 1 if stale else row.failures + 1
        claimed = session.execute(
            update(_TABLE).where(_TABLE.c.subject == subject, _TABLE.c.failures == row.failures)
            .values(failures=failures, last_failure_at=now,
                    next_allowed_at=_allowed_at(policy, subject, failures, now))
        ).rowcount
        if claimed:
            return None
    now = utcnow()
    return _throttled(subject, now + timedelta(seconds=1), False, now)


def claim(session: Session, policy: ThrottlePolicy, subjects: list[str]) -> AppError | None:
    """Claim an attempt for every subject (the caller commits); the first refusal, if any.
    A refused attempt claims nothing: it does not lengthen anyone's wait."""
    for subject in subjects:
        refusal = _claim_one(session, policy, subject)
        if refusal is not None:
            session.rollback()
            return refusal
    return None


def record_failure(session: Session, policy: ThrottlePolicy, subjects: list[str]) -> list[str]:
    """After a wrong password: lock the subjects that reached their lockout count (the
    claim counted the failure already). Returns the subjects locked now."""
    now = utcnow()
    locked = []
    for subject in subjects:
        until = now + timedelta(seconds=policy.lockout_seconds)
        done = session.execute(
            update(_TABLE).where(_TABLE.c.subject == subject,
                                 _TABLE.c.failures >= policy.limits(subject).lockout_failures,
                                 or_(_TABLE.c.locked_until.is_(None), _TABLE.c.locked_until <= now))
            .values(locked_until=until)
        ).rowcount
        if done:
            locked.append(subject)
    return locked


def record_success(session: Session, policy: ThrottlePolicy, account: str, address: str | None) -> None:
    """The right password: the account starts afresh; the address gets its claim back."""
    session.execute(delete(_TABLE).where(_TABLE.c.subject == account))
    if address is None:
        return
    row = session.execute(select(_TABLE).where(_TABLE.c.subject == address)).first()
    if row is not None and row.failures > 0:
        failures = row.failures - 1
        session.execute(update(_TABLE).where(_TABLE.c.subject == address).values(
            failures=failures, next_allowed_at=_allowed_at(policy, address, failures, utcnow())))


def list_throttled(session: Session) -> list[SignInThrottle]:
    """Subjects that are locked or waiting now, most recent failure first."""
    now = utcnow()
    return list(session.scalars(
        select(SignInThrottle).where(or_(SignInThrottle.locked_until > now, SignInThrottle.next_allowed_at > now))
        .order_by(SignInThrottle.last_failure_at.desc())
    ))


def unlock(session: Session, subject: str) -> bool:
    """Forget a subject's failures (an administrator's unlock); False if there were none."""
    return bool(session.execute(delete(_TABLE).where(_TABLE.c.subject == subject)).rowcount)
