"""Accounts: registration, users made by operators, sign-in sessions, disabling.

Developers and enterprises register themselves; publisher staff and administrators are
created by an operator (``opendata users create``), because those roles carry power.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opendata.access import throttle
from opendata.access.models import ROLES, AuthSession, Organisation, User
from opendata.access.passwords import (
    burn_verification_time, check_password_strength, digest, hash_password, needs_rehash,
    new_secret, verify_password,
)
from opendata.access.principals import SESSION_TOKEN_PREFIX, Principal, user_actor
from opendata.access.throttle import ThrottlePolicy
from opendata.audit.service import ANONYMOUS, Actor, RequestInfo, append, refuse
from opendata.catalogue.models import Publisher
from opendata.db import utcnow
from opendata.demo.identifiers import is_valid_credit_code
from opendata.errors import AppError, bad_request

SELF_REGISTERED_ROLES = ("developer", "enterprise")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,62}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[0-9][0-9 -]{5,30}")


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    credit_code: str
    contact_name: str
    contact_phone: str
    contact_email: str | None = None


@dataclass(frozen=True)
class AccountInput:
    username: str
    email: str
    password: str
    role: str
    display_name: str | None = None
    organisation: OrganisationInput | None = None
    # An operator may add a person to an organisation that exists already (never self-service).
    organisation_id: int | None = None
    publisher_id: str | None = None


def _required(value: str | None, name: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise bad_request("missing_field", f"{name} is required")
    if len(text) > limit:
        raise bad_request("invalid_field", f"{name} has at most {limit} characters")
    return text


def _organisation_values(spec: OrganisationInput) -> dict[str, str | None]:
    """The organisation's checked input (no database)."""
    code = spec.credit_code.strip().upper()
    if not is_valid_credit_code(code):
        raise bad_request(
            "invalid_credit_code",
            f"{spec.credit_code!r} is not a valid unified social credit code (统一社会信用代码): "
            "18 characters whose last one is the GB 32100 check character",
        )
    phone = _required(spec.contact_phone, "contact_phone", 32)
    if not PHONE.fullmatch(phone):
        raise bad_request("invalid_phone", f"{phone!r} is not a telephone number")
    email = (spec.contact_email or "").strip() or None
    if email is not None and not EMAIL.fullmatch(email):
        raise bad_request("invalid_email", f"{email!r} is not an e-mail address")
    return {"name": _required(spec.name, "organisation name", 255), "credit_code": code,
            "contact_name": _required(spec.contact_name, "contact_name", 63), "contact_phone": phone,
            "contact_email": email}


def create_organisation(session: Session, spec: OrganisationInput) -> Organisation:
    values = _organisation_values(spec)
    # Existence is checked after every other rule: otherwise a taken code with a bad
    # phone number would be answered differently from a new one (registration is neutral).
    if session.scalar(select(Organisation.id).where(Organisation.credit_code == values["credit_code"])):
        raise AppError(
            409, "organisation_exists",
            f"an organisation with credit code {values['credit_code']} is registered already; "
            "ask the platform administrator to add you to it",
        )
    organisation = Organisation(**values)
    session.add(organisation)
    return organisation


