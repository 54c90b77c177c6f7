"""DCAT-AP 3 graphs of the catalogue, built with rdflib: one function per node type, so
that a new kind of statement (e.g. data quality, dqv) is one more function and one call.

IRIs: the catalogue is ``{api}/catalog``, a dataset ``{api}/dataset/{id}``, a resource's
distribution ``{api}/dataset/{id}/resource/{rid}``, a publisher ``{api}/organization/{pid}``.
Terms DCAT-AP has no word for (open level, 一数一源一标准, usage totals) are in our own
namespace ``{api}/ns#``, described at that address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count
from typing import Iterable, Iterator

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD
from sqlalchemy.orm import Session

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.distribution import distribution_info
from opendata.catalogue.licences import licence_for, licence_url
from opendata.catalogue.metadata import contact_point
from opendata.catalogue.models import Catalogue, Dataset, Publisher, Resource
from opendata.catalogue.schemas import effective_modified
from opendata.interop import dcat_vocab as v
from opendata.interop.dcat_vocab import (
    ADMS, DCAT, DCATAP, DCT, DQV, FOAF, HYDRA, LOCN, PROV, SKOS, SPDX, VCARD, authority,
)
from opendata.quality.models import QualityMeasurement
from opendata.quality.service import measure_dataset
from opendata.quality.score import percent
from opendata.interop.links import Links
from opendata.stats.popularity import UsageTotals

SHA256 = URIRef("http://spdx.org/rdf/terms#checksumAlgorithm_sha256")


@dataclass
class DcatContext:
    """What every builder needs: the graph, where things are, and who runs the catalogue."""

    session: Session
    links: Links
    operator: str
    # SimpleMemory: one graph, without the named-graph bookkeeping of rdflib's default store.
    graph: Graph = field(default_factory=lambda: Graph(store="SimpleMemory"))
    # Shared nodes (concepts, languages, agents, licences) described once per document.
    described: set[URIRef] = field(default_factory=set)
    _blank_nodes: Iterator[int] = field(default_factory=count)
    # The page's newest quality measurements, read in one query (quality.service).
    measurements: dict[int, QualityMeasurement] | None = None

    def blank_node(self) -> BNode:
        """A blank node numbered within this document: rdflib's default id costs a uuid4
        each, and numbered ids make the same data give the same document."""
        return BNode(f"n{next(self._blank_nodes)}")

    def first_time(self, node: URIRef) -> bool:
        """True the first time ``node`` is described in this document."""
        if node in self.described:
            return False
        self.described.add(node)
        return True

    def __post_init__(self) -> None:
        self.od = Namespace(f"{self.links.api}/ns#")
        for prefix, namespace in (("dcat", DCAT), ("dct", DCT), ("dcatap", DCATAP), ("foaf", FOAF),
                                  ("vcard", VCARD), ("spdx", SPDX), ("skos", SKOS), ("hydra", HYDRA),
                                  ("locn", LOCN), ("adms", ADMS), ("dqv", DQV), ("prov", PROV), ("od", self.od)):
            self.graph.bind(prefix, namespace)

    def add(self, subject: URIRef | BNode, predicate: URIRef, value: object, *, lang: str | None = None,
            datatype: URIRef | None = None) -> None:
        """Add a literal statement unless the value is empty."""
        if value is None or value == "":
            return
        if isinstance(value, (URIRef, BNode)):
            self.graph.add((subject, predicate, value))
        elif isinstance(value, datetime):
            self.graph.add((subject, predicate, Literal(value.replace(tzinfo=None, microsecond=0).isoformat(),
                                                        datatype=XSD.dateTime)))
        elif isinstance(value, date):
            self.graph.add((subject, predicate, Literal(value.isoformat(), datatype=XSD.date)))
        else:
            self.graph.add((subject, predicate, Literal(value, lang=lang, datatype=datatype)))

    # IRIs of our own things
    def catalogue_iri(self) -> URIRef:
        return URIRef(f"{self.links.api}/catalog")

    def dataset_iri(self, dataset_id: str) -> URIRef:
        return URIRef(f"{self.links.api}/dataset/{dataset_id}")

    def distribution_iri(self, dataset_id: str, resource_id: str) -> URIRef:
        return URIRef(f"{self.links.api}/dataset/{dataset_id}/resource/{resource_id}")

    def publisher_iri(self, publisher_id: str) -> URIRef:
        return URIRef(f"{self.links.api}/organization/{publisher_id}")


def add_concept(ctx: DcatContext, scheme: URIRef, code: str, label: str, *classes: URIRef) -> URIRef:
    """A term of a controlled vocabulary, typed and labelled so that it stands on its own."""
    concept = authority(scheme, code)
    if not ctx.first_time(concept):
        return concept
    g = ctx.graph
    g.add((concept, RDF.type, SKOS.Concept))
    for cls in classes:
        g.add((concept, RDF.type, cls))
    g.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
    g.add((concept, SKOS.inScheme, scheme))
    add_concept_scheme(ctx, scheme)
    return concept


def add_concept_scheme(ctx: DcatContext, scheme: URIRef) -> URIRef:
    if ctx.first_time(scheme):
        ctx.graph.add((scheme, RDF.type, SKOS.ConceptScheme))
        ctx.graph.add((scheme, DCT["title"], Literal(str(scheme).rsplit("/", 1)[-1], lang="en")))
    return scheme


def add_document(ctx: DcatContext, url: str) -> URIRef:
    page = URIRef(url)
    ctx.graph.add((page, RDF.type, FOAF.Document))
    return page


def add_language(ctx: DcatContext, code: str) -> URIRef:
    authority_code, label = v.LANGUAGES[code]
    language = URIRef(f"{v.AUTHORITY}language/{authority_code}")
    if not ctx.first_time(language):
        return language
    ctx.graph.add((language, RDF.type, DCT.LinguisticSystem))
    ctx.graph.add((language, SKOS.prefLabel, Literal(label, lang="en")))
    return language


def add_agent(ctx: DcatContext, iri: URIRef, name_zh: str, name_en: str | None, homepage: str | None) -> URIRef:
    if not ctx.first_time(iri):
        return iri
    g = ctx.graph
    g.add((iri, RDF.type, FOAF.Agent))
    g.add((iri, RDF.type, FOAF.Organization))
    ctx.add(iri, FOAF.name, name_zh, lang="zh")
    ctx.add(iri, FOAF.name, name_en, lang="en")
    g.add((iri, DCT.type, add_concept(ctx, v.PUBLISHER_TYPE_SCHEME, "LocalAuthority", "Local Authority")))
    if homepage:
        g.add((iri, FOAF.homepage, add_document(ctx, homepage)))
    return iri


def add_publisher(ctx: DcatContext, publisher: Publisher) -> URIRef:
    return add_agent(ctx, ctx.publisher_iri(publisher.id), publisher.name_zh, publisher.name_en, publisher.website)


def add_contact_point(ctx: DcatContext, dataset: Dataset) -> BNode:
    contact = contact_point(dataset)
    node = ctx.blank_node()
    ctx.graph.add((node, RDF.type, VCARD.Kind))
    ctx.graph.add((node, RDF.type, VCARD.Organization))
    ctx.add(node, VCARD.fn, contact.name, lang="zh")
    if contact.telephone:
        ctx.graph.add((node, VCARD.hasTelephone, URIRef(f"tel:{contact.telephone}")))
    if contact.email:
        ctx.graph.add((node, VCARD.hasEmail, URIRef(f"mailto:{contact.email}")))
    if contact.url:
        ctx.graph.add((node, VCARD.hasURL, URIRef(contact.url)))
    return node


def add_licence(ctx: DcatContext, code: str) -> URIRef:
    licence = licence_for(code)
    iri = URIRef(licence_url(licence, ctx.links.api))
    g = ctx.graph
    if (iri, RDF.type, DCT.LicenseDocument) not in g:
        g.add((iri, RDF.type, DCT.LicenseDocument))
        ctx.add(iri, DCT["title"], licence.title_zh, lang="zh")
        ctx.add(iri, DCT["title"], licence.title_en, lang="en")
        kind = ("Attribution", "Attribution") if licence.open else ("RestrictedAccess", "Restricted access")
        g.add((iri, DCT.type, add_concept(ctx, v.LICENCE_TYPE_SCHEME, *kind)))
    return iri


def add_location(ctx: DcatContext, text: str | None) -> URIRef | BNode | None:
    if not text:
        return None
    place = next((p for name, p in v.PLACES.items() if name in text), None)
    node: URIRef | BNode = URIRef(place[0]) if place else ctx.blank_node()
    ctx.graph.add((node, RDF.type, DCT.Location))
    ctx.add(node, SKOS.prefLabel, text, lang="zh")
    if place:
        ctx.add(node, SKOS.prefLabel, place[1], lang="en")
        ctx.add(node, DCAT.bbox, place[2], datatype=v.GSP.wktLiteral)
        ctx.add(node, DCAT.centroid, place[3], datatype=v.GSP.wktLiteral)
    return node


def add_period(ctx: DcatContext, start: date | None, end: date | None) -> BNode | None:
    if start is None and end is None:
        return None
    node = ctx.blank_node()
    ctx.graph.add((node, RDF.type, DCT.PeriodOfTime))
    ctx.add(node, DCAT.startDate, start)
    ctx.add(node, DCAT.endDate, end)
    return node


def add_checksum(ctx: DcatContext, sha256: str) -> BNode:
    node = ctx.blank_node()
    ctx.graph.add((node, RDF.type, SPDX.Checksum))
    ctx.graph.add((node, SPDX.algorithm, SHA256))
    ctx.graph.add((SHA256, RDF.type, SPDX.ChecksumAlgorithm))
    ctx.graph.add((node, SPDX.checksumValue, Literal(sha256, datatype=XSD.hexBinary)))
    return node


def add_media_type(ctx: DcatContext, media_type: str) -> URIRef:
    iri = URIRef(v.IANA_MEDIA_TYPES + media_type)
    ctx.graph.add((iri, RDF.type, DCT.MediaType))
    ctx.graph.add((iri, RDF.type, DCT.MediaTypeOrExtent))
    return iri


def add_file_type(ctx: DcatContext, fmt: str, file_type: tuple[str, str] | None = None) -> URIRef:
    """``file_type``: a plugin format's own (code, label) of the EU file-type authority."""
    code, label = file_type or v.FILE_TYPES.get(fmt, ("BIN", "Binary Data"))
    iri = URIRef(f"{v.AUTHORITY}file-type/{code}")
    ctx.graph.add((iri, RDF.type, DCT.MediaTypeOrExtent))
    ctx.add(iri, SKOS.prefLabel, label, lang="en")
    return iri


