"""opendata.interop.rdf_writer: whatever text and IRIs a publisher's metadata holds, the
Turtle and JSON-LD it writes read back with rdflib as the same graph."""

from __future__ import annotations

import json

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD

from opendata.interop.rdf_writer import jsonld, safe_iri, turtle

DCT = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
EX = Namespace("http://example.org/ns#")


def awkward_graph() -> Graph:
    g = Graph(store="SimpleMemory")
    g.bind("dct", DCT)
    g.bind("dcat", DCAT)
    dataset = URIRef("http://example.org/dataset/a-1")
    contact = BNode()
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCT.title, Literal('引号 "双" \\ 反斜杠\n换行\r\t制表 \x01 end', lang="zh")))
    g.add((dataset, DCT.title, Literal("Plain title", lang="en")))
    g.add((dataset, DCT.identifier, Literal("a-1")))
    g.add((dataset, DCT.description, Literal("""three \"\"\" quotes and a ' quote""")))
    g.add((dataset, DCAT.byteSize, Literal(12345, datatype=XSD.nonNegativeInteger)))
    g.add((dataset, DCT.issued, Literal("2024-01-02", datatype=XSD.date)))
    g.add((dataset, DCAT.contactPoint, contact))
    g.add((contact, RDF.type, URIRef("http://www.w3.org/2006/vcard/ns#Kind")))
    # Not compactable: a local name with a dot, an unbound namespace, a local name starting with a digit.
    g.add((dataset, URIRef("http://purl.org/dc/terms/x.y"), Literal("dotted")))
    g.add((dataset, EX.unbound, URIRef("http://example.org/other/9")))
    g.add((dataset, DCT.conformsTo, URIRef("http://purl.org/dc/terms/9lives")))
    return g


def test_turtle_and_json_ld_read_back_as_the_same_graph() -> None:
    g = awkward_graph()
    assert isomorphic(Graph().parse(data=turtle(g), format="turtle"), g)
    assert isomorphic(Graph().parse(data=jsonld(g), format="json-ld"), g)


def test_iris_turtle_cannot_hold_are_percent_encoded() -> None:
    g = Graph(store="SimpleMemory")
    g.add((URIRef("http://example.org/d"), DCAT.landingPage, URIRef('http://example.org/a b<c>"d{e}|^`\\')))
    back = Graph().parse(data=turtle(g), format="turtle")
    assert set(back.objects(None, DCAT.landingPage)) == {URIRef("http://example.org/a%20b%3Cc%3E%22d%7Be%7D%7C%5E%60%5C")}
    assert safe_iri("http://example.org/ok?x=1#y") == "http://example.org/ok?x=1#y"


def test_only_used_prefixes_are_declared_and_blank_nodes_are_relabelled() -> None:
    g = awkward_graph()
    g.bind("unused", Namespace("http://unused.example/"))
    text = turtle(g).decode()
    assert "@prefix unused:" not in text and "@prefix dct: <http://purl.org/dc/terms/> ." in text
    assert "_:b0" in text
    document = json.loads(jsonld(g))
    assert set(document["@context"]) == {"dcat", "dct", "xsd"}
    assert turtle(g) == turtle(g) and jsonld(g) == jsonld(g)  # the same graph, the same bytes


def test_hostile_websites_state_the_same_graph_in_turtle_and_json_ld(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    """Through the DCAT door: a catalogue's publisher websites are free text (and a harvested
    source's are the remote's). JSON-LD stated them as they were, so a reader dropped the
    one with a space (and the contact's URL with it), merged "_:b0" into a blank node and
    expanded "dct:x" as a compact IRI; Turtle and JSON-LD now read back as one graph."""
    from litestar.testing import TestClient

    from opendata import create_app
    from tests.factories import manifest, write_catalogue

    raw = manifest()
    websites = {"gz-transport": 'https://x.example/a b>"c', "gz-hrss": "_:b0"}
    for publisher in raw["publishers"]:
        publisher["website"] = websites[publisher["id"]]
    raw["publishers"].append({"id": "odd", "name_zh": "怪", "name_en": "Odd", "website": "dct:x"})
    raw["datasets"][-1]["publisher"] = "odd"  # personal-si-base; si-headcount stays gz-hrss's
    folder = write_catalogue(tmp_path / "hostile", raw)
    base = "http://base.example/"
    app = create_app(settings.replace(catalogues=(folder,), load_catalogues_on_startup=True))
    with TestClient(app) as client:
        graphs = {}
        for extension, fmt in (("ttl", "turtle"), ("jsonld", "json-ld")):
            response = client.get("/catalog." + extension, params={"page_size": 99})
            assert response.status_code == 200, response.text
            read = Graph().parse(data=response.content, format=fmt, publicID=base)
            graphs[fmt] = Graph()  # a page's Hydra links name its own serialisation
            for triple in read:
                graphs[fmt].add(tuple(URIRef(str(n).replace(f"/catalog.{extension}?", "/catalog.PAGE?"))
                                      if isinstance(n, URIRef) else n for n in triple))  # type: ignore[arg-type]
    homepages = {str(o) for o in graphs["turtle"].objects(None, URIRef("http://xmlns.com/foaf/0.1/homepage"))}
    assert {"https://x.example/a%20b%3E%22c", base + "_:b0", "dct:x"} <= homepages
    assert len(graphs["json-ld"]) == len(graphs["turtle"]) and isomorphic(graphs["json-ld"], graphs["turtle"])
