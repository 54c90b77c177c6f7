"""The signed-in person's own page: who they are, where their work is, what they asked for."""

from __future__ import annotations

from litestar import Response, get

from opendata.access.models import ROLES
from opendata.demand import service as demand
from opendata.deps import DbSession
from opendata.portal.page import Page
from opendata.subscriptions.service import followed


@get("/account", name="portal-account", sync_to_thread=True)
def account_page(page: Page, db_session: DbSession) -> Response:
    principal = page.require(*ROLES, action="portal.account")
    return page.render(
        "account.html",
        nav="account",
        account=principal.user,
        organisation=principal.user.organisation,
        session_expires=principal.auth_session.expires_at,
        my_requests=demand.list_requests(db_session, sort="newest", requester_id=principal.user.id),
        followed=followed(db_session, principal.user),
    )


HANDLERS = [account_page]