def add_distribution(ctx: DcatContext, dataset: Dataset, resource: Resource, service: URIRef | None) -> URIRef:
    info = distribution_info(ctx.session, ctx.links.api, dataset, resource)
    iri = ctx.distribution_iri(dataset.id, resource.id)
    g = ctx.graph
    g.add((iri, RDF.type, DCAT.Distribution))
    ctx.add(iri, DCT.identifier, f"{dataset.id}.{resource.id}")
    ctx.add(iri, DCT["title"], resource.title_zh, lang="zh")
    ctx.add(iri, DCT["title"], resource.title_en, lang="en")
    ctx.add(iri, DCT.description, resource.description_zh or resource.title_zh, lang="zh")
    ctx.add(iri, DCT.description, resource.description_en, lang="en")
    g.add((iri, DCAT.accessURL, URIRef(info.access_url)))
    if info.download_url:
        g.add((iri, DCAT.downloadURL, URIRef(info.download_url)))
    g.add((iri, DCAT.mediaType, add_media_type(ctx, info.media_type)))
    g.add((iri, DCT["format"], add_file_type(ctx, info.format)))
    if info.byte_size is not None:
        ctx.add(iri, DCAT.byteSize, info.byte_size, datatype=XSD.nonNegativeInteger)
    if info.sha256:
        g.add((iri, SPDX.checksum, add_checksum(ctx, info.sha256)))
    g.add((iri, DCT.license, add_licence(ctx, dataset.licence)))
    g.add((iri, DCATAP.availability, add_concept(ctx, v.AVAILABILITY_SCHEME, "STABLE", "stable")))
    ctx.add(iri, DCT.modified, resource.ingested_at)
    ctx.add(iri, ctx.od.rowCount, resource.row_count, datatype=XSD.nonNegativeInteger)
    if service is not None and info.download_url:
        g.add((iri, DCAT.accessService, service))
    return iri



