"""The publisher workspace's "new table" helper: propose a data dictionary from files.

The same proposal as ``opendata catalogue infer`` and POST /api/v1/catalogue/infer,
shown as a table of fields and as manifest TOML to paste into the catalogue (new tables
are governance decisions and arrive through the catalogue, so nothing is stored here).
"""

from __future__ import annotations

from litestar import Response, post

from opendata.catalogue.infer_api import infer_uploads, uploaded_files
from opendata.errors import AppError
from opendata.portal.forms import UploadForm
from opendata.portal.page import Page

STAFF = ("publisher", "admin")


@post("/publisher/infer", name="portal-publisher-infer", sync_to_thread=True,
      opt={"upload": True})  # the input guard allows it upload_max_bytes
def infer_page(page: Page, data: UploadForm) -> Response:
    page.require(*STAFF, action="portal.publisher.infer")
    settings = page.request.app.state["opendata"].settings
    try:
        proposal = infer_uploads(uploaded_files(data), settings)
    except AppError as error:
        return page.render("publisher/infer.html", status=400, nav="publisher", proposal=None,
                           error=page.t.error(error))
    return page.render("publisher/infer.html", nav="publisher", proposal=proposal, error=None)


HANDLERS = [infer_page]
