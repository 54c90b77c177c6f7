"""OAuth 2.0 endpoints: token (client credentials, RFC 6749 §4.4), introspection (RFC 7662),
revocation (RFC 7009), and the JWKS that publishes the verification keys.

These three endpoints speak OAuth's own error shape, ``{"error": "invalid_client",
"error_description": "..."}`` (RFC 6749 §5.2), not the project's ``{"error": {"code",
"message"}}``: every OAuth client library parses that shape, and the SDK does the same.
Requests are ``application/x-www-form-urlencoded``; the client authenticates with HTTP
Basic or with client_id and client_secret in the body, not both.
"""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import anyio.to_thread
from litestar import Request, Response, get, post
from sqlalchemy.orm import Session

from opendata.access import clients, keys, tokens
from opendata.access.models import ApiClient
from opendata.access.principals import SESSION_TOKEN_PREFIX, Principal, bearer_token, resolve
from opendata.access.tokens import OAuthError
from opendata.audit.context import request_info
from opendata.audit.service import ANONYMOUS, Actor, RequestInfo, append
from opendata.deps import AppDatabase, AppSettings, DbSession
from opendata.settings import Settings

FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_BYTES = 16 * 1024


def _oauth_response(error: OAuthError) -> Response[dict[str, str]]:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="opendata"'
    return Response({"error": error.error, "error_description": error.description},
                    status_code=error.status, headers=headers)


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise OAuthError("invalid_request", f"send the parameters as {FORM}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the request body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the form body is not valid UTF-8 form encoding") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.1: parameters must not be repeated
            raise OAuthError("invalid_request", f"parameter {name!r} appears more than once")
        form[name] = value
    return form


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    in_body = "client_id" in form or "client_secret" in form
    if header.lower().startswith("basic "):
        if in_body:
            raise OAuthError("invalid_request", "authenticate with HTTP Basic or with the body, not both")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "the Basic credentials are not base64", 401) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "the Basic credentials are not client_id:client_secret", 401)
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return unquote_plus(client_id), unquote_plus(secret)
    if in_body:
        return form.get("client_id", ""), form.get("client_secret", "")
    raise OAuthError("invalid_client", "authenticate the client (HTTP Basic or client_id + client_secret)", 401)


def _authenticate(session: Session, client_id: str, secret: str, action: str, request: RequestInfo) -> ApiClient:
    client = clients.authenticate_client(session, client_id, secret)
    if client is None:
        error = OAuthError("invalid_client", "unknown client, wrong secret, or revoked client", 401)
        actor = Actor(f"client:{client_id[:60]}", "client") if client_id else ANONYMOUS
        _audit_refusal(session, error, actor, action, request)
        raise error
    return client


def _audit_refusal(session: Session, error: OAuthError, actor: Actor, action: str, request: RequestInfo,
                   target: str | None = None) -> None:
    session.rollback()
    append(session, actor=actor, action=action, target=target, outcome="refused", code=error.error,
           details={"status": error.status, "message": error.description}, request=request)
    session.commit()


def _issue(database_session: Session, settings: Settings, form: dict[str, str], client_id: str, secret: str,
           request: RequestInfo) -> dict[str, Any]:
    with database_session as session:
        client = _authenticate(session, client_id, secret, "token.issue", request)
        actor = Actor(f"client:{client.client_id}", "client")
        try:
            issued = tokens.issue(session, settings, client, form.get("scope"))
        except OAuthError as error:
            _audit_refusal(session, error, actor, "token.issue", request)
            raise
        append(session, actor=actor, action="token.issue", target=f"licence:{issued.licence_id}",
               details={"scope": issued.scope, "expires_in": issued.expires_in},
               request=request.with_jti(issued.jti))
        session.commit()
    return {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
            "scope": issued.scope, "licence_id": issued.licence_id}


@post("/api/v1/token", summary="OAuth 2.0 client-credentials grant: an access token", tags=["tokens"],
      status_code=200)
