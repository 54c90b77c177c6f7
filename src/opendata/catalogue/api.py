"""HTTP endpoints of the catalogue: search, dataset metadata, publishers and domains.

Metadata of every dataset, closed ones included, is public: it is how users learn what
exists and what they may apply for.
"""

from __future__ import annotations

from litestar import Controller, get
from typing import Annotated

from litestar.params import FromPath, FromQuery, QueryParameter

from opendata.catalogue import search, service
from opendata.catalogue.schemas import DatasetOut, DomainOut, PublisherOut, SearchResponse, dataset_out
from opendata.deps import AppDatabase, AppSettings, DbSession
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
            str, QueryParameter(description="relevance | modified | created | title | id")
        ] = "relevance",
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> SearchResponse:
        query = search.SearchQuery(
            q=q, domain=domain or [], publisher=publisher or [], open_level=open_level or [],
            tag=tag or [], format=format or [], sort=sort, page=page, page_size=page_size,
        )
        search.validate(query, settings.search_page_size_max)
        return search.search_datasets(db_session, query)

    @get("/datasets/{dataset_id:str}", summary="A dataset's full metadata", sync_to_thread=True)
    def dataset(self, db_session: DbSession, database: AppDatabase, dataset_id: FromPath[str]) -> DatasetOut:
        dataset = dataset_out(service.get_dataset(db_session, dataset_id))
        count_use(database.engine, dataset_id, "view")
        return dataset

    @get("/publishers", summary="Publisher departments with dataset counts", sync_to_thread=True)
    def publishers(self, db_session: DbSession) -> list[PublisherOut]:
        return service.list_publishers(db_session)

    @get("/domains", summary="Data domains with dataset counts", sync_to_thread=True)
    def domains(self, db_session: DbSession) -> list[DomainOut]:
        return service.list_domains(db_session)
