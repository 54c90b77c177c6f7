"""/api/v1/datasets/{id}/versions: a dataset's history (metadata: public, like the dataset)."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath

from opendata.access.principals import Principal, resolve
from opendata.catalogue import service as catalogue
from opendata.deps import DbSession
from opendata.versions import service
from opendata.versions.schemas import VersionOut, VersionSummaryOut, version_out, version_summary


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
