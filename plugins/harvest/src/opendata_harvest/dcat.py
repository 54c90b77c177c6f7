"""Reading DCAT catalogues (DCAT 2 / DCAT-AP 3) in JSON-LD, Turtle or RDF/XML with rdflib.

The document at the source URL is parsed, then the pages it links with Hydra
(``hydra:next``, or ``hydra:nextPage`` of older Hydra as ckanext-dcat writes it), each
on the source's host. A DCAT document states a date, not a time, of modification, so a
dataset counts as changed when its ``dct:modified`` or the digest of its record differs.

JSON-LD may name remote ``@context`` documents, which rdflib would fetch from wherever
they point: such documents are refused (inline contexts work).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from opendata.interop import dcat_vocab as v

from opendata_harvest.fetch import Fetched, Fetcher, FetchError
from opendata_harvest.remote import (
    ListedDataset, Listing, RemoteDataset, RemoteProblem, RemoteResource, one_per_table, strictest, text,
    to_date,
)

ACCEPT = "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8"
MAX_PAGES = 1000
_THEME_DOMAINS = {"TRAN": "transport", "HEAL": "health", "EDUC": "education", "ENVI": "environment",
                  "ECON": "economy", "SOCI": "social_security", "REGI": "urban", "JUST": "public_safety",
                  "AGRI": "agriculture"}
_FREQUENCIES = {code: ours for ours, (code, _) in v.FREQUENCIES.items()}
_ACCESS = {code: ours for ours, (code, _) in v.ACCESS_RIGHTS.items()}
_MEDIA = {"text/csv": "csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
          "application/json": "json", "application/pdf": "pdf", "application/zip": "zip",
          "application/geo+json": "geojson", "application/ld+json": "jsonld"}


def rdf_format(fetched: Fetched) -> str:
    media = fetched.content_type.split(";")[0].strip().lower()
    path = fetched.url.split("?")[0].lower()
    if media in ("application/ld+json", "application/json") or path.endswith((".jsonld", ".json")):
        return "json-ld"
    if media in ("text/turtle", "application/x-turtle") or path.endswith(".ttl"):
        return "turtle"
    if media in ("application/rdf+xml", "application/xml", "text/xml") or path.endswith((".rdf", ".xml")):
        return "xml"
    body = fetched.body.lstrip()[:1]
    return "json-ld" if body in (b"{", b"[") else "xml" if body == b"<" else "turtle"


def _no_remote_context(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        raise FetchError("refused_context", f"remote JSON-LD context {item[:200]!r} is not fetched; "
                                                            "inline the context")
                    _no_remote_context(item)
            else:
                _no_remote_context(value)
    elif isinstance(node, list):
        for item in node:
            _no_remote_context(item)


def parse_graph(fetched: Fetched) -> Graph:
    fmt = rdf_format(fetched)
    graph = Graph()
    try:
        if fmt == "json-ld":
            document = json.loads(fetched.body)
            _no_remote_context(document)
            graph.parse(data=json.dumps(document), format="json-ld", base=fetched.url)
        else:
            graph.parse(data=fetched.body, format=fmt, publicID=fetched.url)
    except FetchError:
        raise
    except (ValueError, RecursionError) as exc:
        raise FetchError("bad_rdf", f"{fetched.url}: not {fmt}: {str(exc)[:200]}") from None
    except Exception as exc:  # rdflib's parsers raise their own types (SAXParseException, BadSyntax, ...)
        raise FetchError("bad_rdf", f"{fetched.url}: not {fmt}: {type(exc).__name__}: {str(exc)[:200]}") from None
    return graph


def _literals(graph: Graph, subject: Node, predicate: URIRef) -> list[Literal]:
    return [o for o in graph.objects(subject, predicate) if isinstance(o, Literal)]


def _lang(graph: Graph, subject: Node, predicate: URIRef, lang: str, limit: int | None = None) -> str | None:
    values = _literals(graph, subject, predicate)
    exact = [x for x in values if (x.language or "").lower().startswith(lang)]
    if lang == "zh":
        exact = exact or [x for x in values if not x.language] or values
    return text(str(exact[0]), limit) if exact else None


def _one(graph: Graph, subject: Node, predicate: URIRef) -> Node | None:
    return next(iter(sorted(graph.objects(subject, predicate), key=str)), None)


def _code(node: Node | None) -> str | None:
    """The last segment of an IRI (…/frequency/MONTHLY → MONTHLY), or a literal's text."""
    if node is None:
        return None
    raw = str(node).rstrip("/")
    return raw.rsplit("/", 1)[-1].rsplit("#", 1)[-1] or None


