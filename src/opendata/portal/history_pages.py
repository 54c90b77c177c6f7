"""A dataset's history page: every version with its diff (sample keys as the visitor may see);
the publisher's roll-back to a kept version (the form on the publisher's dataset page)."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath

from opendata.catalogue import service
from opendata.deps import DbSession
from opendata.portal.page import Page
from opendata.audit.context import request_info
from opendata.errors import AppError
from opendata.versions.rollback import roll_back
from opendata.versions.service import versions_of, visible_samples


@get("/datasets/{dataset_id:str}/history", name="portal-dataset-history", sync_to_thread=True)
def history_page(page: Page, db_session: DbSession, dataset_id: FromPath[str]) -> Response:
    dataset = service.get_dataset(db_session, dataset_id)  # 404 page when missing
    return page.render(
        "dataset_history.html", nav="datasets", dataset=dataset, versions=versions_of(db_session, dataset.id),
        samples_of=lambda version: visible_samples(dataset, version, page.principal),
    )


@post("/publisher/datasets/{dataset_id:str}/versions/{number:int}/rollback", name="portal-publisher-rollback",
      sync_to_thread=True)
def rollback_page(page: Page, db_session: DbSession, dataset_id: FromPath[str], number: FromPath[int]) -> Response:
    from opendata.portal.publisher import STAFF, _edit_page, _own_dataset

    principal = page.require(*STAFF, action="portal.publisher.rollback")
    dataset = _own_dataset(page, principal, dataset_id, "dataset.rollback")
    settings = page.request.app.state["opendata"].settings
    try:
        version = roll_back(db_session, dataset, number, principal.actor, request_info(page.request),
                            versions_kept=settings.versions_kept)
    except AppError as error:
        db_session.rollback()
        return _edit_page(page, service.get_dataset(db_session, dataset_id), error=page.t.error(error),
                          status=error.status)
    page.request.app.state["opendata"].mailer.wake()  # followers' e-mails, after the commit
    return page.redirect(f"/publisher/datasets/{dataset_id}?version={version.number}#versions", notice="rolled_back")


HANDLERS = [history_page, rollback_page]
