"""/api/v1/assets: the public register, certificates and their status; administrators
register, amend and revoke (every change audited by the service)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from opendata.access.principals import require_user
from opendata.assets import service
from opendata.assets.export import COLUMNS, FORMATS, register_rows
from opendata.assets.service import AssetInput
from opendata.assets.schemas import AssetOut, AssetRegisterIn, RevokeIn, asset_out
from opendata.audit.context import request_info
from opendata.deps import AppSettings, DbSession
from opendata.catalogue.data_api import content_disposition, export_options
from opendata.catalogue.metadata import request_api_root
from opendata.errors import AppError, bad_request
from opendata.formats import get_exporter

ADMIN = ("admin",)


class AssetsController(Controller):
    path = "/api/v1/assets"
    tags = ["assets"]

    @get("/", summary="The public-data asset register (registered assets)", sync_to_thread=True)
    def list_assets(self, db_session: DbSession) -> list[AssetOut]:
        return [asset_out(a) for a in service.list_assets(db_session)]

    @post("/", summary="Register a dataset as a public-data asset (administrators)", status_code=201,
          sync_to_thread=True)
    def register(self, request: Request, db_session: DbSession, settings: AppSettings,
                 data: JSONBody[AssetRegisterIn]) -> AssetOut:
        principal = require_user(request, db_session, action="asset.register", roles=ADMIN,
                                 target=f"dataset:{str(data.dataset)[:63]}")
        asset = service.register(db_session, settings, str(data.dataset), data.to_input(), principal.actor,
                                 request_info(request))
        db_session.commit()
        return asset_out(asset)

    @get("/export", summary="The register as a table: one row per registered asset (XLSX or CSV)",
         sync_to_thread=True)
    def export(self, request: Request, db_session: DbSession, settings: AppSettings,
               format: FromQuery[str] = "xlsx") -> Stream:
        """Public like the register itself; CSV takes ``bom=1`` and ``header=titles``."""
        if format not in FORMATS:
            raise bad_request("unknown_format", f"format is one of {', '.join(FORMATS)}")
        options = export_options(format, request, settings)
        rows = list(register_rows(db_session, request_api_root(request)))  # read before the stream starts
        exporter = get_exporter(format)
        return Stream(exporter(COLUMNS, rows, **options), media_type=exporter.media_type, headers={
            "Content-Disposition": content_disposition(exporter.filename("公共数据资产登记表"),
                                                       exporter.filename("asset-register"))})

    @get("/jwks.json", summary="Keys that verify asset certificates (JWKS)", sync_to_thread=True)
    def jwks(self, db_session: DbSession, settings: AppSettings) -> dict[str, Any]:
        return service.certificate_jwks(db_session, settings)

    @get("/certificates/{certificate_id:str}/status", summary="Whether a certificate is current or superseded",
         sync_to_thread=True)
    def certificate_status(self, db_session: DbSession, certificate_id: FromPath[str]) -> dict[str, Any]:
        return service.certificate_status(db_session, certificate_id)

    @get("/{code:str}", summary="One registered asset", sync_to_thread=True)
    def get_asset(self, db_session: DbSession, code: FromPath[str]) -> AssetOut:
        return asset_out(service.get_asset(db_session, code))

    @patch("/{code:str}", summary="Amend a registration: a new revision and certificate (administrators)",
           sync_to_thread=True)
    def amend(self, request: Request, db_session: DbSession, settings: AppSettings, code: FromPath[str],
              data: JSONBody[AssetInput]) -> AssetOut:
        principal = require_user(request, db_session, action="asset.amend", roles=ADMIN,
                                 target=f"asset:{code[:32]}")
        asset = service.amend(db_session, settings, code, data, principal.actor, request_info(request))
        db_session.commit()
        return asset_out(asset)

    @post("/{code:str}/revoke", summary="Revoke a registration (administrators)", status_code=200,
          sync_to_thread=True)
    def revoke(self, request: Request, db_session: DbSession, code: FromPath[str],
               data: JSONBody[RevokeIn]) -> AssetOut:
        principal = require_user(request, db_session, action="asset.revoke", roles=ADMIN,
                                 target=f"asset:{code[:32]}")
        asset = service.revoke(db_session, code, data.reason, principal.actor, request_info(request))
        db_session.commit()
        return asset_out(asset)

    @get("/{code:str}/certificate", summary="The asset's current certificate (资产凭证), a signed JSON document",
         sync_to_thread=True)
    def certificate(self, db_session: DbSession, code: FromPath[str]) -> dict[str, Any]:
        asset = service.get_asset(db_session, code)
        issued = service.current_certificate(db_session, asset.id)
        if issued is None:
            raise AppError(404, "not_found", f"asset {asset.code} has no certificate")
        return issued.document