def _own_term(graph: Graph, subject: Node, name: str) -> str | None:
    """A term of an opendata portal's namespace (``{api}/ns#openLevel``)."""
    for predicate, value in graph.predicate_objects(subject):
        if str(predicate).endswith(f"/ns#{name}") and isinstance(value, Literal):
            return text(str(value), 32)
    return None


def _open_level(graph: Graph, subject: Node) -> str | None:
    """The strictest level the record states, by an opendata portal's ``openLevel`` or by
    ``dct:accessRights`` (PUBLIC, RESTRICTED, NON_PUBLIC), each as often as it says it."""
    stated = [str(value) for predicate, value in graph.predicate_objects(subject)
              if str(predicate).endswith("/ns#openLevel") and isinstance(value, Literal)]
    stated += [_ACCESS.get(_code(node) or "") for node in graph.objects(subject, v.DCT.accessRights)]
    return strictest(stated)


def _format(graph: Graph, distribution: Node) -> str | None:
    media = _code(_one(graph, distribution, v.DCAT.mediaType))
    full_media = str(_one(graph, distribution, v.DCAT.mediaType) or "")
    for known, fmt in _MEDIA.items():
        if full_media.endswith(known):
            return fmt
    declared = _code(_one(graph, distribution, v.DCT["format"]))
    return (declared or media or "").lower() or None


def dataset_record(graph: Graph, subject: Node) -> RemoteDataset:
    identifier = text(str(_one(graph, subject, v.DCT.identifier) or ""), 255)
    remote_id = identifier or str(subject)
    publisher = _one(graph, subject, v.DCT.publisher)
    organisation = None
    if publisher is not None:
        org_name = _lang(graph, publisher, v.FOAF.name, "zh", 255) or _code(publisher)
        if org_name:
            org_id = _code(publisher) if isinstance(publisher, URIRef) else org_name
            organisation = (org_id or org_name, org_name, _lang(graph, publisher, v.FOAF.name, "en", 255))
    licence = _one(graph, subject, v.DCT.license)
    distributions = sorted(graph.objects(subject, v.DCAT.distribution), key=str)
    if licence is None and distributions:
        licence = _one(graph, distributions[0], v.DCT.license)
    theme = _code(_one(graph, subject, v.DCAT.theme))
    temporal = _one(graph, subject, v.DCT.temporal)
    spatial = _one(graph, subject, v.DCT.spatial)
    contact = _one(graph, subject, v.DCAT.contactPoint)
    email = _one(graph, contact, v.VCARD.hasEmail) if contact is not None else None
    resources = []
    for index, distribution in enumerate(distributions):
        url = _one(graph, distribution, v.DCAT.downloadURL) or _one(graph, distribution, v.DCAT.accessURL)
        rid = text(str(_one(graph, distribution, v.DCT.identifier) or ""), 255) or _code(distribution) \
            or f"distribution-{index + 1}"
        resources.append(RemoteResource(
            remote_id=rid, title=_lang(graph, distribution, v.DCT["title"], "zh", 255),
            title_en=_lang(graph, distribution, v.DCT["title"], "en", 255),
            description=_lang(graph, distribution, v.DCT.description, "zh"), format=_format(graph, distribution),
            url=str(url) if isinstance(url, URIRef) else None))
    landing = _one(graph, subject, v.DCAT.landingPage)
    modified = _one(graph, subject, v.DCT.modified)
    record = RemoteDataset(
        remote_id=remote_id, version=None, name=identifier or _code(subject),
        title=_lang(graph, subject, v.DCT["title"], "zh", 255), title_en=_lang(graph, subject, v.DCT["title"], "en", 255),
        description=_lang(graph, subject, v.DCT.description, "zh"),
        description_en=_lang(graph, subject, v.DCT.description, "en"),
        tags=list(dict.fromkeys(t for t in (text(str(k), 63) for k in _literals(graph, subject, v.DCAT.keyword)) if t)),
        organisation=organisation, licence=_licence_code(licence),
        open_level=_open_level(graph, subject),
        domain=_own_term(graph, subject, "domain") or _THEME_DOMAINS.get(theme or ""),
        update_frequency=_FREQUENCIES.get(_code(_one(graph, subject, v.DCT.accrualPeriodicity)) or ""),
        version_label=text(str(_one(graph, subject, v.DCAT.version) or ""), 32),
        issued=to_date(str(_one(graph, subject, v.DCT.issued) or "")), modified=to_date(str(modified or "")),
        contact=text(str(email).removeprefix("mailto:"), 255) if email is not None else None,
        spatial=_lang(graph, spatial, v.SKOS.prefLabel, "zh", 255) if spatial is not None else None,
        temporal_start=to_date(str(_one(graph, temporal, v.DCAT.startDate) or "")) if temporal is not None else None,
        temporal_end=to_date(str(_one(graph, temporal, v.DCAT.endDate) or "")) if temporal is not None else None,
        landing_page=str(landing) if isinstance(landing, URIRef) else (str(subject) if isinstance(subject, URIRef) else None),
        usage_notes=_own_term(graph, subject, "usageNotes"), resources=one_per_table(resources),
    )
    digest = hashlib.sha256(repr(record).encode()).hexdigest()[:16]
    record.version = f"{modified or ''}#{digest}"
    return record


