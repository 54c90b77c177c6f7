"""Administrators' account controls over HTTP: disable (and re-enable) a user, disable an organisation, see
and lift sign-in throttles. Every action is audited by the service it calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from opendata.access import accounts, throttle
from opendata.access.principals import require_user
from opendata.access.schemas import UserOut, user_out
from opendata.audit.context import request_info
from opendata.deps import DbSession
from opendata.errors import AppError

ADMIN = ("admin",)


@dataclass
class ThrottleOut:
    subject: str
    failures: int
    last_failure_at: datetime
    next_allowed_at: datetime | None
    locked_until: datetime | None


@dataclass
class UnlockIn:
    subject: str


@dataclass
class OrganisationStateOut:
    credit_code: str
    name: str
    disabled: bool


class AdminAccountsController(Controller):
    path = "/api/v1/admin"
    tags = ["accounts"]

    @post("/users/{username:str}/disable", summary="Disable an account (sessions end, its clients stop)",
          status_code=200, sync_to_thread=True)
    def disable_user(self, request: Request, db_session: DbSession, username: FromPath[str]) -> UserOut:
        principal = require_user(request, db_session, action="account.disable", roles=ADMIN,
                                 target=f"user:{username[:63]}")
        if username.strip().lower() == principal.user.username:
            raise AppError(409, "own_account", "you cannot disable your own account")
        user = accounts.disable_user(db_session, username, principal.actor, request_info(request))
        db_session.commit()
        return user_out(user)

    @post("/users/{username:str}/enable", summary="Re-enable a disabled account (it may sign in again)",
          status_code=200, sync_to_thread=True)
    def enable_user(self, request: Request, db_session: DbSession, username: FromPath[str]) -> UserOut:
        principal = require_user(request, db_session, action="account.enable", roles=ADMIN,
                                 target=f"user:{username[:63]}")
        user = accounts.enable_user(db_session, username, principal.actor, request_info(request))
        db_session.commit()
        return user_out(user)

    @post("/organisations/{credit_code:str}/disable",
          summary="Disable an organisation: its users, its clients and their live tokens", status_code=200,
          sync_to_thread=True)
    def disable_organisation(self, request: Request, db_session: DbSession,
                             credit_code: FromPath[str]) -> OrganisationStateOut:
        principal = require_user(request, db_session, action="organisation.disable", roles=ADMIN,
                                 target=f"organisation:{credit_code[:18]}")
        organisation = accounts.disable_organisation(db_session, credit_code, principal.actor, request_info(request))
        db_session.commit()
        return OrganisationStateOut(organisation.credit_code, organisation.name, organisation.disabled)

    @get("/sign-in-locks", summary="Accounts and addresses throttled or locked now", sync_to_thread=True)
    def sign_in_locks(self, request: Request, db_session: DbSession) -> list[ThrottleOut]:
        require_user(request, db_session, action="auth.locks", roles=ADMIN)
        return [ThrottleOut(r.subject, r.failures, r.last_failure_at, r.next_allowed_at, r.locked_until)
                for r in throttle.list_throttled(db_session)]

    @post("/sign-in-locks/unlock", summary="Lift a sign-in lock (account:<name> or address:<ip>)",
          status_code=200, sync_to_thread=True)
    def unlock(self, request: Request, db_session: DbSession, data: JSONBody[UnlockIn]) -> dict[str, str]:
        principal = require_user(request, db_session, action="auth.unlock", roles=ADMIN,
                                 target=str(data.subject)[:255])
        accounts.unlock_sign_in(db_session, data.subject, principal.actor, request_info(request))
        db_session.commit()
        return {"status": "unlocked", "subject": data.subject.strip()}
