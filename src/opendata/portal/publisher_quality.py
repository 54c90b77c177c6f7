"""The publisher's quality report of one of its datasets, as an Excel download."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response, get
from litestar.params import FromPath

from opendata.deps import DbSession
from opendata.portal.page import Page
from opendata.portal.publisher import STAFF, _own_dataset
from opendata.quality.report_xlsx import quality_workbook
from opendata.quality.service import quality_report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/publisher/datasets/{dataset_id:str}/quality.xlsx", name="portal-publisher-quality", sync_to_thread=True)
def quality_download(page: Page, db_session: DbSession, dataset_id: FromPath[str]) -> Response:
    principal = page.require(*STAFF, action="portal.publisher.quality")
    dataset = _own_dataset(page, principal, dataset_id, "dataset.quality_report")
    body = quality_workbook(quality_report(db_session, dataset))
    name = f"{dataset.id}-quality.xlsx"
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"})


HANDLERS = [quality_download]
