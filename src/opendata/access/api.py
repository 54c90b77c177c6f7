"""HTTP endpoints for accounts (register, sign in and out, me) and API clients."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from opendata.access import accounts, clients
from opendata.access.accounts import AccountInput, OrganisationInput
from opendata.access.cookies import secure_cookies
from opendata.access.models import ApiClient
from opendata.access.principals import CSRF_COOKIE, SESSION_COOKIE, Principal, require_user
from opendata.access.throttle import ThrottlePolicy
from opendata.access.schemas import (
    ClientIn, ClientOut, ClientSecretOut, LoginIn, MeOut, RegisterIn, SessionOut, UserOut, client_out, user_out,
)
from opendata.audit.context import request_info
from opendata.audit.service import refuse
from opendata.deps import AppSettings, DbSession
from opendata.errors import AppError

NO_STORE = {"Cache-Control": "no-store"}


class AuthController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/auth/register", summary="Register a developer or enterprise account (answered neutrally)",
          status_code=202, sync_to_thread=True)
    def register(self, request: Request, db_session: DbSession, data: JSONBody[RegisterIn]) -> dict[str, str]:
        """202 with the same body whether the identifiers were new (account created) or
        taken (nothing created, audited): registration does not tell who is registered."""
        organisation = OrganisationInput(**vars(data.organisation)) if data.organisation else None
        spec = AccountInput(username=data.username, email=data.email, password=data.password,
                            role=data.role, display_name=data.display_name, organisation=organisation)
        accounts.register(db_session, spec, request_info(request))
        db_session.commit()
        return {"status": "received", "message": accounts.REGISTRATION_RECEIVED}

    @post("/auth/login", summary="Sign in: a session token, and the session cookie", status_code=200,
          sync_to_thread=True)
    def login(self, request: Request, db_session: DbSession, settings: AppSettings,
              data: JSONBody[LoginIn]) -> Response[SessionOut]:
        row, token = accounts.login(db_session, data.username, data.password, request_info(request),
                                    settings.session_lifetime_seconds, ThrottlePolicy.from_settings(settings))
        db_session.commit()
        body = SessionOut(token, row.csrf_token, row.expires_at, user_out(row.user))
        response = Response(body, headers=NO_STORE)
        lifetime = settings.session_lifetime_seconds
        secure = secure_cookies(request, settings)
        response.set_cookie(SESSION_COOKIE, token, max_age=lifetime, httponly=True,
                            secure=secure, samesite="lax")
        # Readable by the page's scripts, which echo it in X-CSRF-Token (double submit).
        response.set_cookie(CSRF_COOKIE, row.csrf_token, max_age=lifetime, httponly=False,
                            secure=secure, samesite="lax")
        return response

    @post("/auth/logout", summary="End the current session", status_code=200, sync_to_thread=True)
    def logout(self, request: Request, db_session: DbSession) -> Response[dict[str, str]]:
        principal = require_user(request, db_session, action="auth.logout")
        accounts.logout(db_session, principal, request_info(request))
        db_session.commit()
        response = Response({"status": "signed_out"}, headers=NO_STORE)
        response.delete_cookie(SESSION_COOKIE)
        response.delete_cookie(CSRF_COOKIE)
        return response

    @get("/me", summary="The signed-in account", sync_to_thread=True)
    def me(self, request: Request, db_session: DbSession) -> MeOut:
        principal = require_user(request, db_session, action="account.read")
        return MeOut(user_out(principal.user), principal.via, principal.auth_session.expires_at)


class ClientsController(Controller):
    """An enterprise's API clients; the secret appears in a response exactly once."""

    path = "/api/v1/clients"
    tags = ["accounts"]

    @get("/", summary="Your organisation's API clients", sync_to_thread=True)
    def list_clients(self, request: Request, db_session: DbSession) -> list[ClientOut]:
        principal = require_user(request, db_session, action="client.list", roles=("enterprise",))
        return [client_out(c) for c in clients.list_clients(db_session, principal.user.organisation_id)]

    @post("/", summary="Create an API client (its secret is shown once)", status_code=201, sync_to_thread=True)
    def create_client(self, request: Request, db_session: DbSession,
                      data: JSONBody[ClientIn]) -> Response[ClientSecretOut]:
        principal = require_user(request, db_session, action="client.create", roles=("enterprise",))
        client, secret = clients.create_client(
            db_session, principal.user.organisation, data.name, actor=principal.actor,
            request=request_info(request), created_by=principal.user.id,
        )
        db_session.commit()
        return Response(ClientSecretOut(client.client_id, secret, client.name), status_code=201, headers=NO_STORE)

    @post("/{client_id:str}/rotate", summary="Replace the client's secret (shown once)", status_code=200,
          sync_to_thread=True)
    def rotate(self, request: Request, db_session: DbSession, client_id: FromPath[str]) -> Response[ClientSecretOut]:
        principal = require_user(request, db_session, action="client.rotate", roles=("enterprise",))
        client = _own_client(request, db_session, principal, client_id, "client.rotate")
        secret = clients.rotate_secret(db_session, client, actor=principal.actor, request=request_info(request))
        db_session.commit()
        return Response(ClientSecretOut(client.client_id, secret, client.name), headers=NO_STORE)

    @post("/{client_id:str}/revoke", summary="Revoke the client and its live tokens", status_code=200,
          sync_to_thread=True)
    def revoke(self, request: Request, db_session: DbSession, client_id: FromPath[str]) -> ClientOut:
        principal = require_user(request, db_session, action="client.revoke", roles=("enterprise",))
        client = _own_client(request, db_session, principal, client_id, "client.revoke")
        clients.revoke_client(db_session, client, actor=principal.actor, request=request_info(request))
        db_session.commit()
        return client_out(client)


def _own_client(request: Request, session: DbSession, principal: Principal, client_id: str,
                action: str) -> ApiClient:
    """The caller's organisation's client; another organisation's is a 404, and audited."""
    try:
        return clients.get_client(session, client_id, principal.user.organisation_id)
    except AppError as error:
        refuse(session, error, actor=principal.actor, action=action, target=f"client:{client_id}",
               request=request_info(request))