def add_extensions(ctx: DcatContext, iri: URIRef, dataset: Dataset, usage: UsageTotals) -> None:
    """Our own terms: the open level (开放属性), 一数一源一标准 (the one responsible
    department is dct:publisher; the one source system, update mechanism and standard
    are here), the industry code and the usage totals."""
    od = ctx.od
    ctx.add(iri, od.openLevel, dataset.open_level)
    ctx.add(iri, od.domain, dataset.domain)
    ctx.add(iri, od.sourceSystem, dataset.source_system, lang="zh")
    ctx.add(iri, od.updateMechanism, dataset.update_mechanism, lang="zh")
    ctx.add(iri, od.qualityStandard, dataset.quality_standard)
    ctx.add(iri, od.industryCode, dataset.industry_code)
    ctx.add(iri, od.usageNotes, dataset.usage_notes, lang="zh")
    ctx.add(iri, od.views, usage.views, datatype=XSD.nonNegativeInteger)
    ctx.add(iri, od.downloads, usage.downloads, datatype=XSD.nonNegativeInteger)
    # Plugins' metadata extensions: od:<extension>_<key> (docs/plugins.md).
    for name, values in sorted((dataset.extensions or {}).items()):
        for key, value in sorted(values.items()):
            ctx.add(iri, od[f"{name}_{key}"], value if isinstance(value, (str, int, float, bool)) else str(value))


