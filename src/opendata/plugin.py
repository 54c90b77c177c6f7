"""OpenDataPlugin: mounts the opendata API into any Litestar application."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Iterator

import asyncio
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.exceptions import MethodNotAllowedException
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPluginProtocol
from sqlalchemy.orm import Session

from opendata import localtime
from opendata.access import cookies
from opendata.access.routes import ACCESS_HANDLERS
from opendata.assets.api import AssetsController
from opendata.catalogue.api import CatalogueController
from opendata.catalogue.data_api import DataController
from opendata.catalogue.infer_api import InferController
from opendata.compute.api import COMPUTE_HANDLERS
from opendata.compute.runtime import ComputeRuntime, ComputeSettings
from opendata import spool
from opendata.db import Database
from opendata.errors import EXCEPTION_HANDLERS
from opendata.extensions import Registry, dispatch, load_plugins
from opendata.extensions.crypto import suites_for
from opendata.feedback.api import FeedbackController
from opendata import httpconv, openapi_doc
from opendata.interop.routes import INTEROP_HANDLERS
from opendata.input_guard import API_EXCEPTION_HANDLERS, BodyBudget, InputGuardMiddleware
from opendata.sdk_api import SDK_HANDLERS
from opendata.settings import Settings
from opendata.showcase.api import ShowcaseController
from opendata.search.api import SynonymsController
from opendata.search.index import index_unindexed_datasets
from opendata.stats.api import StatsController
from opendata.subscriptions.api import SUBSCRIPTION_HANDLERS
from opendata.subscriptions.mailer import Mailer
from opendata.versions.api import VersionsController
from opendata.audit import keyfiles as audit_keyfiles
from opendata.audit.checkpoints import Checkpointer
from opendata.audit.keyfiles import KeyMaterial
from opendata.audit.service import check_head as audit_check_head

logger = logging.getLogger("opendata")


def handler_threads(settings: Settings) -> int:
    """How many threads run sync handlers: never more than the connections they can use
    (each may hold two at once: its session, and a usage-counting transaction after it)."""
    return max(2, settings.db_pool_size // 2)


class OpenDataPlugin(InitPluginProtocol):
    """Adds the opendata API under ``path_prefix`` and prepares its database at startup.

    >>> app = Litestar(route_handlers=[...], plugins=[OpenDataPlugin(Settings(), path_prefix="/data")])
    """

    def __init__(self, settings: Settings | None = None, *, path_prefix: str | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        prefix = self.settings.api_prefix if path_prefix is None else path_prefix
        localtime.zone(self.settings.timezone)  # an unknown zone stops start-up, named
        self.path_prefix = "/" + prefix.strip("/") if prefix.strip("/") else "/"
        # The enabled plugins' additions (docs/plugins.md); a broken or unknown plugin
        # raises PluginError here, one line naming it, before anything else is built.
        self.extensions: Registry = load_plugins(self.settings.plugins)
        dispatch.install()  # event hooks fire after the commits of the work they report
        self.database = Database(self.settings.resolved_database_url, echo=False,
                                 pool_size=self.settings.db_pool_size,
                                 pool_timeout=self.settings.db_pool_timeout_seconds,
                                 timezone=self.settings.timezone, extensions=self.extensions,
                                 usage_flush_seconds=self.settings.usage_flush_seconds)
        # The audit key, checkpoint key and KEK of this deployment (files read on first use).
        # With them, the crypto suites: the selected one signs, hashes and wraps; all verify.
        crypto = suites_for(self.settings, self.extensions.crypto_suites)  # UnknownSuite: one line
        self.audit_keys = audit_keyfiles.configure(self.database.url, KeyMaterial.from_settings(self.settings, crypto))
        self.checkpointer: Checkpointer | None = None
        # Request bodies held in memory by this process at once (opendata.input_guard).
        self.body_budget = BodyBudget(self.settings.bodies_in_flight_max_bytes)
        # Sends the outbox (followers' e-mails) while the application runs.
        self.mailer = Mailer(self.database, self.settings)
        # Lazy: no worker process or obfuscator pool exists until the first computation.
        self.compute = ComputeRuntime(ComputeSettings.from_env())

    def route_handlers(self) -> list:
        return [CatalogueController, SynonymsController, DataController, StatsController, *ACCESS_HANDLERS,
                *COMPUTE_HANDLERS, *INTEROP_HANDLERS, InferController, AssetsController, *SDK_HANDLERS,
                VersionsController, *SUBSCRIPTION_HANDLERS, FeedbackController, ShowcaseController,
                *self.extensions.api_handlers]

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        router = Router(
            path=self.path_prefix,
            route_handlers=self.route_handlers(),
            dependencies={
                "db_session": Provide(self._provide_session),
                "settings": Provide(self._provide_settings, sync_to_thread=False),
                "database": Provide(self._provide_database, sync_to_thread=False),
            },
            exception_handlers={**EXCEPTION_HANDLERS, **API_EXCEPTION_HANDLERS},  # type: ignore[arg-type]
            middleware=[self.input_guard()],
            request_max_body_size=self.max_body_bytes,
        )
        app_config.route_handlers.append(router)
        # Routing answers 405 before any router's handlers apply: it needs an app-level one.
        app_config.exception_handlers.setdefault(MethodNotAllowedException, httpconv.method_not_allowed)
        app_config.lifespan.append(self.lifespan)
        app_config.state["opendata"] = self
        return app_config

    def input_guard(self) -> DefineMiddleware:
        """Body size, JSON depth, NUL and id-range checks (opendata.input_guard)."""
        return DefineMiddleware(InputGuardMiddleware, plugin=self)

    @property
    def max_body_bytes(self) -> int:
        # The guard applies the per-route limit; Litestar's own cap must not be lower.
        return max(self.settings.upload_max_bytes, self.settings.request_body_max_bytes)

    async def _provide_session(self) -> AsyncIterator[Session]:
        async for session in self.database.request_session():
            yield session

    def _provide_settings(self) -> Settings:
        return self.settings

    def _provide_database(self) -> Database:
        return self.database

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        # HEAD, CORS and compression sit in front of the router (opendata.httpconv); the
        # application object exists only now, so they are put in place here, once.
        httpconv.install(app)
        self.correct_openapi(app)
        # Sync handlers run in the loop's default executor (else min(32, cores + 4) threads,
        # more than the pool's connections: threads would wait for connections while holding
        # a worker slot), admitted by anyio's default limiter.
        if self.settings.manage_handler_threads:
            threads = handler_threads(self.settings)
            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(max_workers=threads, thread_name_prefix="opendata-handler"))
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        else:
            logger.info("manage_handler_threads is off: the host sizes the executor and anyio's limiter "
                        "(at most %s threads for db_pool_size=%s)", handler_threads(self.settings),
                        self.settings.db_pool_size)
        await anyio.to_thread.run_sync(self.prepare)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(self.compute.close)  # joins workers and pool threads
            await anyio.to_thread.run_sync(self.mailer.stop)
            if self.checkpointer is not None:
                await anyio.to_thread.run_sync(self._stop_checkpoints)
            self.database.dispose()
            # Uploads whose requests the shutdown cancelled before they cleaned up.
            spool.sweep(self.settings.data_dir, own=True)

    def correct_openapi(self, app: Litestar) -> None:
        """Fix the generated OpenAPI document where it lies (opendata.openapi_doc): in
        place, in the plugin's cache, so that /schema/openapi.json and the docs serve it."""
        from litestar._openapi.plugin import OpenAPIPlugin  # no public accessor in Litestar 2

        try:
            openapi = app.plugins.get(OpenAPIPlugin)
        except KeyError:
            return  # the host application has no OpenAPI document
        prefix = "" if self.path_prefix == "/" else self.path_prefix
        document = openapi_doc.correct(openapi.provide_openapi_schema(), prefix,
                                       formats={name: e.media_type for name, e in self.extensions.exporters.items()})
        openapi_doc.apply_security(document, openapi_doc.security_by_operation(app), prefix)

    def prepare(self) -> None:
        """Migrate the schema and load the configured catalogues that changed.

        All of it under the database's start-up lock, so that processes starting at once
        on a fresh database neither race on the schema nor load the same catalogue twice:
        the first does the work, the others wait and find nothing left to do."""
        from opendata.catalogue.commands import load_catalogues_if_changed
        from opendata.catalogue.staging import sweep_staging

        if warning := cookies.startup_warning(self.settings):
            logger.warning(warning)
        for path in spool.sweep(self.settings.data_dir):
            logger.info("removed %s, left by a process that stopped during an upload", path.name)
        with self.database.startup_lock():
            self.database.migrate()
            with self.database.session() as session:
                audit_check_head(session)  # the audit key and crypto suites fit the chain
            for name in sweep_staging(self.database.engine):
                logger.info("dropped %s, left by a load that did not finish", name)
            index_unindexed_datasets(self.database)
            if self.settings.load_catalogues_on_startup and self.settings.catalogues:
                for line in load_catalogues_if_changed(self.database, self.settings):
                    logger.info(line)
            self._prepare_keys()
            self._recover_jobs()
        self.mailer.start()
        # Heartbeats of this process's jobs, lost jobs of others, expired results (compute/jobs).
        self.compute.jobs.start_ticker(self.database)

    def _recover_jobs(self) -> None:
        """Jobs whose process died (this host's, or silent for job_stale_seconds) are failed."""
        from opendata.compute.jobs.state import fail_lost

        with self.database.session() as session:
            lost = fail_lost(session, self.compute.settings.job_stale_seconds, dead_here=True)
            session.commit()
        for job_id in lost:
            logger.info("job %s failed: the process running it stopped", job_id)

    def _prepare_keys(self) -> None:
        """Seal signing keys left in the clear, sign a checkpoint of the chain as it is at
        start (pinning its legacy records after an upgrade), and start the checkpointer."""
        from opendata.access.keys import seal_stored_keys

        with self.database.session() as session:
            if sealed := seal_stored_keys(session):
                logger.info("sealed %d token signing key(s) under the key-encryption key (%s)", sealed,
                            self.audit_keys.crypto.selected.wrapping.scheme)
            session.commit()
        self.checkpointer = Checkpointer(self.database, self.audit_keys)
        self.checkpointer.run_once()
        self.checkpointer.start()

    def _stop_checkpoints(self) -> None:
        assert self.checkpointer is not None
        self.checkpointer.stop()
        self.checkpointer.run_once()  # the records since the last one
        self.checkpointer = None
