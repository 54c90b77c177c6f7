"""Who is calling: a signed-in person, found by session cookie or bearer session token.

Cookies are for the portal's pages: HttpOnly, SameSite=Lax, Secure unless configured
otherwise, and every state-changing request authenticated by cookie must repeat the
session's CSRF token in the ``X-CSRF-Token`` header. API callers send the same session
token as ``Authorization: Bearer ods_...`` and need no CSRF token: a browser never adds
that header on its own. JWT access tokens are for data endpoints, not for these.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Iterable

from litestar import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.access.models import AuthSession, User
from opendata.access.passwords import digest
from opendata.audit.context import request_info
from opendata.audit.service import ANONYMOUS, Actor, refuse
from opendata.db import utcnow
from opendata.errors import AppError

SESSION_COOKIE = "opendata_session"
CSRF_COOKIE = "opendata_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_TOKEN_PREFIX = "ods_"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    user: User
    auth_session: AuthSession
    via: str  # "cookie" or "bearer"

    @property
    def actor(self) -> Actor:
        return user_actor(self.user)


def user_actor(user: User) -> Actor:
    return Actor(f"user:{user.username}", user.role)


def bearer_token(request: Request) -> str | None:
    """The credentials of an ``Authorization: Bearer <token>`` header, if there is one."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _unauthenticated(code: str, message: str) -> AppError:
    return AppError(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="opendata"'})


def find_session(session: Session, token: str) -> AuthSession | None:
    row = session.scalars(
        select(AuthSession).join(User).where(AuthSession.token_digest == digest(token))
    ).one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= utcnow() or row.user.disabled:
        return None
    return row


def resolve(request: Request, session: Session) -> Principal | AppError:
    """The caller, or the error that explains why there is none (not raised: the
    caller decides whether to audit it)."""
    bearer = bearer_token(request)
    if bearer is not None:
        if not bearer.startswith(SESSION_TOKEN_PREFIX):
            return _unauthenticated(
                "session_required",
                "this endpoint needs a signed-in person (a session token from "
                "POST /api/v1/auth/login); access tokens are for data endpoints",
            )
        found = find_session(session, bearer)
        if found is None:
            return _unauthenticated("invalid_session", "the session token is unknown, ended or expired")
        return Principal(found.user, found, "bearer")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return _unauthenticated("authentication_required", "sign in first (POST /api/v1/auth/login)")
    found = find_session(session, cookie)
    if found is None:
        return _unauthenticated("invalid_session", "the session cookie is unknown, ended or expired")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), found.csrf_token.encode()):
            return AppError(
                403, "csrf_failed",
                f"a request authenticated by cookie must send the session's CSRF token in {CSRF_HEADER}",
            )
    return Principal(found.user, found, "cookie")


def require_user(
    request: Request, session: Session, *, action: str, roles: Iterable[str] | None = None,
    target: str | None = None,
) -> Principal:
    """The signed-in caller, who must hold one of ``roles``; otherwise an audited 401/403."""
    found = resolve(request, session)
    if isinstance(found, AppError):
        refuse(session, found, actor=ANONYMOUS, action=action, target=target,
               request=request_info(request))
    allowed = tuple(roles or ())
    if allowed and found.user.role not in allowed:
        refuse(
            session,
            AppError(403, "forbidden_role",
                     f"this needs the role {' or '.join(allowed)}; you are {found.user.role}"),
            actor=found.actor, action=action, target=target, request=request_info(request),
        )
    return found