def add_quality(ctx: DcatContext, iri: URIRef, dataset: Dataset) -> None:
    """The measured score and its components as dqv:QualityMeasurements of the dataset,
    each of a metric of our vocabulary (``{api}/ns#qualityScore`` …, docs/quality.md)."""
    quality = measure_dataset(ctx.session, dataset, latest=ctx.measurements)
    if quality.score is None:
        return
    values = {"qualityScore": quality.score,
              **{f"{name}Percent": percent(share) for name, share in quality.shares.items()}}
    measured_at = max(m.measured_at for m in quality.measurements)
    for metric, value in values.items():
        if value is None:
            continue
        node = ctx.blank_node()
        ctx.graph.add((iri, DQV.hasQualityMeasurement, node))
        ctx.graph.add((node, RDF.type, DQV.QualityMeasurement))
        ctx.graph.add((node, DQV.computedOn, iri))
        ctx.graph.add((node, DQV.isMeasurementOf, ctx.od[metric]))
        ctx.add(node, DQV.value, float(value), datatype=XSD.double)
        ctx.add(node, PROV.generatedAtTime, measured_at)
        ctx.graph.add((ctx.od[metric], RDF.type, DQV.Metric))
        ctx.graph.add((ctx.od[metric], DQV.expectedDataType, XSD.double))


def add_standard(ctx: DcatContext, title: str) -> BNode:
    node = ctx.blank_node()
    ctx.graph.add((node, RDF.type, DCT.Standard))
    ctx.add(node, DCT["title"], title)
    return node


def add_dataset(ctx: DcatContext, dataset: Dataset, usage: UsageTotals | None = None,
                service: URIRef | None = None) -> URIRef:
    iri = ctx.dataset_iri(dataset.id)
    g = ctx.graph
    g.add((iri, RDF.type, DCAT.Dataset))
    ctx.add(iri, DCT.identifier, dataset.id)
    ctx.add(iri, DCT["title"], dataset.title_zh, lang="zh")
    ctx.add(iri, DCT["title"], dataset.title_en, lang="en")
    ctx.add(iri, DCT.description, dataset.description_zh, lang="zh")
    ctx.add(iri, DCT.description, dataset.description_en, lang="en")
    for tag in dataset.tag_names:
        ctx.add(iri, DCAT.keyword, tag)
    theme = v.THEMES.get(dataset.domain)
    if theme:
        g.add((iri, DCAT.theme, add_concept(ctx, v.THEME_SCHEME, *theme)))
    g.add((iri, DCT.publisher, add_publisher(ctx, dataset.publisher)))
    g.add((iri, DCAT.contactPoint, add_contact_point(ctx, dataset)))
    frequency = v.FREQUENCIES.get(dataset.update_frequency)
    if frequency:
        g.add((iri, DCT.accrualPeriodicity, add_concept(ctx, v.FREQUENCY_SCHEME, *frequency, DCT.Frequency)))
    access = v.ACCESS_RIGHTS[dataset.open_level]
    g.add((iri, DCT.accessRights, add_concept(ctx, v.ACCESS_RIGHT_SCHEME, *access, DCT.RightsStatement)))
    for node, predicate in ((add_location(ctx, dataset.spatial_coverage), DCT.spatial),
                            (add_period(ctx, dataset.temporal_start, dataset.temporal_end), DCT.temporal)):
        if node is not None:
            g.add((iri, predicate, node))
    ctx.add(iri, DCT.issued, dataset.issued)
    ctx.add(iri, DCT.modified, effective_modified(dataset) or dataset.updated_at)
    ctx.add(iri, DCAT.version, dataset.version)
    g.add((iri, DCT.language, add_language(ctx, "zh")))
    if dataset.title_en or dataset.description_en:
        g.add((iri, DCT.language, add_language(ctx, "en")))
    g.add((iri, DCAT.landingPage, add_document(ctx, ctx.links.landing_page(dataset.id))))
    if dataset.quality_standard:
        g.add((iri, DCT.conformsTo, add_standard(ctx, dataset.quality_standard)))
    from opendata.interop.dcat_formats import add_alternatives  # it builds on this module's nodes

    for resource in dataset.resources:
        g.add((iri, DCAT.distribution, add_distribution(ctx, dataset, resource, service)))
        for alternative in add_alternatives(ctx, dataset, resource, service):
            g.add((iri, DCAT.distribution, alternative))
    add_extensions(ctx, iri, dataset, usage or UsageTotals())
    add_quality(ctx, iri, dataset)
    return iri


