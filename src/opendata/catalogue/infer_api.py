"""POST /api/v1/catalogue/infer: a proposed data dictionary for uploaded CSV or XLSX files.

For publisher staff preparing a new resource: nothing is stored, the files are read from
the upload spool (opendata.spool) and removed when the request ends.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from opendata import spool
from opendata.access.principals import require_user
from opendata.catalogue.infer import infer_file, manifest_toml, propose_manifest
from opendata.deps import AppSettings, DbSession
from opendata.errors import AppError
from opendata.formats import FormatError

MAX_FILES = 10
FORMATS = ("csv", "xlsx")
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def uploaded_files(data: dict[str, Any]) -> list[UploadFile]:
    found = data.get("file")
    files = [f for f in (found if isinstance(found, list) else [found]) if isinstance(f, UploadFile) and f.filename]
    if not files:
        raise AppError(400, "missing_file", "send one or more CSV or XLSX files in the multipart field 'file'")
    if len(files) > MAX_FILES:
        raise AppError(400, "too_many_files", f"at most {MAX_FILES} files at once")
    for upload in files:
        if Path(upload.filename).suffix.lower().lstrip(".") not in FORMATS:
            raise AppError(400, "unsupported_file", f"{upload.filename!r} is not a .csv or .xlsx file")
    return files


def infer_uploads(files: list[UploadFile], settings: Any) -> dict[str, Any]:
    """The proposal for uploaded files, as the API returns it; AppError for an unreadable file."""
    spooled: list[Path] = []
    try:
        proposals = []
        for upload in files:
            fmt = Path(upload.filename).suffix.lower().lstrip(".")
            path = spool.new_file(settings.data_dir, f".{fmt}")
            spooled.append(path)
            with open(path, "wb") as out:
                upload.file.seek(0)
                shutil.copyfileobj(upload.file, out)
            try:
                proposal = infer_file(path, fmt=fmt, limits=settings.read_limits)
            except FormatError as exc:
                raise AppError(400, exc.code, f"{upload.filename}: {exc.message}"
                               + (f" (line {exc.line})" if exc.line else "")) from None
            proposal.path = upload.filename  # the publisher's name, not the spool's
            proposals.append(proposal)
    finally:
        for path in spooled:
            path.unlink(missing_ok=True)
    names = [Path(f.filename).name for f in files]
    raw = propose_manifest(proposals, names)
    return {
        "files": [p.summary() for p in proposals],
        "resources": raw["datasets"][0]["resources"],
        "manifest": manifest_toml(proposals, names),
    }


class InferController(Controller):
    path = "/api/v1/catalogue"
    tags = ["catalogue"]

    @post("/infer", summary="Propose a data dictionary (manifest) from CSV or XLSX files", status_code=200,
          sync_to_thread=True, opt={"upload": True})  # the input guard allows it upload_max_bytes
    def infer(self, request: Request, db_session: DbSession, settings: AppSettings,
              data: Multipart) -> dict[str, Any]:
        require_user(request, db_session, action="catalogue.infer", roles=("publisher", "admin"))
        return infer_uploads(uploaded_files(data), settings)
