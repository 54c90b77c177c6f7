"""DCAT distributions of a resource's other download formats (catalogue.offered_formats).

The canonical CSV is a resource's first distribution (opendata.interop.dcat); each other
format that can write the resource (the core's XLSX, JSON, NDJSON; enabled plugins') is
one more ``dcat:Distribution`` of the same rows, masks and licence, IRI
``<distribution>.<format>``, without size or checksum.
"""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import RDF

from opendata.catalogue.distribution import distribution_info
from opendata.catalogue.models import Dataset, Resource
from opendata.interop.dcat import DcatContext, add_file_type, add_licence, add_media_type
from opendata.interop.dcat_vocab import DCAT, DCT


def add_alternatives(ctx: DcatContext, dataset: Dataset, resource: Resource, service: URIRef | None) -> list[URIRef]:
    """One more distribution per other format offered (the same rows, masks and
    licence; no size or checksum: only the canonical CSV has them)."""
    info = distribution_info(ctx.session, ctx.links.api, dataset, resource)
    made = []
    for alt in info.alternatives:
        iri = URIRef(f"{ctx.distribution_iri(dataset.id, resource.id)}.{alt.format}")
        g = ctx.graph
        g.add((iri, RDF.type, DCAT.Distribution))
        ctx.add(iri, DCT.identifier, f"{dataset.id}.{resource.id}.{alt.format}")
        ctx.add(iri, DCT["title"], f"{resource.title_zh}（{alt.format.upper()}）", lang="zh")
        ctx.add(iri, DCT["title"], f"{resource.title_en} ({alt.format.upper()})" if resource.title_en else None,
                lang="en")
        g.add((iri, DCAT.accessURL, URIRef(info.access_url)))
        g.add((iri, DCAT.downloadURL, URIRef(alt.download_url)))
        g.add((iri, DCAT.mediaType, add_media_type(ctx, alt.media_type)))
        g.add((iri, DCT["format"], add_file_type(ctx, alt.format, alt.file_type)))
        g.add((iri, DCT.license, add_licence(ctx, dataset.licence)))
        ctx.add(iri, DCT.modified, resource.ingested_at)
        if service is not None:
            g.add((iri, DCAT.accessService, service))
        made.append(iri)
    return made
