"""PortalPlugin: the server-rendered pages, mounted beside the API by create_app.

The portal is part of the ready-made application, not of OpenDataPlugin: a host that
embeds the API gets no pages. It shares the API plugin's database and settings, and adds
to the application:

- the page routes (one router, with HTML error pages and the CSRF check on every write),
- /static (the hand-written CSS and the one small script),
- the Jinja template engine (autoescaping on),
- a middleware that puts the Content-Security-Policy on every HTML response,
- an HTML 404 for paths that match no route (JSON stays JSON under /api).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import AsyncIterator, Iterator
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Router
from litestar.config.app import AppConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.exceptions import NotFoundException
from litestar.plugins import InitPluginProtocol
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.orm import Session

from opendata.db import Database
from opendata.localtime import zone
from opendata.plugin import OpenDataPlugin
from opendata.portal import (
    account, admin, admin_assets, admin_oversight, asset_pages, auth, compute_admin_pages, compute_pages, job_pages, dataset_page, demand_pages, enterprise, enterprise_clients,
    intersection_pages,
    feedback_pages, follow_pages, history_pages, index_page, licence_use, public, publisher, publisher_infer,
    publisher_quality, showcase_pages,
)
from opendata.portal.errors import PORTAL_EXCEPTION_HANDLERS, unrouted_not_found
from opendata.portal.page import build_page
from opendata.portal.security import SecurityHeadersMiddleware, hsts_header, require_csrf_token
from opendata.portal.template_helpers import install_helpers
from opendata.settings import Settings

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

PAGE_HANDLERS = [
    *public.HANDLERS, *dataset_page.HANDLERS, *auth.HANDLERS, *account.HANDLERS, *enterprise.HANDLERS, *enterprise_clients.HANDLERS,
    *admin.HANDLERS, *admin_oversight.HANDLERS, *publisher.HANDLERS, *publisher_infer.HANDLERS,
    *publisher_quality.HANDLERS, *index_page.HANDLERS,
    *demand_pages.HANDLERS, *history_pages.HANDLERS, *follow_pages.HANDLERS, *compute_pages.HANDLERS, *compute_admin_pages.HANDLERS, *intersection_pages.HANDLERS, *job_pages.HANDLERS,
    *licence_use.HANDLERS, *feedback_pages.HANDLERS, *asset_pages.HANDLERS, *admin_assets.HANDLERS, *showcase_pages.HANDLERS,
]


def template_engine(tz: ZoneInfo | None = None, extra_dirs: Sequence[Path] = ()) -> JinjaTemplateEngine:
    """The portal's templates; ``extra_dirs`` (plugins' pages) are searched after the core's."""
    environment = Environment(
        loader=FileSystemLoader([TEMPLATES_DIR, *extra_dirs]), autoescape=select_autoescape(default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    install_helpers(environment, tz)
    return JinjaTemplateEngine.from_environment(environment)


class PortalPlugin(InitPluginProtocol):
    """The portal's pages over the database and settings of ``api``."""

    def __init__(self, api: OpenDataPlugin) -> None:
        self.api = api

    async def _provide_session(self) -> AsyncIterator[Session]:
        async for session in self.api.database.request_session():
            yield session

    def _provide_settings(self) -> Settings:
        return self.api.settings

    def _provide_database(self) -> Database:
        return self.api.database

    def router(self) -> Router:
        return Router(
            path="/",
            route_handlers=[*PAGE_HANDLERS, *self.api.extensions.portal_handlers],
            dependencies={
                "db_session": Provide(self._provide_session),
                "settings": Provide(self._provide_settings, sync_to_thread=False),
                "database": Provide(self._provide_database, sync_to_thread=False),
                "page": Provide(build_page, sync_to_thread=True),
            },
            exception_handlers=PORTAL_EXCEPTION_HANDLERS,  # type: ignore[arg-type]
            before_request=require_csrf_token,
            include_in_schema=False,
            middleware=[self.api.input_guard()],
            request_max_body_size=self.api.max_body_bytes,
        )

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.template_config = TemplateConfig(instance=template_engine(zone(self.api.settings.timezone),
                                                                                  self.api.extensions.template_dirs))
        app_config.route_handlers.append(self.router())
        app_config.route_handlers.append(create_static_files_router(
            path="/static", directories=[STATIC_DIR], name="portal-static", include_in_schema=False,
        ))
        settings = self.api.settings
        app_config.middleware.append(DefineMiddleware(
            SecurityHeadersMiddleware, hsts=hsts_header(settings.hsts_max_age_seconds, settings.hsts_include_subdomains)))
        app_config.exception_handlers.setdefault(NotFoundException, unrouted_not_found)
        return app_config