def create_user(session: Session, spec: AccountInput) -> User:
    """Validate and add a user (with a new organisation for an enterprise user)."""
    if spec.role not in ROLES:
        raise bad_request("unknown_role", f"role is one of {', '.join(ROLES)}")
    # Stored lower-case so that look-ups are exact matches on the unique indexes.
    username = spec.username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise bad_request(
            "invalid_username", "a user name is 3-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    email = spec.email.strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 255:
        raise bad_request("invalid_email", f"{email!r} is not an e-mail address")
    check_password_strength(spec.password, username=username)
    # Every check of the input comes before any check of existence, so that a taken
    # identifier is only ever reported as taken (which register() answers neutrally).
    if spec.role == "enterprise" and spec.organisation_id is None:
        if spec.organisation is None:
            raise bad_request("missing_organisation", "an enterprise account needs its organisation")
        _organisation_values(spec.organisation)
    elif spec.role != "enterprise" and (spec.organisation is not None or spec.organisation_id is not None):
        raise bad_request("unexpected_organisation", f"a {spec.role} account has no organisation")
    taken = session.execute(
        select(User.username, User.email).where(or_(User.username == username, User.email == email))
    ).first()
    if taken:
        what = "user name" if taken.username == username else "e-mail address"
        raise AppError(409, "account_exists", f"that {what} is registered already",
                       details={"existing": taken.username})
    organisation = publisher_id = None
    if spec.role == "enterprise":
        if spec.organisation_id is not None:
            organisation = session.get(Organisation, spec.organisation_id)
            if organisation is None:
                raise bad_request("unknown_organisation", f"organisation {spec.organisation_id} does not exist")
        else:
            organisation = create_organisation(session, spec.organisation)
    if spec.role == "publisher":
        if not spec.publisher_id or session.get(Publisher, spec.publisher_id) is None:
            raise bad_request("unknown_publisher", f"publisher {spec.publisher_id!r} does not exist")
        publisher_id = spec.publisher_id
    user = User(
        username=username, email=email,
        display_name=(spec.display_name or "").strip()[:255] or username, role=spec.role,
        organisation=organisation, publisher_id=publisher_id,
        password_hash=hash_password(spec.password),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent registration of the same name got there first
        raise AppError(409, "account_exists", "that user name, e-mail or organisation is registered already") from None
    return user


DUPLICATE_CODES = frozenset({"account_exists", "organisation_exists"})
REGISTRATION_RECEIVED = (
    "registration received: if these details are new, your account has been created and you can "
    "sign in with them; if you registered before, sign in with your existing account"
)


def register(session: Session, spec: AccountInput, request: RequestInfo) -> User | None:
    """Create a self-service account; None when an identifier is taken.

    The caller answers both cases alike (REGISTRATION_RECEIVED), so that registering
    cannot be used to learn which user names, e-mail addresses or credit codes exist.
    Invalid input is still refused as such: it reveals nothing about other accounts. A
    duplicate attempt costs a password hash like a real one and is audited as refused
    (``account.register``, code account_exists or organisation_exists) with the taken
    identifier's owner as target: that record is how administrators, and through them the
    owner, learn of it.
    """
    if spec.role not in SELF_REGISTERED_ROLES:
        raise bad_request(
            "role_not_self_service",
            f"only {' and '.join(SELF_REGISTERED_ROLES)} accounts can register themselves",
        )
    try:
        user = create_user(session, spec)
    except AppError as error:
        if error.code not in DUPLICATE_CODES:
            raise
        _duplicate(session, spec, error, request)
        return None
    append(session, actor=user_actor(user), action="account.register", target=f"user:{user.username}",
           details={"role": user.role, "organisation": user.organisation.credit_code if user.organisation else None},
           request=request)
    return user


def _duplicate(session: Session, spec: AccountInput, error: AppError, request: RequestInfo) -> None:
    session.rollback()
    hash_password(spec.password)  # the same work as a real registration: no timing difference
    if error.code == "organisation_exists" and spec.organisation is not None:
        target = f"organisation:{spec.organisation.credit_code.strip().upper()}"
    elif isinstance(error.details, dict) and error.details.get("existing"):
        target = f"user:{error.details['existing']}"
    else:  # a concurrent registration won the race: the names are all we know
        target = f"user:{spec.username.strip().lower()[:63]}"
    append(session, actor=ANONYMOUS, action="account.register", target=target, outcome="refused",
           code=error.code, details={"role": spec.role, "username": spec.username.strip().lower()[:63],
                                     "email": spec.email.strip().lower()[:255]},
           request=request)


def login(
    session: Session, identifier: str, password: str, request: RequestInfo, lifetime_seconds: int,
    policy: ThrottlePolicy | None = None,
) -> tuple[AuthSession, str]:
    """Check the password and open a session; returns the row and the token (shown once).

    Throttled per account and per client address (access/throttle.py): the attempt is
    claimed and committed before the password is checked, so this commits ``session``.
    """
    policy = policy or ThrottlePolicy()
    name = identifier.strip().lower()
    user = session.scalars(
        select(User).where((User.email if "@" in name else User.username) == name)
    ).one_or_none()
    actor = user_actor(user) if user else ANONYMOUS
    target = f"user:{user.username if user else name[:63]}"
    account = throttle.account_subject(user.username if user else name)
    address = throttle.address_subject(request.client_ip)
    subjects = [account] + ([address] if address else [])
    refusal = throttle.claim(session, policy, subjects)
    if refusal is not None:
        refuse(session, refusal, actor=actor, action="auth.login", target=target, request=request)
    session.commit()
    if user is None or not verify_password(user.password_hash, password):
        if user is None:
            burn_verification_time(password)
        for subject in throttle.record_failure(session, policy, subjects):
            append(session, actor=actor, action="auth.lockout", target=subject,
                   details={"locked_for_seconds": policy.lockout_seconds}, request=request)
        session.commit()
        refuse(session, AppError(401, "invalid_credentials", "wrong user name or password"),
               actor=actor, action="auth.login", target=target, request=request)
    if user.disabled:
        refuse(session, AppError(403, "account_disabled", "this account is disabled"),
               actor=user_actor(user), action="auth.login", target=f"user:{user.username}",
               request=request)
    throttle.record_success(session, policy, account, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = SESSION_TOKEN_PREFIX + new_secret()
    now = utcnow()
    row = AuthSession(
        token_digest=digest(token), user=user, csrf_token=new_secret(), created_at=now,
        expires_at=now + timedelta(seconds=lifetime_seconds), client_ip=request.client_ip,
        user_agent=request.user_agent[:255] if request.user_agent else None,
    )
    user.last_login_at = now
    session.add(row)
    append(session, actor=user_actor(user), action="auth.login", target=f"user:{user.username}",
           details={"expires_at": row.expires_at.isoformat()}, request=request)
    return row, token


def logout(session: Session, principal: Principal, request: RequestInfo) -> None:
    principal.auth_session.ended_at = utcnow()
    append(session, actor=principal.actor, action="auth.logout",
           target=f"user:{principal.user.username}", request=request)


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip().lower())).one_or_none()
    if user is None:
        raise AppError(404, "not_found", f"user {username!r} does not exist")
    return user


def list_users(session: Session, role: str | None = None) -> list[User]:
    return list(session.scalars(users_query(role)))


def users_query(role: str | None = None) -> Select[tuple[User]]:
    """Accounts in the order they were made, optionally of one role (400 for an unknown one)."""
    query = select(User).order_by(User.id)
    if role is not None:
        if role not in ROLES:
            raise bad_request("unknown_role", f"role is one of {', '.join(ROLES)}")
        query = query.where(User.role == role)
    return query


def disable_user(session: Session, username: str, actor: Actor, request: RequestInfo,
                 reason: str | None = None) -> User:
    """Disable an account and end its open sessions at once; ``reason`` goes in the audit."""
    user = get_user(session, username)
    user.disabled = True
    session.execute(
        update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    append(session, actor=actor, action="account.disable", target=f"user:{user.username}",
           details={"reason": reason} if reason else None, request=request)
    return user


def enable_user(session: Session, username: str, actor: Actor, request: RequestInfo,
                reason: str | None = None) -> User:
    """Re-enable a disabled account (it signs in again; its old sessions stay ended). A
    member of a disabled organisation stays disabled with it: 409 organisation_disabled."""
    user = get_user(session, username)
    if not user.disabled:
        raise AppError(409, "account_enabled", f"account {user.username!r} is not disabled")
    if user.organisation is not None and user.organisation.disabled:
        raise AppError(409, "organisation_disabled",
                       f"the organisation of {user.username!r} is disabled: its members stay disabled")
    user.disabled = False
    append(session, actor=actor, action="account.enable", target=f"user:{user.username}",
           details={"reason": reason} if reason else None, request=request)
    return user


def disable_organisation(session: Session, credit_code: str, actor: Actor, request: RequestInfo) -> Organisation:
    """Disable an organisation: its people are disabled (sessions ended), its clients get
    no new tokens and their live tokens stop on their next use (tokens.live_state)."""
    code = credit_code.strip().upper()
    organisation = session.scalars(select(Organisation).where(Organisation.credit_code == code)).one_or_none()
    if organisation is None:
        raise AppError(404, "not_found", f"no organisation has credit code {code!r}")
    organisation.disabled = True
    members = list(session.scalars(select(User).where(User.organisation_id == organisation.id)))
    for member in members:
        member.disabled = True
    session.execute(
        update(AuthSession).where(AuthSession.user_id.in_([m.id for m in members]), AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    append(session, actor=actor, action="organisation.disable", target=f"organisation:{code}",
           details={"users_disabled": sorted(m.username for m in members)}, request=request)
    return organisation


def unlock_sign_in(session: Session, subject: str, actor: Actor, request: RequestInfo) -> None:
    """An administrator's unlock of ``account:<name>`` or ``address:<ip>`` (audited)."""
    subject = subject.strip()
    kind, _, value = subject.partition(":")
    if kind not in (throttle.ACCOUNT, throttle.ADDRESS) or not value:
        raise bad_request("invalid_subject", "name what to unlock as account:<user name> or address:<ip>")
    if kind == throttle.ACCOUNT:
        subject = throttle.account_subject(value.lower())
    if not throttle.unlock(session, subject):
        raise AppError(404, "not_found", f"{subject!r} has no failed sign-ins on record")
    append(session, actor=actor, action="auth.unlock", target=subject, request=request)
