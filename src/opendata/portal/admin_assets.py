"""The asset register's administration on the portal (公共数据资产登记): register a
dataset, amend a registration, revoke one. The same service as POST/PATCH /api/v1/assets
(every change audited there, each issuing a new certificate); revoking needs a reason
and a ticked confirmation, like every consequential admin action."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from litestar import Response, get, post
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.assets import service
from opendata.assets.models import COMPLIANCE_STATUSES, DataAsset
from opendata.assets.service import LONG_TEXT_MAX, TEXT_MAX, AssetInput
from opendata.audit.context import request_info
from opendata.catalogue.models import Dataset
from opendata.deps import AppSettings, DbSession
from opendata.errors import AppError
from opendata.portal import forms
from opendata.portal.forms import FormData
from opendata.portal.page import Page, PortalPage
from opendata.portal.paging import paged

ADMINS = ("admin",)
TEXT_FIELDS = ("holder_department", "source_system", "responsible_department", "update_mechanism",
               "quality_standard", "compliance_reviewer")
LONG_FIELDS = ("value_assessment", "compliance_notes")
# The registration form suggests this many unregistered datasets (any id may be typed): a
# portal of many thousands of datasets must not render them all into the page.
SUGGESTED_DATASETS = 200


def _asset_input(data: Mapping[str, Any]) -> AssetInput:
    """The form as the service's input. An empty box is None, as an omitted key in the
    API: the dataset's value (or none) on registration, the current one on amendment (the
    amendment form shows the current values). The uses are one per line."""
    values: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, *LONG_FIELDS):
        values[name] = forms.text(data, name, LONG_TEXT_MAX if name in LONG_FIELDS else TEXT_MAX) or None
    uses = forms.text(data, "permitted_uses", 20 * (TEXT_MAX + 1))
    values["permitted_uses"] = [line.strip() for line in uses.splitlines() if line.strip()] if uses else None
    status = forms.text(data, "compliance_status", 16)
    if status and status not in COMPLIANCE_STATUSES:
        raise forms.FormError("invalid_field", f"compliance_status is one of {', '.join(COMPLIANCE_STATUSES)}")
    values["compliance_status"] = status or None
    values["compliance_date"] = forms.date_value(data, "compliance_date", required=False)
    return AssetInput(**values)


def _unregistered(session: Session) -> list[Dataset]:
    registered = select(DataAsset.dataset_id)
    return list(session.scalars(select(Dataset).where(Dataset.id.not_in(registered)).order_by(Dataset.id)
                                .limit(SUGGESTED_DATASETS)))


def _assets_page(page: PortalPage, *, error: str | None = None, failed: str | None = None,
                 form: Mapping[str, Any] | None = None, status: int = 200) -> Response:
    session = page.session
    return page.render("admin/assets.html", status=status, nav="admin", error=error, failed=failed,
                       listed=paged(page, session, select(DataAsset).order_by(DataAsset.id), path="/admin/assets"),
                       datasets=_unregistered(session),
                       statuses=COMPLIANCE_STATUSES, form={k: forms.echo(form or {}, k, 4000) for k in (
                           "dataset", *TEXT_FIELDS, *LONG_FIELDS, "permitted_uses", "compliance_status",
                           "compliance_date")})


@get("/admin/assets", name="portal-admin-assets", sync_to_thread=True)
def assets_page(page: Page) -> Response:
    page.require(*ADMINS, action="portal.admin.assets")
    return _assets_page(page)


def _change(page: PortalPage, session: Session, failed: str, data: Mapping[str, Any],
            change: Callable[[], DataAsset], done: Callable[[DataAsset], Response]) -> Response:
    """Run ``change``, commit, and answer ``done(asset)``; an error re-shows the admin page
    (the form as submitted, the failed one open) and nothing is written."""
    try:
        asset = change()
        session.commit()
    except AppError as error:
        session.rollback()
        return _assets_page(page, error=page.t.error(error), failed=failed, form=data,
                            status=error.status if error.status != 404 else 400)
    return done(asset)


@post("/admin/assets", name="portal-admin-register-asset", sync_to_thread=True)
def register_asset(page: Page, db_session: DbSession, settings: AppSettings, data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.register_asset")

    def register() -> DataAsset:
        dataset = forms.text(data, "dataset", 63)
        if not dataset:
            raise forms.FormError("missing_field", "choose the dataset to register")
        return service.register(db_session, settings, dataset, _asset_input(data),
                                principal.actor, request_info(page.request))

    return _change(page, db_session, "register", data, register,
                   lambda asset: page.redirect(f"/assets/{asset.code}", notice="asset_registered"))


@post("/admin/assets/{code:str}/amend", name="portal-admin-amend-asset", sync_to_thread=True)
def amend_asset(page: Page, db_session: DbSession, settings: AppSettings, code: FromPath[str],
                data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.amend_asset")

    def amend() -> DataAsset:
        return service.amend(db_session, settings, code, _asset_input(data), principal.actor,
                             request_info(page.request))

    return _change(page, db_session, f"amend:{code}", data, amend,
                   lambda asset: page.redirect(f"/assets/{asset.code}", notice="asset_amended"))


@post("/admin/assets/{code:str}/revoke", name="portal-admin-revoke-asset", sync_to_thread=True)
def revoke_asset(page: Page, db_session: DbSession, code: FromPath[str], data: FormData) -> Response:
    principal = page.require(*ADMINS, action="portal.admin.revoke_asset")

    def revoke() -> DataAsset:
        reason = forms.confirmed_reason(data, "revoke this registration")
        return service.revoke(db_session, code, reason, principal.actor, request_info(page.request))

    return _change(page, db_session, f"revoke:{code}", {}, revoke,
                   lambda asset: page.redirect("/admin/assets", notice="asset_revoked"))


HANDLERS = [assets_page, register_asset, amend_asset, revoke_asset]
