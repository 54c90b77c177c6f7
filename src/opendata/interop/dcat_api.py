"""DCAT-AP 3 endpoints: the catalogue in pages (Hydra), one dataset, in JSON-LD, Turtle
or RDF/XML; ``/dataset/{id}`` negotiates; ``/ns`` describes our extension terms."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue import service
from opendata.catalogue.models import Catalogue, Dataset, Resource
from opendata.deps import AppSettings, DbSession
from opendata.errors import bad_request
from opendata.interop import dcat_vocab as v, rdf_writer
from opendata.interop.dcat import DcatContext, add_catalogue, add_concept, add_data_service, add_dataset
from opendata.interop.dcat_ns import vocabulary_graph
from opendata.interop.epoch import catalogue_epoch
from opendata.interop.links import Links, request_links
from opendata.quality.service import latest_measurements_of
from opendata.stats.popularity import usage_totals
from opendata.httpconv.conditional import link_header
from opendata.httpconv.middleware import CORS_OPT

FORMATS = {"jsonld": ("json-ld", "application/ld+json"), "ttl": ("turtle", "text/turtle"),
           "rdf": ("xml", "application/rdf+xml")}
ACCEPT = (("text/turtle", "ttl"), ("application/ld+json", "jsonld"), ("application/rdf+xml", "rdf"))
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def serialize(ctx: DcatContext, extension: str) -> Response[bytes]:
    return Response(serialized(ctx, extension), media_type=FORMATS[extension][1],
                    headers={"Cache-Control": "public, max-age=60"})


def serialized(ctx: DcatContext, extension: str) -> bytes:
    """Turtle and JSON-LD by our one-pass writers (rdflib's cost a page more than its
    build, opendata.interop.rdf_writer); RDF/XML by rdflib's."""
    if extension == "jsonld":
        return rdf_writer.jsonld(ctx.graph)
    if extension == "ttl":
        return rdf_writer.turtle(ctx.graph)
    return ctx.graph.serialize(format=FORMATS[extension][0]).encode("utf-8")


def data_services(ctx: DcatContext, datasets: list[URIRef], themes: list[URIRef]) -> list[URIRef]:
    api = ctx.links.api
    return [
        add_data_service(ctx, "rest", "开放数据接口 /api/v1", "Open data REST API /api/v1", f"{api}/api/v1",
                         f"{api}/schema/openapi.json", "https://spec.openapis.org/oas/v3.1.0", datasets, themes),
        add_data_service(ctx, "ckan", "CKAN 兼容接口", "CKAN-compatible Action API", f"{api}/api/3/action/",
                         "https://docs.ckan.org/en/2.10/api/", "https://docs.ckan.org/en/2.10/api/",
                         datasets, themes),
    ]


def _themes(ctx: DcatContext, datasets: list[Dataset]) -> list[URIRef]:
    codes = dict.fromkeys(v.THEMES[d.domain] for d in datasets if d.domain in v.THEMES)
    return [add_concept(ctx, v.THEME_SCHEME, *theme) for theme in codes]


def _loaded(session: Session, stmt) -> list[Dataset]:  # type: ignore[no-untyped-def]
    return list(session.scalars(stmt.options(
        selectinload(Dataset.publisher), selectinload(Dataset.tags),
        selectinload(Dataset.resources).selectinload(Resource.fields))))


def catalogue_page(session: Session, links: Links, operator: str, page: int, page_size: int,
                   page_url: str) -> DcatContext:
    """One page of the catalogue: the Catalog, its datasets of this page, its services."""
    total = session.scalar(select(func.count()).select_from(Dataset)) or 0
    datasets = _loaded(session, select(Dataset).order_by(Dataset.id).limit(page_size).offset((page - 1) * page_size))
    usage = usage_totals(session, [d.id for d in datasets])
    ctx = DcatContext(session, links, operator, measurements=latest_measurements_of(session, datasets))
    service_iri = URIRef(f"{links.api}/service/rest")
    dataset_iris = [add_dataset(ctx, d, usage.get(d.id), service_iri) for d in datasets]
    services = data_services(ctx, dataset_iris, _themes(ctx, datasets))
    catalogue = session.scalars(select(Catalogue).order_by(Catalogue.id)).first()
    iri = add_catalogue(ctx, catalogue, dataset_iris, services)
    add_paging(ctx, iri, page_url, page, page_size, total)
    return ctx


