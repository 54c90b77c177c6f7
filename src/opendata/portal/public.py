"""The pages anyone may see: the home page and the catalogue search with facets."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request, Response, get

from opendata.catalogue import search, service
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.schemas import FacetValue, SearchResponse
from opendata.deps import AppSettings, DbSession
from opendata.errors import AppError
from opendata.numbers import ascii_digits
from opendata.portal import figures
from opendata.portal.page import Page, PortalPage, url_with

PAGE_SIZE = 10
FACET_ORDER = ("domain", "open_level", "publisher", "format", "tag")
LIST_PARAMETERS = ("domain", "publisher", "open_level", "tag", "format")
SORT_CHOICES = ("relevance", "modified", "created", "title", "rating")
PAGER_WINDOW = 2


@get("/", name="portal-home", sync_to_thread=True)
def home(page: Page, db_session: DbSession) -> Response:
    return page.render(
        "home.html",
        nav="home",
        headline=figures.headline(db_session),
        domains=[d for d in service.list_domains(db_session) if d.dataset_count],
        publishers=sorted(service.list_publishers(db_session), key=lambda p: (-p.dataset_count, p.id)),
        newest=figures.newest(db_session),
        most_downloaded=figures.most_downloaded(db_session),
    )


@dataclass
class FacetLink:
    """One clickable facet value: its label, count, whether chosen, and where it leads."""

    value: str
    label: str
    count: int
    selected: bool
    url: str


def _facet_label(page: PortalPage, name: str, facet: FacetValue) -> str:
    if name == "domain":
        return page.t.domain(facet.value)
    if name == "open_level":
        return page.t.open_level(facet.value)
    if name == "publisher":
        return page.t.pick(facet.label_zh, facet.label_en) or facet.value
    if name == "format":
        return facet.value.upper()
    return facet.value


def _chosen(query: search.SearchQuery, name: str) -> list[str]:
    values: list[str] = getattr(query, name)
    if name == "domain":
        # A domain may be asked for by its Chinese name (?domain=交通): compare by code.
        return [term.code if (term := vocab.resolve_domain(v)) else v for v in values]
    return values


def facet_links(page: PortalPage, query: search.SearchQuery, result: SearchResponse) -> dict[str, list[FacetLink]]:
    params = [(k, v) for k, v in page.params() if k != "page"]
    links: dict[str, list[FacetLink]] = {}
    for name in FACET_ORDER:
        chosen = _chosen(query, name)
        entries = []
        for facet in result.facets.get(name, []):
            selected = facet.value in chosen
            if name == "tag" and not selected and not page.t.in_language(facet.value):
                continue  # tags in the other language: the page offers its own language's words
            values = [v for v in chosen if v != facet.value] if selected else [*chosen, facet.value]
            entries.append(FacetLink(facet.value, _facet_label(page, name, facet), facet.count, selected,
                                     url_with("/datasets", params, **{name: values})))
        links[name] = entries
    return links


def pager(page_number: int, total: int, page_size: int) -> list[int]:
    last = max(1, -(-total // page_size))
    shown = {1, last, *range(max(1, page_number - PAGER_WINDOW), min(last, page_number + PAGER_WINDOW) + 1)}
    return sorted(shown)


def query_from(request: Request) -> search.SearchQuery:
    """The search the query string asks for; bad values are left for validate() to refuse
    with a message (a page number that is not a number becomes 0, which it refuses)."""
    raw_page = request.query_params.get("page", "1")
    lists = {name: [v for v in request.query_params.getall(name, []) if v] for name in LIST_PARAMETERS}
    return search.SearchQuery(q=request.query_params.get("q", "").strip(),
                              sort=request.query_params.get("sort", "relevance"),
                              page=ascii_digits(raw_page, 9) or 0, page_size=PAGE_SIZE, **lists)


@get("/datasets", name="portal-search", sync_to_thread=True)
def search_page(page: Page, db_session: DbSession, settings: AppSettings) -> Response:
    query = query_from(page.request)
    error = None
    try:
        search.validate(query, settings.search_page_size_max, settings.query_max_filters)
        result = search.search_datasets(db_session, query)
    except AppError as exc:
        error = page.t.error(exc)
        result = SearchResponse(items=[], total=0, page=1, page_size=PAGE_SIZE, facets={})
    base = [(k, v) for k, v in page.params() if k != "page"]
    sort_links = [(s, url_with("/datasets", base, sort=s)) for s in SORT_CHOICES]
    return page.render(
        "search.html",
        status=400 if error else 200,
        nav="datasets",
        query=query,
        error=error,
        result=result,
        facets=facet_links(page, query, result) if not error else {},
        sort_links=sort_links,
        pages=pager(result.page, result.total, PAGE_SIZE),
        last_page=max(1, -(-result.total // PAGE_SIZE)),
        page_url=lambda n: url_with("/datasets", base, page=n),
        chosen_count=sum(len(getattr(query, n)) for n in LIST_PARAMETERS),
        clear_url=url_with("/datasets", [("q", query.q)] if query.q else []),
        did_you_mean_url=url_with("/datasets", base, q=result.did_you_mean)
        if result.did_you_mean else None,
        metadata_exports=metadata_export_links(query),
    )


def metadata_export_links(query: search.SearchQuery) -> dict[str, str]:
    """The catalogue metadata download (API: /api/v1/catalogue/export) for this page's
    facet filters; the export takes no search words."""
    facets = [(name, value) for name in ("domain", "publisher", "open_level", "tag") for value in getattr(query, name)]
    facets += [("resource_format", value) for value in query.format]
    return {
        "csv": url_with("/api/v1/catalogue/export", [("format", "csv"), ("bom", "1"), ("header", "titles"), *facets]),
        "xlsx": url_with("/api/v1/catalogue/export", [("format", "xlsx"), *facets]),
    }


HANDLERS = [home, search_page]
