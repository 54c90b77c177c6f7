"""HTTP endpoints of the catalogue: search, dataset metadata, publishers and domains.

Metadata of every dataset, closed ones included, is public: it is how users learn what
exists and what they may apply for.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.response import Stream

from litestar.params import FromPath, FromQuery, QueryParameter

from opendata.catalogue import search, service
from opendata.catalogue.http_meta import describedby, metadata_validators
from opendata.catalogue.licences import LICENCE_BY_ID, LICENCES
from opendata.catalogue.data_api import content_disposition, export_options
from opendata.catalogue.metadata import LicenceText, full_dataset_out, licence_text, request_api_root
from opendata.catalogue.metadata_export import COLUMNS, metadata_rows
from opendata.catalogue.related import RELATED_MAX, related_datasets
from opendata.catalogue.schemas import DatasetOut, DomainOut, PublisherOut, RelatedOut, SearchResponse, related_out
from opendata.deps import AppDatabase, AppSettings, DbSession
from opendata.errors import bad_request, not_found
from opendata.formats import get_exporter
from opendata.httpconv.conditional import link_header, not_modified_response
from opendata.httpconv.middleware import CORS_OPT
from opendata.quality.schemas import QualityReportOut
from opendata.quality.service import quality_report
from opendata.stats.service import count_use

METADATA_FORMATS = ("csv", "xlsx")


class CatalogueController(Controller):
    path = "/api/v1"
    tags = ["catalogue"]
    # Public, anonymous metadata: readable by a page of any origin (opendata.httpconv).
    opt = {CORS_OPT: "open"}

    @get("/datasets", summary="Search the catalogue", sync_to_thread=True)
    def search_datasets(
        self,
        request: Request,
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
            str, QueryParameter(description="relevance | modified | created | title | id | views | downloads (most first) | rating (best average stars first)")
        ] = "relevance",
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> Response[SearchResponse]:
        query = search.SearchQuery(
            q=q, domain=domain or [], publisher=publisher or [], open_level=open_level or [],
            tag=tag or [], format=format or [], sort=sort, page=page, page_size=page_size,
        )
        search.validate(query, settings.search_page_size_max, settings.query_max_filters)
        result = search.search_datasets(db_session, query)
        headers = {}
        if result.page * result.page_size < result.total:
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
            params.append(("page", str(result.page + 1)))
            headers["Link"] = link_header([(f"{request.url.path}?{urlencode(params)}", "next", None)])
        return Response(result, headers=headers)

    @get("/datasets/{dataset_id:str}", summary="A dataset's full metadata", sync_to_thread=True)
    def dataset(
        self, request: Request, db_session: DbSession, database: AppDatabase, dataset_id: FromPath[str]
    ) -> Response[DatasetOut]:
        """Weak ETag and Last-Modified (If-None-Match / If-Modified-Since: 304); Link to
        the DCAT-AP and Data Package documents (rel="describedby")."""
        root = request_api_root(request)
        dataset = service.get_dataset(db_session, dataset_id)
        out = full_dataset_out(db_session, root, dataset)
        validators = metadata_validators(dataset, out)
        headers = {**validators.headers(), "Link": describedby(root, dataset)}
        # A revalidated copy is still a view: the client shows the dataset again.
        count_use(database.engine, dataset_id, "view")
        if validators.not_modified(request):
            return not_modified_response(validators, {"Link": headers["Link"]})  # type: ignore[return-value]
        return Response(out, headers=headers)

    @get("/datasets/{dataset_id:str}/quality", summary="A dataset's measured quality, per resource and field",
         sync_to_thread=True)
    def quality(self, db_session: DbSession, dataset_id: FromPath[str]) -> QualityReportOut:
        """Counts only (never cell values): rules and weights in docs/quality.md."""
        return quality_report(db_session, service.get_dataset(db_session, dataset_id))

    @get("/datasets/{dataset_id:str}/related", summary="Related datasets: shared tags, domain, publisher",
         sync_to_thread=True)
    def related(self, db_session: DbSession, dataset_id: FromPath[str],
                limit: Annotated[int, QueryParameter(ge=1, le=RELATED_MAX, description="how many")] = 6
                ) -> list[RelatedOut]:
        """Ranked: 3 points per shared tag, 2 for the same domain, 1 for the same
        publisher department; then the most recently updated. Metadata only."""
        dataset = service.get_dataset(db_session, dataset_id)
        return [related_out(r) for r in related_datasets(db_session, dataset, limit)]

    @get("/catalogue/export", summary="The catalogue's metadata in bulk: one row per dataset (CSV or XLSX)",
         sync_to_thread=True)
    def export_metadata(
        self, request: Request, database: AppDatabase, settings: AppSettings,
        format: Annotated[str, QueryParameter(description="csv | xlsx")] = "csv",
        domain: FromQuery[list[str] | None] = None, publisher: FromQuery[list[str] | None] = None,
        open_level: FromQuery[list[str] | None] = None, tag: FromQuery[list[str] | None] = None,
        resource_format: Annotated[list[str] | None, QueryParameter(
            description="datasets with a resource in this format")] = None,
    ) -> Stream:
        """Streamed in id order; the same facet filters as the search (no words: every
        dataset of the selection). CSV takes ``bom=1`` and ``header=titles`` for Excel."""
        if format not in METADATA_FORMATS:
            raise bad_request("unknown_format", f"format is one of {', '.join(METADATA_FORMATS)}")
        query = search.SearchQuery(domain=domain or [], publisher=publisher or [], open_level=open_level or [],
                                   tag=tag or [], format=resource_format or [])
        search.validate(query, settings.search_page_size_max, settings.query_max_filters)
        exporter = get_exporter(format)
        options = export_options(format, request, settings)
        rows = metadata_rows(database, query, str(request.base_url).rstrip("/"), request_api_root(request))
        return Stream(exporter(COLUMNS, rows, **options), media_type=exporter.media_type, headers={
            "Content-Disposition": content_disposition(exporter.filename("目录元数据"),
                                                       exporter.filename("catalogue-metadata"))})

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
