"""HTTP endpoints of the catalogue: search, dataset metadata, publishers and domains.

Metadata of every dataset, closed ones included, is public: it is how users learn what
exists and what they may apply for.
"""

from __future__ import annotations

from litestar import Controller, Request, get
from typing import Annotated

from litestar.params import FromPath, FromQuery, QueryParameter

from opendata.catalogue import search, service
from opendata.catalogue.licences import LICENCE_BY_ID, LICENCES
from opendata.catalogue.metadata import LicenceText, full_dataset_out, licence_text, request_api_root
from opendata.catalogue.schemas import DatasetOut, DomainOut, PublisherOut, SearchResponse
from opendata.deps import AppDatabase, AppSettings, DbSession
from opendata.errors import not_found
from opendata.stats.service import count_use


class CatalogueController(Controller):
    path = "/api/v1"
    tags = ["catalogue"]

    @get("/datasets", summary="Search the catalogue", sync_to_thread=True)
    def search_datasets(
        self,
        db_session: DbSession,
        settings: AppSettings,
        q: Annotated[str, QueryParameter(description="Words to find; Chinese substrings work")] = "",
        domain: Annotated[list[str] | None, QueryParameter(description="Domain code or 中文 name")] = None,
        publisher: FromQuery[list[str] | None] = None,
        open_level: Annotated[
            list[str] | None, QueryParameter(description="unconditional | conditional | closed")
        ] = None,
        tag: FromQuery[list[str] | None] = None,
        format: FromQuery[list[str] | None] = None,
        sort: Annotated[
            str, QueryParameter(description="relevance | modified | created | title | id | views | downloads (most first)")
        ] = "relevance",
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> SearchResponse:
        query = search.SearchQuery(
            q=q, domain=domain or [], publisher=publisher or [], open_level=open_level or [],
            tag=tag or [], format=format or [], sort=sort, page=page, page_size=page_size,
        )
        search.validate(query, settings.search_page_size_max, settings.query_max_filters)
        return search.search_datasets(db_session, query)

    @get("/datasets/{dataset_id:str}", summary="A dataset's full metadata", sync_to_thread=True)
    def dataset(
        self, request: Request, db_session: DbSession, database: AppDatabase, dataset_id: FromPath[str]
    ) -> DatasetOut:
        dataset = full_dataset_out(db_session, request_api_root(request), service.get_dataset(db_session, dataset_id))
        count_use(database.engine, dataset_id, "view")
        return dataset

    @get("/publishers", summary="Publisher departments with dataset counts", sync_to_thread=True)
    def publishers(self, db_session: DbSession) -> list[PublisherOut]:
        return service.list_publishers(db_session)

    @get("/domains", summary="Data domains with dataset counts", sync_to_thread=True)
    def domains(self, db_session: DbSession) -> list[DomainOut]:
        return service.list_domains(db_session)

    @get("/licence-terms", summary="The licences datasets are published under", sync_to_thread=False)
    def licences(self, request: Request) -> list[LicenceText]:
        return [licence_text(licence, request_api_root(request)) for licence in LICENCES]

    @get("/licence-terms/{licence_id:str}", summary="One licence: title, URL and terms", sync_to_thread=False)
    def licence(self, request: Request, licence_id: FromPath[str]) -> LicenceText:
        licence = LICENCE_BY_ID.get(licence_id)
        if licence is None:
            raise not_found("licence", licence_id)
        return licence_text(licence, request_api_root(request))