async def token_endpoint(request: Request, database: AppDatabase, settings: AppSettings) -> Response[dict[str, Any]]:
    try:
        form = await _form(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
        client_id, secret = _credentials(request, form)
        body = await anyio.to_thread.run_sync(
            partial(_issue, database.sessions(), settings, form, client_id, secret, request_info(request))
        )
    except OAuthError as error:
        return _oauth_response(error)
    return Response(body, headers=NO_STORE)


def _introspect(database_session: Session, settings: Settings, request: Request, form: dict[str, str],
                info: RequestInfo) -> dict[str, Any]:
    with database_session as session:
        caller: str | None
        bearer = bearer_token(request)
        if bearer is not None and bearer.startswith(SESSION_TOKEN_PREFIX):
            principal = resolve(request, session)
            if not isinstance(principal, Principal) or principal.user.role != "admin":
                error = OAuthError("invalid_client", "only administrators introspect with a session", 401)
                who = principal.actor if isinstance(principal, Principal) else ANONYMOUS
                _audit_refusal(session, error, who, "token.introspect", info)
                raise error
            caller, actor = None, principal.actor
        else:
            client_id, secret = _credentials(request, form)
            client = _authenticate(session, client_id, secret, "token.introspect", info)
            caller, actor = client.client_id, Actor(f"client:{client.client_id}", "client")
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
        answer = tokens.introspect(session, settings, token, caller)
        append(session, actor=actor, action="token.introspect", target=f"token:{answer.get('jti', '?')}",
               details={"active": answer["active"]}, request=info)
        session.commit()
        return answer


@post("/api/v1/token/introspect", summary="RFC 7662 token introspection", tags=["tokens"], status_code=200)
async def introspect_endpoint(request: Request, database: AppDatabase,
                              settings: AppSettings) -> Response[dict[str, Any]]:
    try:
        form = await _form(request)
        answer = await anyio.to_thread.run_sync(
            partial(_introspect, database.sessions(), settings, request, form, request_info(request))
        )
    except OAuthError as error:
        return _oauth_response(error)
    return Response(answer, headers=NO_STORE)


def _revoke(database_session: Session, settings: Settings, request: Request, form: dict[str, str],
            info: RequestInfo) -> None:
    with database_session as session:
        client_id, secret = _credentials(request, form)
        client = _authenticate(session, client_id, secret, "token.revoke", info)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
        actor = Actor(f"client:{client.client_id}", "client")
        try:
            revoked = tokens.revoke(session, settings, token, client.client_id)
        except OAuthError as error:
            _audit_refusal(session, error, actor, "token.revoke", info)
            raise
        if revoked is not None:
            append(session, actor=actor, action="token.revoke", target=f"token:{revoked.jti}",
                   details={"licence": revoked.licence_id}, request=info.with_jti(revoked.jti))
            session.commit()


@post("/api/v1/token/revoke", summary="RFC 7009 token revocation", tags=["tokens"], status_code=200)
async def revoke_endpoint(request: Request, database: AppDatabase, settings: AppSettings) -> Response[Any]:
    try:
        form = await _form(request)
        await anyio.to_thread.run_sync(
            partial(_revoke, database.sessions(), settings, request, form, request_info(request))
        )
    except OAuthError as error:
        return _oauth_response(error)
    # RFC 7009 §2.2: 200 whether or not the token was valid, so it reveals nothing.
    return Response(b"", status_code=200, headers=NO_STORE, media_type="text/plain")


@get("/.well-known/jwks.json", summary="Public keys that verify access tokens (JWKS)", tags=["tokens"],
     sync_to_thread=True)
def jwks_endpoint(db_session: DbSession, settings: AppSettings) -> Response[dict[str, Any]]:
    keys.ensure_active_key(db_session, settings.signing_key_passphrase)
    # Short caching: a resource server that meets an unknown kid should fetch again anyway.
    return Response(keys.jwks(db_session, settings.token_lifetime_seconds),
                    headers={"Cache-Control": "public, max-age=60"})


TOKEN_HANDLERS = [token_endpoint, introspect_endpoint, revoke_endpoint, jwks_endpoint]
