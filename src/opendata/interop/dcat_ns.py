"""Our own RDF terms, for what DCAT-AP has no word for; served at ``{api}/ns``."""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from opendata.interop.dcat_vocab import DCAT, DQV, SKOS

# term: (range, label zh, label en, comment)
TERMS = {
    "openLevel": (XSD.string, "开放属性", "open level",
                  "unconditional (无条件开放), conditional (有条件开放) or closed (不予开放); "
                  "dct:accessRights carries the EU access right it maps to."),
    "domain": (XSD.string, "数据领域", "data domain", "The domain code of the catalogue's vocabulary."),
    "sourceSystem": (RDF.langString, "来源系统", "source system",
                     "一数一源: the one system the data comes from."),
    "updateMechanism": (RDF.langString, "更新机制", "update mechanism", "How the data is kept current."),
    "qualityStandard": (XSD.string, "质量标准", "quality standard",
                        "一标准: the standard the data conforms to (also dct:conformsTo)."),
    "industryCode": (XSD.string, "行业代码", "industry code", "GB/T 4754 industry classification code."),
    "usageNotes": (RDF.langString, "使用说明", "usage notes", "What a user should know before using the data."),
    "views": (XSD.nonNegativeInteger, "浏览量", "views", "Views of the dataset's metadata, all time."),
    "downloads": (XSD.nonNegativeInteger, "下载量", "downloads", "Downloads of the dataset's files, all time."),
    "rowCount": (XSD.nonNegativeInteger, "记录数", "row count", "Rows in a tabular distribution."),
}

# dqv:Metric: (label zh, label en, definition); values are percent (xsd:double), docs/quality.md.
METRICS = {
    "qualityScore": ("质量评分", "quality score", "The weighted quality score, 0-100."),
    "completenessPercent": ("完整性", "completeness", "Non-missing cells of all cells, in percent."),
    "validityPercent": ("有效性", "validity", "Values meeting their type and constraints, in percent."),
    "uniquenessPercent": ("唯一性", "uniqueness", "Rows not repeating a declared key, in percent."),
    "consistencyPercent": ("一致性", "consistency", "Rows passing the cross-field checks and references, in percent."),
    "timelinessPercent": ("及时性", "timeliness", "100 while updated within the declared frequency, "
                                                  "falling to 0 over one more period."),
}


def vocabulary_graph(api: str) -> Graph:
    od = Namespace(f"{api}/ns#")
    graph = Graph()
    graph.bind("od", od)
    ontology = URIRef(f"{api}/ns")
    graph.add((ontology, RDF.type, OWL.Ontology))
    graph.add((ontology, RDFS.label, Literal("opendata extensions to DCAT-AP 3", lang="en")))
    for name, (range_, zh, en, comment) in TERMS.items():
        term = od[name]
        kind = OWL.DatatypeProperty
        graph.add((term, RDF.type, kind))
        graph.add((term, RDFS.label, Literal(zh, lang="zh")))
        graph.add((term, RDFS.label, Literal(en, lang="en")))
        graph.add((term, RDFS.comment, Literal(comment, lang="en")))
        graph.add((term, RDFS.range, range_))
        graph.add((term, RDFS.domain, DCAT.Distribution if name == "rowCount" else DCAT.Dataset))
    for name, (zh, en, definition) in METRICS.items():
        metric = od[name]
        graph.add((metric, RDF.type, DQV.Metric))
        graph.add((metric, RDFS.label, Literal(zh, lang="zh")))
        graph.add((metric, RDFS.label, Literal(en, lang="en")))
        graph.add((metric, SKOS.definition, Literal(definition, lang="en")))
        graph.add((metric, DQV.expectedDataType, XSD.double))
    return graph
