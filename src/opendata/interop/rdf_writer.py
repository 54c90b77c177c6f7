"""Turtle and JSON-LD of an rdflib graph, written in one pass over its triples.

rdflib's own serializers cost more than building the graph: for a DCAT catalogue page of
50 datasets (~4,400 triples) its Turtle writer spent ~150 ms of CPU, most of it computing
prefixed names triple by triple, and its JSON-LD writer ~65 ms, which put a page's first
rendering over the 200 ms target (benchmarks/README.md, interop.py). These writers keep
the graph (the documents are still built, and read back in the tests, with rdflib) and
write the same triples flat: one block per subject in the order the builders added them,
blank nodes labelled by first appearance, a prefixed name wherever a bound namespace and a
plain local name allow it, a full IRI otherwise.

IRIs come partly from publishers (contact and home pages): a character Turtle cannot hold
in ``<…>`` is percent-encoded, where rdflib's writer refused the whole document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import orjson
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

# A local name that is valid in both Turtle (PN_LOCAL) and a JSON-LD compact IRI, kept
# deliberately narrow: anything else is written as a full IRI.
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
# Characters IRIREF excludes (and controls, space): percent-encoded.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_TO_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


class _Names:
    """Prefixed names of the graph's bound namespaces, longest namespace first."""

    def __init__(self, namespaces: Iterable[tuple[str, str]]) -> None:
        bound = sorted(((prefix, str(ns)) for prefix, ns in namespaces if prefix), key=lambda p: -len(p[1]))
        self._namespaces = [(prefix, ns) for prefix, ns in bound if ns.endswith(("#", "/"))]
        self._cache: dict[str, tuple[str, str, str] | None] = {}
        self.used: dict[str, str] = {}

    def split(self, iri: str) -> tuple[str, str] | None:
        """(prefix, local name) of ``iri``, or None if no bound namespace fits."""
        try:
            found = self._cache[iri]
        except KeyError:
            found = self._cache[iri] = next(
                ((prefix, iri[len(ns):], ns) for prefix, ns in self._namespaces
                 if iri.startswith(ns) and _LOCAL.match(iri, len(ns))), None)
        if found is None:
            return None
        self.used[found[0]] = found[2]
        return found[0], found[1]

    def compact(self, iri: str) -> str:
        found = self.split(iri)
        return f"{found[0]}:{found[1]}" if found else iri


def _subjects(graph: Graph) -> Iterator[tuple[URIRef | BNode, list[tuple[URIRef, object]]]]:
    """Each subject once with its (predicate, object) pairs, types first, in the order the
    triples were added (rdflib's memory stores keep it)."""
    by_subject: dict[object, list[tuple[URIRef, object]]] = {}
    for s, p, o in graph:
        by_subject.setdefault(s, []).append((p, o))  # type: ignore[arg-type]
    for subject, pairs in by_subject.items():
        pairs.sort(key=lambda pair: pair[0] != RDF.type)  # stable: types first, the rest as added
        yield subject, pairs  # type: ignore[misc]


class _BlankLabels(dict):  # type: ignore[type-arg]
    """``b0``, ``b1``… by first appearance: whatever rdflib's own labels were."""

    def __missing__(self, node: BNode) -> str:
        label = self[node] = f"b{len(self)}"
        return label


def safe_iri(iri: str) -> str:
    return _NOT_IN_IRI.sub(lambda m: "%{:02X}".format(ord(m.group(0))), iri)


def _quoted(text: str) -> str:
    return '"' + _TO_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(0)) or "\\u%04X" % ord(m.group(0)), text) + '"'


def turtle(graph: Graph) -> bytes:
    names, blanks = _Names(graph.namespaces()), _BlankLabels()

    def term(node: object) -> str:
        if isinstance(node, BNode):
            return "_:" + blanks[node]
        if isinstance(node, Literal):
            text = _quoted(str(node))
            if node.language:
                return f"{text}@{node.language}"
            if node.datatype is not None and node.datatype != XSD.string:
                return f"{text}^^{term(URIRef(node.datatype))}"
            return text
        found = names.split(str(node))
        return f"{found[0]}:{found[1]}" if found else f"<{node_iri(str(node))}>"

    blocks = []
    for subject, pairs in _subjects(graph):
        lines, previous = [], None
        for predicate, value in pairs:
            if predicate == previous:
                lines[-1] += ", " + term(value)
            else:
                lines.append(("a" if predicate == RDF.type else term(predicate)) + " " + term(value))
            previous = predicate
        blocks.append(term(subject) + " " + " ;\n    ".join(lines) + " .\n")
    header = "".join(f"@prefix {prefix}: <{safe_iri(ns)}> .\n" for prefix, ns in sorted(names.used.items()))
    return (header + "\n" + "\n".join(blocks)).encode("utf-8")


def node_iri(iri: str) -> str:
    """A node IRI as both writers state it: unsafe characters percent-encoded (Turtle
    cannot hold them; a JSON-LD reader drops such an IRI, and the node's triples with it),
    and a relative reference that would read as a blank node or a keyword in JSON-LD (a
    publisher's website "_:b0" was merged into the graph's first blank node) written in
    the "./" form RFC 3986 gives a first segment with a colon, which readers resolve alike."""
    iri = safe_iri(iri)
    return "./" + iri if iri.startswith(("_:", "@")) else iri


def jsonld(graph: Graph) -> bytes:
    """Flattened JSON-LD: ``@context`` of the prefixes used, ``@graph`` of node objects.
    Properties, types and datatypes are compact IRIs; node identifiers are written in full.
    A prefix that is also the scheme of a node IRI is not used: a reader would expand that
    IRI as a compact one (a website "dct:x" read as http://purl.org/dc/terms/x)."""
    schemes = {match.group(1) for node in graph.all_nodes()
               if isinstance(node, URIRef) and (match := _SCHEME.match(node))}
    names = _Names((prefix, ns) for prefix, ns in graph.namespaces() if prefix not in schemes)
    blanks = _BlankLabels()

    def identifier(node: object) -> str:
        return "_:" + blanks[node] if isinstance(node, BNode) else node_iri(str(node))

    def value(node: object) -> dict[str, str] | str:
        if not isinstance(node, Literal):
            return {"@id": identifier(node)}
        if node.language:
            return {"@value": str(node), "@language": node.language}
        if node.datatype is not None and node.datatype != XSD.string:
            return {"@value": str(node), "@type": names.compact(str(node.datatype))}
        return str(node)  # a JSON string is an xsd:string literal

    nodes = []
    for subject, pairs in _subjects(graph):
        described: dict[str, object] = {"@id": identifier(subject)}
        for predicate, obj in pairs:
            if predicate == RDF.type:
                described.setdefault("@type", []).append(names.compact(str(obj)))  # type: ignore[union-attr]
            else:
                described.setdefault(names.compact(str(predicate)), []).append(value(obj))  # type: ignore[union-attr]
        nodes.append({key: found[0] if isinstance(found, list) and len(found) == 1 else found
                      for key, found in described.items()})
    document = {"@context": dict(sorted(names.used.items())), "@graph": nodes}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)