def _licence_code(node: Node | None) -> str | None:
    if node is None:
        return None
    raw = str(node)
    known = {"creativecommons.org/licenses/by/4.0": "CC-BY-4.0", "creativecommons.org/publicdomain/zero/1.0": "CC0-1.0",
             "opendatacommons.org/licenses/odbl": "ODbL-1.0"}
    for fragment, code in known.items():
        if fragment in raw:
            return code
    if "/licence-terms/" in raw:  # an opendata portal's own terms
        return text(raw.rsplit("/licence-terms/", 1)[1].strip("/"), 63)
    return text(_code(node), 63)


def _next_pages(graph: Graph) -> Iterator[str]:
    for predicate in (v.HYDRA.next, v.HYDRA.nextPage):
        for value in graph.objects(None, predicate):
            yield str(value)


class DcatReader:
    def __init__(self, url: str, fetcher: Fetcher, *, max_datasets: int) -> None:
        self.url = url
        self.fetcher = fetcher
        self.max_datasets = max_datasets

    def listing(self) -> Listing:
        listing = Listing()
        url: str | None = self.url
        visited: set[str] = set()
        seen: set[str] = set()
        while url and url not in visited and len(visited) < MAX_PAGES:
            visited.add(url)
            try:
                graph = parse_graph(self.fetcher.get(url, accept=ACCEPT))
            except FetchError as exc:
                if len(visited) == 1:
                    raise  # nothing read: the run fails and says why
                listing.problems.append(RemoteProblem(None, f"page {url}: {exc.code}: {exc.message}"))
                return listing  # incomplete: what was read is harvested, nothing is withdrawn
            catalogue = next(graph.subjects(RDF.type, v.DCAT.Catalog), None)
            if listing.site_title is None and catalogue is not None:
                listing.site_title = _lang(graph, catalogue, v.DCT["title"], "zh", 255)
            for subject in sorted(graph.subjects(RDF.type, v.DCAT.Dataset), key=str):
                try:
                    record = dataset_record(graph, subject)
                except Exception as exc:  # a record of unexpected shape: logged, the rest goes on
                    listing.problems.append(RemoteProblem(str(subject)[:255], f"unreadable dataset: {exc}"))
                    continue
                if record.remote_id in seen:
                    continue
                seen.add(record.remote_id)
                listing.items.append(ListedDataset(record.remote_id, record.version, record))
                if len(listing.items) >= self.max_datasets:
                    listing.problems.append(RemoteProblem(None, f"stopped at max_datasets={self.max_datasets}"))
                    return listing
            url = next((u for u in _next_pages(graph) if u not in visited), None)
        listing.complete = not url
        return listing

    def detail(self, item: ListedDataset) -> RemoteDataset:
        assert item.record is not None  # the listing holds every record
        return item.record
