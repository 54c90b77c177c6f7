"""An enterprise's API clients: create, rotate the secret, revoke.

A new or rotated secret is shown once, on the page that answers the form post (never
in a URL, never stored in the clear, never sent again), with Cache-Control: no-store.
"""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath

from opendata.access import clients
from opendata.access.models import ApiClient
from opendata.access.principals import Principal
from opendata.audit.context import request_info
from opendata.audit.service import refuse
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage

ENTERPRISE = ("enterprise",)


def _own_client(page: PortalPage, principal: Principal, client_id: str, action: str) -> ApiClient:
    """The organisation's client; another organisation's is a 404, and audited."""
    try:
        return clients.get_client(page.session, client_id, principal.user.organisation_id)
    except AppError as error:
        refuse(page.session, error, actor=principal.actor, action=action, target=f"client:{client_id}",
               request=request_info(page.request))


def _secret_page(page: PortalPage, client: ApiClient, secret: str, rotated: bool) -> Response:
    response = page.render("workspace/client_secret.html", nav="workspace", client=client, secret=secret,
                           rotated=rotated, base_url=str(page.request.base_url).rstrip("/"))
    response.headers["Cache-Control"] = "no-store"
    return response


@get("/workspace/clients", name="portal-clients", sync_to_thread=True)
def clients_page(page: Page, db_session: DbSession) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.clients")
    organisation_id = principal.user.organisation_id
    return page.render("workspace/clients.html", nav="workspace", error=None, name="",
                       api_clients=clients.list_clients(db_session, organisation_id) if organisation_id else [])


@post("/workspace/clients", name="portal-client-create", sync_to_thread=True)
def create_client(page: Page, db_session: DbSession, data: FormData) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.client.create")
    try:
        client, secret = clients.create_client(
            db_session, principal.user.organisation, forms.text(data, "name", 255), actor=principal.actor,
            request=request_info(page.request), created_by=principal.user.id,
        )
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        return page.render("workspace/clients.html", status=400, nav="workspace", error=page.t.error(error),
                           name=forms.echo(data, "name", 255),
                           api_clients=clients.list_clients(db_session, principal.user.organisation_id))
    return _secret_page(page, client, secret, rotated=False)


@post("/workspace/clients/{client_id:str}/rotate", name="portal-client-rotate", sync_to_thread=True)
def rotate_client(page: Page, db_session: DbSession, client_id: FromPath[str]) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.client.rotate")
    client = _own_client(page, principal, client_id, "client.rotate")
    secret = clients.rotate_secret(db_session, client, actor=principal.actor, request=request_info(page.request))
    db_session.commit()
    return _secret_page(page, client, secret, rotated=True)


@post("/workspace/clients/{client_id:str}/revoke", name="portal-client-revoke", sync_to_thread=True)
def revoke_client(page: Page, db_session: DbSession, client_id: FromPath[str]) -> Response:
    principal = page.require(*ENTERPRISE, action="portal.client.revoke")
    client = _own_client(page, principal, client_id, "client.revoke")
    clients.revoke_client(db_session, client, actor=principal.actor, request=request_info(page.request))
    db_session.commit()
    return page.redirect("/workspace/clients", notice="client_revoked")


HANDLERS = [clients_page, create_client, rotate_client, revoke_client]
