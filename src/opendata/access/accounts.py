"""Accounts: registration, users made by operators, sign-in sessions, disabling.

Developers and enterprises register themselves; publisher staff and administrators are
created by an operator (``opendata users create``), because those roles carry power.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opendata.access.models import ROLES, AuthSession, Organisation, User
from opendata.access.passwords import (
    burn_verification_time, check_password_strength, digest, hash_password, needs_rehash,
    new_secret, verify_password,
)
from opendata.access.principals import SESSION_TOKEN_PREFIX, Principal, user_actor
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


def create_organisation(session: Session, spec: OrganisationInput) -> Organisation:
    code = spec.credit_code.strip().upper()
    if not is_valid_credit_code(code):
        raise bad_request(
            "invalid_credit_code",
            f"{spec.credit_code!r} is not a valid unified social credit code (统一社会信用代码): "
            "18 characters whose last one is the GB 32100 check character",
        )
    if session.scalar(select(Organisation.id).where(Organisation.credit_code == code)):
        raise AppError(
            409, "organisation_exists",
            f"an organisation with credit code {code} is registered already; "
            "ask the platform administrator to add you to it",
        )
    phone = _required(spec.contact_phone, "contact_phone", 32)
    if not PHONE.fullmatch(phone):
        raise bad_request("invalid_phone", f"{phone!r} is not a telephone number")
    email = (spec.contact_email or "").strip() or None
    if email is not None and not EMAIL.fullmatch(email):
        raise bad_request("invalid_email", f"{email!r} is not an e-mail address")
    organisation = Organisation(
        name=_required(spec.name, "organisation name", 255), credit_code=code,
        contact_name=_required(spec.contact_name, "contact_name", 63), contact_phone=phone,
        contact_email=email,
    )
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
    taken = session.execute(
        select(User.username, User.email).where(or_(User.username == username, User.email == email))
    ).first()
    if taken:
        what = "user name" if taken.username == username else "e-mail address"
        raise AppError(409, "account_exists", f"that {what} is registered already")
    organisation = publisher_id = None
    if spec.role == "enterprise":
        if spec.organisation_id is not None:
            organisation = session.get(Organisation, spec.organisation_id)
            if organisation is None:
                raise bad_request("unknown_organisation", f"organisation {spec.organisation_id} does not exist")
        elif spec.organisation is None:
            raise bad_request("missing_organisation", "an enterprise account needs its organisation")
        else:
            organisation = create_organisation(session, spec.organisation)
    elif spec.organisation is not None or spec.organisation_id is not None:
        raise bad_request("unexpected_organisation", f"a {spec.role} account has no organisation")
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


def register(session: Session, spec: AccountInput, request: RequestInfo) -> User:
    if spec.role not in SELF_REGISTERED_ROLES:
        raise bad_request(
            "role_not_self_service",
            f"only {' and '.join(SELF_REGISTERED_ROLES)} accounts can register themselves",
        )
    user = create_user(session, spec)
    append(session, actor=user_actor(user), action="account.register", target=f"user:{user.username}",
           details={"role": user.role, "organisation": user.organisation.credit_code if user.organisation else None},
           request=request)
    return user


def login(
    session: Session, identifier: str, password: str, request: RequestInfo, lifetime_seconds: int
) -> tuple[AuthSession, str]:
    """Check the password and open a session; returns the row and the token (shown once)."""
    name = identifier.strip().lower()
    user = session.scalars(
        select(User).where((User.email if "@" in name else User.username) == name)
    ).one_or_none()
    if user is None or not verify_password(user.password_hash, password):
        if user is None:
            burn_verification_time(password)
        refuse(session, AppError(401, "invalid_credentials", "wrong user name or password"),
               actor=user_actor(user) if user else ANONYMOUS, action="auth.login",
               target=f"user:{name[:63]}", request=request)
    if user.disabled:
        refuse(session, AppError(403, "account_disabled", "this account is disabled"),
               actor=user_actor(user), action="auth.login", target=f"user:{user.username}",
               request=request)
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
    query = select(User).order_by(User.id)
    if role is not None:
        if role not in ROLES:
            raise bad_request("unknown_role", f"role is one of {', '.join(ROLES)}")
        query = query.where(User.role == role)
    return list(session.scalars(query))


def disable_user(session: Session, username: str, actor: Actor, request: RequestInfo) -> User:
    """Disable an account and end its open sessions at once."""
    user = get_user(session, username)
    user.disabled = True
    session.execute(
        update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    append(session, actor=actor, action="account.disable", target=f"user:{user.username}", request=request)
    return user
