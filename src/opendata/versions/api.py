"""/api/v1/datasets/{id}/versions: a dataset's history (metadata: public, like the dataset),
downloads of kept versions (the current download's code path and guard) and roll-back."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Stream

from opendata.access.dataset_edit import may_edit
from opendata.access.principals import Principal, require_user, resolve
from opendata.audit.context import request_info
from opendata.audit.service import refuse
from opendata.catalogue import service as catalogue
from opendata.catalogue.data_api import serve_download
from opendata.deps import AppDatabase, AppSettings, DbSession
from opendata.errors import AppError
from opendata.httpconv.middleware import CORS_OPT
from opendata.versions import service
from opendata.versions.rollback import roll_back
from opendata.versions.schemas import VersionOut, VersionSummaryOut, version_out, version_summary

STAFF = ("publisher", "admin")


def optional_principal(request: Request, db_session: DbSession) -> Principal | None:
    found = resolve(request, db_session)
    return found if isinstance(found, Principal) else None


class VersionsController(Controller):
    path = "/api/v1/datasets/{dataset_id:str}/versions"
    tags = ["versions"]

    @get("/", summary="A dataset's versions, newest first", sync_to_thread=True)
    def list_versions(self, db_session: DbSession, dataset_id: FromPath[str]) -> list[VersionSummaryOut]:
        dataset = catalogue.get_dataset(db_session, dataset_id)
        return [version_summary(v) for v in service.versions_of(db_session, dataset.id)]

    @get("/{number:int}", summary="One version with its diff against the one before", sync_to_thread=True)
    def get_version(self, request: Request, db_session: DbSession, dataset_id: FromPath[str],
                    number: FromPath[int]) -> VersionOut:
        dataset = catalogue.get_dataset(db_session, dataset_id)
        version = service.get_version(db_session, dataset.id, number)
        samples = service.visible_samples(dataset, version, optional_principal(request, db_session))
        return version_out(version, samples)

    @get("/{number:int}/download", summary="Download a kept version's rows (the same guard as the current rows)",
         sync_to_thread=True, opt={CORS_OPT: "open-data"})
    def download(self, request: Request, db_session: DbSession, database: AppDatabase, settings: AppSettings,
                 dataset_id: FromPath[str], number: FromPath[int]) -> Stream:
        dataset = catalogue.get_dataset(db_session, dataset_id)
        version = service.get_version(db_session, dataset.id, number)
        return serve_download(request, db_session, database, settings, dataset.id, version.resource_id,
                              version=version)

    @post("/{number:int}/rollback", summary="Serve a kept version's rows again, as a new version (its publisher)",
          status_code=201, sync_to_thread=True)
    def rollback(self, request: Request, db_session: DbSession, settings: AppSettings, dataset_id: FromPath[str],
                 number: FromPath[int]) -> VersionOut:
        target = f"dataset:{dataset_id[:63]}"
        principal = require_user(request, db_session, action="dataset.rollback", roles=STAFF, target=target)
        dataset = catalogue.get_dataset(db_session, dataset_id)
        if not may_edit(principal, dataset):
            refuse(db_session, AppError(403, "not_your_dataset", f"dataset {dataset.id!r} belongs to "
                                        f"{dataset.publisher_id}; publishers roll back their own datasets only"),
                   actor=principal.actor, action="dataset.rollback", target=target, request=request_info(request))
        version = roll_back(db_session, dataset, number, principal.actor, request_info(request),
                            versions_kept=settings.versions_kept)
        request.app.state["opendata"].mailer.wake()  # followers' e-mails, after the commit
        return version_out(version, dict(version.samples or {}))
