"""The publisher workspace: a department's staff keep their own datasets up to date.

- Descriptive metadata is edited through the access layer's ``edit_dataset`` (the same
  rules as PATCH /api/v1/datasets/{id}: one's own department only, administrators any).
- A new version of a table is uploaded as CSV or XLSX, staged by the row store in short
  transactions that never keep other writers out, and swapped in with the audit record in
  one short transaction (catalogue/staging.py): if any cell is bad, nothing changes and
  the page lists every problem found (row, column, value, reason); the old rows stay served.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from opendata.access.dataset_edit import EDITABLE, edit_dataset, may_edit
from opendata.access.principals import Principal
from opendata.audit.context import request_info
from opendata import spool
from opendata.audit.service import append
from opendata.catalogue import service as catalogue
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.rowstore import IngestError, IngestReport, ingest_file
from opendata.catalogue.staging import replace_rows, staging_supported
from opendata.extensions.registry import upload_extensions
from opendata.db import utcnow
from opendata.deps import DbSession
from opendata.errors import AppError
from opendata.portal import forms
from opendata.portal.forms import FormData, FormError, UploadForm
from opendata.portal.page import Page, PortalPage
from opendata.portal.visitors import forbid
from opendata.versions.record import VersionSource
from opendata.quality.service import dataset_quality
from opendata.versions.service import versions_of

STAFF = ("publisher", "admin")
UPLOAD_FORMATS = ("csv", "xlsx")
TEXT_FIELDS = [name for name in EDITABLE if name not in ("tags", "update_frequency")]


def _datasets_of(session: Session, principal: Principal) -> list[Dataset]:
    statement = select(Dataset).options(selectinload(Dataset.publisher), selectinload(Dataset.resources))
    if principal.user.role != "admin":
        statement = statement.where(Dataset.publisher_id == principal.user.publisher_id)
    return list(session.scalars(statement.order_by(Dataset.publisher_id, Dataset.id)))


@get("/publisher", name="portal-publisher", sync_to_thread=True)
def publisher_home(page: Page, db_session: DbSession) -> Response:
    principal = page.require(*STAFF, action="portal.publisher")
    return page.render("publisher/datasets.html", nav="publisher", datasets=_datasets_of(db_session, principal))


def _own_dataset(page: PortalPage, principal: Principal, dataset_id: str, action: str) -> Dataset:
    dataset = catalogue.get_dataset(page.session, dataset_id)
    if not may_edit(principal, dataset):
        forbid(page.session, page.request, principal, action,
               AppError(403, "not_your_dataset", f"dataset {dataset.id!r} belongs to {dataset.publisher_id}; "
                        "publishers edit their own department's datasets only"))
    return dataset


def _metadata_values(dataset: Dataset) -> dict[str, str]:
    values = {name: getattr(dataset, name) or "" for name in TEXT_FIELDS}
    values["update_frequency"] = dataset.update_frequency
    values["tags"] = ", ".join(dataset.tag_names)
    return values


def _edit_page(page: PortalPage, dataset: Dataset, *, values: dict[str, str] | None = None,
               error: str | None = None, upload: dict[str, Any] | None = None, status: int = 200) -> Response:
    return page.render("publisher/dataset.html", status=status, nav="publisher", dataset=dataset,
                       values=values or _metadata_values(dataset), error=error, upload=upload,
                       text_fields=TEXT_FIELDS, frequencies=vocab.UPDATE_FREQUENCIES,
                       quality=dataset_quality(page.session, dataset),
                       versions=versions_of(page.session, dataset.id),
                       current_tables={r.table_name for r in dataset.resources if r.table_name},
                       upload_accept=",".join(f".{e}" for e in (*UPLOAD_FORMATS, *upload_extensions())))


@get("/publisher/datasets/{dataset_id:str}", name="portal-publisher-dataset", sync_to_thread=True)
def dataset_form(page: Page, dataset_id: FromPath[str]) -> Response:
    principal = page.require(*STAFF, action="portal.publisher.dataset")
    return _edit_page(page, _own_dataset(page, principal, dataset_id, "dataset.edit"))


def split_tags(text: str) -> list[str]:
    for separator in ("，", ";", "；", "\n"):
        text = text.replace(separator, ",")
    return [tag.strip() for tag in text.split(",") if tag.strip()]


@post("/publisher/datasets/{dataset_id:str}", name="portal-publisher-save", sync_to_thread=True)
def save_metadata(page: Page, db_session: DbSession, dataset_id: FromPath[str], data: FormData) -> Response:
    principal = page.require(*STAFF, action="portal.publisher.save")
    dataset = _own_dataset(page, principal, dataset_id, "dataset.edit")
    changes: dict[str, Any] = {name: forms.text(data, name) for name in TEXT_FIELDS}
    changes["update_frequency"] = forms.text(data, "update_frequency", 16)
    changes["tags"] = split_tags(forms.text(data, "tags", 4000))
    try:
        edit_dataset(db_session, principal, dataset, changes, request_info(page.request))
        db_session.commit()
    except AppError as error:
        db_session.rollback()
        values = {name: forms.echo(data, name, 20_000) for name in [*TEXT_FIELDS, "update_frequency", "tags"]}
        return _edit_page(page, catalogue.get_dataset(db_session, dataset_id), values=values,
                          error=page.t.error(error), status=400)
    return page.redirect(f"/publisher/datasets/{dataset_id}", notice="metadata_saved")


def _stored_upload(upload: Any, data_dir: Path) -> tuple[Path, str, str]:
    """The uploaded file in a temporary file named by its format; FormError if unusable.
    The file is in the data directory's spool (opendata.spool), which start-up sweeps."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FormError("missing_file", "choose a CSV or XLSX file to upload")
    fmt = Path(upload.filename).suffix.lower().lstrip(".")
    if fmt not in (*UPLOAD_FORMATS, *upload_extensions()):  # and what enabled plugins read
        raise FormError("unsupported_file", f"{upload.filename!r} is not a .csv or .xlsx file")
    path = spool.new_file(data_dir, f".{fmt}")
    try:
        with open(path, "wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, fmt, upload.filename[:255]


def _ingest(session: Session, principal: Principal, dataset: Dataset, resource: Resource, path: Path,
            fmt: str, filename: str, page: PortalPage) -> IngestReport:
    """Replace the table's rows (a new version unless they are the same rows); IngestError
    leaves everything as it was."""
    previous = resource.row_count
    updated_at = dataset.updated_at
    settings = page.request.app.state["opendata"].settings
    source = VersionSource(actor=principal.actor.name, origin="upload", file_name=filename,
                           versions_kept=settings.versions_kept)

    def record(report: IngestReport) -> None:  # in the transaction that swaps the rows in
        # The same rows as before: nothing about the dataset moved (the audit still says who tried).
        dataset.updated_at = utcnow() if report.version is not None else updated_at
        append(session, actor=principal.actor, action="resource.upload",
               target=f"resource:{dataset.id}/{resource.id}",
               details={"file": filename, "format": fmt, "rows": report.rows, "previous_rows": previous,
                        "encoding": report.encoding, "version": report.version,
                        "unchanged": report.version is None, "sha256": source.file_digest},
               request=request_info(page.request))

    if settings.ingest_staged and staging_supported(session.get_bind()):
        return replace_rows(session, resource, path, fmt=fmt, limits=settings.read_limits,
                            before_commit=record, source=source)
    # The old path: a first write opens the transaction, so that the new table's CREATE
    # (which SQLite would otherwise run on its own) belongs to it and a rollback removes it.
    dataset.updated_at = utcnow()
    session.flush()
    report = ingest_file(session, resource, path, fmt=fmt, limits=settings.read_limits, source=source)
    record(report)
    session.commit()
    return report


@post("/publisher/datasets/{dataset_id:str}/resources/{resource_id:str}/upload", name="portal-publisher-upload",
      sync_to_thread=True, opt={"upload": True})  # the input guard allows it upload_max_bytes
def upload_resource(page: Page, db_session: DbSession, dataset_id: FromPath[str], resource_id: FromPath[str],
                    data: UploadForm) -> Response:
    principal = page.require(*STAFF, action="portal.publisher.upload")
    dataset = _own_dataset(page, principal, dataset_id, "resource.upload")
    resource = next((r for r in dataset.resources if r.id == resource_id and r.is_tabular), None)
    if resource is None:
        raise AppError(404, "not_found", f"table {dataset_id}/{resource_id} does not exist")
    path = None
    try:
        path, fmt, filename = _stored_upload(data.get("file"), page.request.app.state["opendata"].settings.data_dir)
        report = _ingest(db_session, principal, dataset, resource, path, fmt, filename, page)
    except IngestError as exc:
        db_session.rollback()
        _audit_refused_upload(db_session, principal, dataset, resource, exc, page)
        upload = {"resource": resource_id, "errors": exc.errors, "error_count": exc.error_count,
                  "file": str(getattr(data.get("file"), "filename", ""))[:255]}
        return _edit_page(page, catalogue.get_dataset(db_session, dataset_id), upload=upload,
                          error=page.t("upload.refused", n=exc.error_count), status=400)
    except AppError as error:
        db_session.rollback()
        return _edit_page(page, catalogue.get_dataset(db_session, dataset_id), error=page.t.error(error),
                          upload={"resource": resource_id, "errors": [], "error_count": 0, "file": ""}, status=400)
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    if report.version is None:
        return page.redirect(f"/publisher/datasets/{dataset_id}?rows={report.rows}", notice="upload_unchanged")
    page.request.app.state["opendata"].mailer.wake()  # followers' e-mails, after the commit
    return page.redirect(f"/publisher/datasets/{dataset_id}?rows={report.rows}&version={report.version}",
                         notice="upload_done")


def _audit_refused_upload(session: Session, principal: Principal, dataset: Dataset, resource: Resource,
                          exc: IngestError, page: PortalPage) -> None:
    append(session, actor=principal.actor, action="resource.upload", target=f"resource:{dataset.id}/{resource.id}",
           outcome="refused", code="invalid_file",
           details={"problems": exc.error_count,
                    "first": [{"line": e.line, "column": e.column, "code": e.code} for e in exc.errors[:5]]},
           request=request_info(page.request))
    session.commit()


HANDLERS = [publisher_home, dataset_form, save_metadata, upload_resource]