def add_paging(ctx: DcatContext, catalogue: URIRef, page_url: str, page: int, page_size: int, total: int) -> None:
    """Hydra: the catalogue's totalItems and a PartialCollectionView with its neighbours."""
    def at(number: int) -> URIRef:
        return URIRef(f"{page_url}?{urlencode({'page': number, 'page_size': page_size})}")
    last = max(1, -(-total // page_size))
    view = at(page)
    g = ctx.graph
    g.add((catalogue, v.HYDRA.totalItems, Literal(total, datatype=XSD.nonNegativeInteger)))
    g.add((catalogue, v.HYDRA.view, view))
    g.add((view, RDF.type, v.HYDRA.PartialCollectionView))
    g.add((view, v.HYDRA.first, at(1)))
    g.add((view, v.HYDRA.last, at(last)))
    if page > 1:
        g.add((view, v.HYDRA.previous, at(page - 1)))
    if page < last:
        g.add((view, v.HYDRA.next, at(page + 1)))


def dataset_document(session: Session, links: Links, operator: str, dataset: Dataset) -> DcatContext:
    ctx = DcatContext(session, links, operator)
    service_iri = URIRef(f"{links.api}/service/rest")
    iri = add_dataset(ctx, dataset, usage_totals(session, [dataset.id]).get(dataset.id), service_iri)
    data_services(ctx, [iri], _themes(ctx, [dataset]))
    return ctx


def _catalogue(request: Request, session: Session, settings, extension: str, page: int, page_size: int):  # type: ignore[no-untyped-def]
    if page < 1:
        raise bad_request("invalid_page", "page starts at 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise bad_request("invalid_page_size", f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    links = request_links(request)
    key = (*catalogue_epoch(session), extension, page, page_size, links.api,
           links.dcat(None, extension), settings.catalogue_operator)
    cached = _pages.get(key)
    if cached is None:
        ctx = catalogue_page(session, links, settings.catalogue_operator, page, page_size,
                             links.dcat(None, extension))
        following = next(ctx.graph.objects(None, v.HYDRA.next), None)
        cached = _pages.put(key, serialized(ctx, extension), str(following) if following is not None else None)
    body, following = cached
    response = Response(body, media_type=FORMATS[extension][1], headers={"Cache-Control": "public, max-age=60"})
    if following is not None:  # the Hydra paging, also as an RFC 8288 header
        response.headers["Link"] = link_header([(following, "next", None)])
    return response


class _PageCache:
    """Rendered catalogue pages, per process, for at most PAGE_CACHE_SECONDS (the time the
    response already tells clients and proxies to keep it) and only while the catalogue's
    metadata and rows are unchanged (the key holds the search index generation, which every
    dataset write moves, and the newest dataset version). rdflib costs ~0.2 ms per triple:
    a page of 50 datasets (~2,900 triples) took 430–540 ms to build and serialize, so
    harvesters paging through the catalogue and their retries no longer rebuild it each time.

    Bounded by count and by bytes: anyone can ask for pages of 500 datasets (megabytes of
    Turtle at a national catalogue's size) under many page numbers and Host names."""

    def __init__(self, size: int = 256, max_bytes: int = 64 << 20) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[float, tuple[bytes, str | None]]] = {}
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0

    def get(self, key: tuple) -> tuple[bytes, str | None] | None:
        with self._lock:
            found = self._entries.get(key)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def put(self, key: tuple, body: bytes, following: str | None) -> tuple[bytes, str | None]:
        if len(body) > self._max_bytes // 4:
            return body, following  # served, not kept: it would crowd out every other page
        with self._lock:
            if len(self._entries) >= self._size or self._bytes + len(body) > self._max_bytes:
                self._entries.clear()
                self._bytes = 0
            previous = self._entries.get(key)
            self._bytes += len(body) - (len(previous[1][0]) if previous is not None else 0)
            self._entries[key] = (time.monotonic() + PAGE_CACHE_SECONDS, (body, following))
        return body, following

    def __len__(self) -> int:
        return len(self._entries)


PAGE_CACHE_SECONDS = 60
_pages = _PageCache()


@get("/catalog.jsonld", summary="DCAT-AP 3 catalogue (JSON-LD), paged", tags=["dcat"],
     opt={CORS_OPT: "open"}, sync_to_thread=True)
def catalogue_jsonld(request: Request, db_session: DbSession, settings: AppSettings,
                     page: FromQuery[int] = 1, page_size: FromQuery[int] = DEFAULT_PAGE_SIZE) -> Response[bytes]:
    return _catalogue(request, db_session, settings, "jsonld", page, page_size)


@get("/catalog.ttl", summary="DCAT-AP 3 catalogue (Turtle), paged", tags=["dcat"],
     opt={CORS_OPT: "open"}, sync_to_thread=True)
def catalogue_turtle(request: Request, db_session: DbSession, settings: AppSettings,
                     page: FromQuery[int] = 1, page_size: FromQuery[int] = DEFAULT_PAGE_SIZE) -> Response[bytes]:
    return _catalogue(request, db_session, settings, "ttl", page, page_size)


@get("/catalog.rdf", summary="DCAT-AP 3 catalogue (RDF/XML), paged", tags=["dcat"],
     opt={CORS_OPT: "open"}, sync_to_thread=True)
def catalogue_rdfxml(request: Request, db_session: DbSession, settings: AppSettings,
                     page: FromQuery[int] = 1, page_size: FromQuery[int] = DEFAULT_PAGE_SIZE) -> Response[bytes]:
    return _catalogue(request, db_session, settings, "rdf", page, page_size)


@get("/dataset/{name:str}", summary="One dataset in DCAT-AP 3: {id}.jsonld, {id}.ttl or {id}.rdf",
     tags=["dcat"], opt={CORS_OPT: "open"}, sync_to_thread=True)
def dataset_dcat(request: Request, db_session: DbSession, settings: AppSettings,
                 name: FromPath[str]) -> Response[bytes] | Redirect:
    dataset_id, dot, extension = name.rpartition(".")
    links = request_links(request)
    if not dot or extension not in FORMATS:
        # The dataset's IRI itself: 303 to a representation the client accepts.
        accept = request.headers.get("accept", "")
        chosen = next((ext for media, ext in ACCEPT if media in accept), None)
        service.get_dataset(db_session, name)  # 404 for a dataset that does not exist
        target = links.dcat(name, chosen) if chosen else links.landing_page(name)
        return Redirect(target, status_code=303)
    dataset = service.get_dataset(db_session, dataset_id)
    return serialize(dataset_document(db_session, links, settings.catalogue_operator, dataset), extension)


@get("/ns", summary="The opendata RDF vocabulary (our DCAT extension terms), Turtle", tags=["dcat"],
     opt={CORS_OPT: "open"},
     sync_to_thread=False)
def namespace_document(request: Request) -> Response[bytes]:
    graph: Graph = vocabulary_graph(request_links(request).api)
    return Response(graph.serialize(format="turtle").encode(), media_type="text/turtle")


DCAT_HANDLERS = [catalogue_jsonld, catalogue_turtle, catalogue_rdfxml, dataset_dcat, namespace_document]
