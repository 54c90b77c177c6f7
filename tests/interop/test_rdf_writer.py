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
