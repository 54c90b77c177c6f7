"""The public-data asset register (公共数据资产登记) on the portal: the register, and each
asset's certificate as a printable page (资产凭证), both public like /api/v1/assets."""

from __future__ import annotations

import json

import jwt
from litestar import Response, get
from litestar.params import FromPath

from opendata.assets import service
from opendata.deps import AppSettings, DbSession
from opendata.extensions.crypto import default_suites
from opendata.portal.page import Page


@get("/assets", name="portal-assets", sync_to_thread=True)
def register_page(page: Page, db_session: DbSession) -> Response:
    return page.render("assets/list.html", nav="assets", assets=service.list_assets(db_session))


@get("/assets/{code:str}", name="portal-asset", sync_to_thread=True)
def certificate_page(page: Page, db_session: DbSession, settings: AppSettings, code: FromPath[str]) -> Response:
    asset = service.get_asset(db_session, code)
    issued = service.current_certificate(db_session, asset.id)
    status = service.certificate_status(db_session, issued.id)["status"] if issued else None
    document = issued.document if issued else None
    # The certificate's own algorithm (ES256, or SM2SM3 under the gmcrypto suite); a verifier
    # needs the plugin of an algorithm the core does not have (the command then says so).
    alg = jwt.get_unverified_header(document["signature"]).get("alg") if document else None
    plugins = ",".join(settings.plugins) if alg not in default_suites().signings else ""
    return page.render(
        "assets/certificate.html", nav="assets", asset=asset, document=document, alg=alg, verifier_plugins=plugins,
        payload=document["payload"] if document else None, cert_status=status, kid=issued.kid if issued else None,
        document_json=json.dumps(document, ensure_ascii=False, indent=2) if document else "",
        portal_url=str(page.request.base_url).rstrip("/"))


HANDLERS = [register_page, certificate_page]