def add_data_service(ctx: DcatContext, key: str, title_zh: str, title_en: str, endpoint: str,
                     description: str, conforms_to: str, datasets: Iterable[URIRef],
                     themes: Iterable[URIRef]) -> URIRef:
    iri = URIRef(f"{ctx.links.api}/service/{key}")
    g = ctx.graph
    g.add((iri, RDF.type, DCAT.DataService))
    ctx.add(iri, DCT["title"], title_zh, lang="zh")
    ctx.add(iri, DCT["title"], title_en, lang="en")
    g.add((iri, DCAT.endpointURL, URIRef(endpoint)))
    g.add((iri, DCAT.endpointDescription, URIRef(description)))
    g.add((iri, DCT.conformsTo, URIRef(conforms_to)))
    g.add((URIRef(conforms_to), RDF.type, DCT.Standard))
    g.add((iri, DCT.publisher, add_operator(ctx)))
    g.add((iri, DCAT.contactPoint, add_operator_contact(ctx)))
    ctx.add(iri, DCAT.keyword, "open data")
    ctx.add(iri, DCAT.keyword, "开放数据")
    for theme in themes:
        g.add((iri, DCAT.theme, theme))
    for dataset in datasets:
        g.add((iri, DCAT.servesDataset, dataset))
    return iri


def add_operator(ctx: DcatContext) -> URIRef:
    return add_agent(ctx, URIRef(f"{ctx.links.api}/organization/_operator"), ctx.operator, None, ctx.links.site)


def add_operator_contact(ctx: DcatContext) -> BNode:
    node = ctx.blank_node()
    ctx.graph.add((node, RDF.type, VCARD.Kind))
    ctx.add(node, VCARD.fn, ctx.operator, lang="zh")
    ctx.graph.add((node, VCARD.hasURL, URIRef(ctx.links.site + "/")))
    return node


def add_catalogue(ctx: DcatContext, catalogue: Catalogue | None, datasets: list[URIRef],
                  services: list[URIRef], spatial: str | None = "广州市") -> URIRef:
    iri = ctx.catalogue_iri()
    g = ctx.graph
    g.add((iri, RDF.type, DCAT.Catalog))
    ctx.add(iri, DCT["title"], catalogue.title_zh if catalogue else ctx.operator, lang="zh")
    ctx.add(iri, DCT["title"], catalogue.title_en if catalogue else None, lang="en")
    ctx.add(iri, DCT.description, (catalogue.description_zh if catalogue else None) or
            (catalogue.title_zh if catalogue else ctx.operator), lang="zh")
    ctx.add(iri, DCT.description, catalogue.description_en if catalogue else None, lang="en")
    g.add((iri, DCT.publisher, add_operator(ctx)))
    g.add((iri, DCT.language, add_language(ctx, "zh")))
    g.add((iri, DCT.license, add_licence(ctx, "gz-open-data-1.0")))
    g.add((iri, FOAF.homepage, add_document(ctx, ctx.links.site + "/")))
    g.add((iri, DCAT.themeTaxonomy, add_concept_scheme(ctx, v.THEME_SCHEME)))
    location = add_location(ctx, spatial)
    if location is not None:
        g.add((iri, DCT.spatial, location))
    if catalogue is not None:
        ctx.add(iri, DCT.issued, catalogue.loaded_at)
        ctx.add(iri, DCT.modified, catalogue.loaded_at)
    for dataset in datasets:
        g.add((iri, DCAT.dataset, dataset))
    for service in services:
        g.add((iri, DCAT.service, service))
    return iri

