"""Who is looking at a page: the person of the access layer's session cookie, or nobody.

The portal signs people in with the access layer's own server-side session (the same
HttpOnly cookie the JSON API accepts), so one sign-in serves both the pages and the
API's GET endpoints such as the audit export. Forms are protected by the portal's own
CSRF token (security.py), which is why a form post is not run through
``principals.resolve``: that function asks cookie-authenticated writes for the
X-CSRF-Token header that only scripts can send.
"""

from __future__ import annotations

from typing import Iterable, NoReturn

from litestar import Request
from sqlalchemy.orm import Session

# The access layer's session look-up (digest match, not ended, not expired, user not
# disabled): reused rather than copied, so that any rule it gains applies to pages too.
from opendata.access.principals import SESSION_COOKIE, Principal
from opendata.access.principals import find_session as find_live_session
from opendata.audit.context import request_info
from opendata.audit.service import refuse
from opendata.errors import AppError


class SignInRequired(Exception):
    """The page needs a signed-in person: answered with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def signed_in(request: Request, session: Session) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = find_live_session(session, token)
    return Principal(found.user, found, "cookie") if found is not None else None


def here(request: Request) -> str:
    """This request's path and query: where to come back to after signing in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go to next; anything else (another site, a scheme) is ignored."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def require_role(
    request: Request, session: Session, principal: Principal | None, roles: Iterable[str], action: str,
) -> Principal:
    """The signed-in person, who holds one of ``roles``.

    Nobody signed in: SignInRequired (a redirect). The wrong role: an audited 403, as the
    API would answer.
    """
    if principal is None:
        raise SignInRequired(here(request))
    allowed = tuple(roles)
    if principal.user.role not in allowed:
        forbid(session, request, principal, action,
               AppError(403, "forbidden_role",
                        f"this page needs the role {' or '.join(allowed)}; you are {principal.user.role}"))
    return principal


def forbid(session: Session, request: Request, principal: Principal, action: str, error: AppError) -> NoReturn:
    refuse(session, error, actor=principal.actor, action=action, target=request.url.path,
           request=request_info(request))
