"""A dataset's history page: every version with its diff (sample keys as the visitor may see)."""

from __future__ import annotations

from litestar import Response, get
from litestar.params import FromPath

from opendata.catalogue import service
from opendata.deps import DbSession
from opendata.portal.page import Page
from opendata.versions.service import versions_of, visible_samples


@get("/datasets/{dataset_id:str}/history", name="portal-dataset-history", sync_to_thread=True)
def history_page(page: Page, db_session: DbSession, dataset_id: FromPath[str]) -> Response:
    dataset = service.get_dataset(db_session, dataset_id)  # 404 page when missing
    return page.render(
        "dataset_history.html", nav="datasets", dataset=dataset, versions=versions_of(db_session, dataset.id),
        samples_of=lambda version: visible_samples(dataset, version, page.principal),
    )


HANDLERS = [history_page]
