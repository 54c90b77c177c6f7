"""Following a dataset from its page (a signed-in visitor's button); the followed datasets
with "updated" are on the account page and in the enterprise workspace."""

from __future__ import annotations

from litestar import Response, post
from litestar.params import FromPath

from opendata.access.models import ROLES
from opendata.catalogue import service as catalogue
from opendata.deps import DbSession
from opendata.portal.page import Page
from opendata.subscriptions import service


@post("/datasets/{dataset_id:str}/follow", name="portal-dataset-follow", sync_to_thread=True)
def follow_page(page: Page, db_session: DbSession, dataset_id: FromPath[str]) -> Response:
    principal = page.require(*ROLES, action="portal.dataset.follow")
    service.follow(db_session, principal.user, catalogue.get_dataset(db_session, dataset_id))
    db_session.commit()
    return page.redirect(f"/datasets/{dataset_id}", notice="followed")


@post("/datasets/{dataset_id:str}/unfollow", name="portal-dataset-unfollow", sync_to_thread=True)
def unfollow_page(page: Page, db_session: DbSession, dataset_id: FromPath[str]) -> Response:
    principal = page.require(*ROLES, action="portal.dataset.unfollow")
    service.unfollow(db_session, principal.user, catalogue.get_dataset(db_session, dataset_id).id)
    db_session.commit()
    return page.redirect(f"/datasets/{dataset_id}", notice="unfollowed")


HANDLERS = [follow_page, unfollow_page]
