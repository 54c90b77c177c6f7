"""DCAT-AP 3 output of the demo catalogue, validated by pyshacl against the official
DCAT-AP 3.0.0 SHACL shapes, and read back with rdflib in all three serialisations."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from opendata import create_app
from opendata.interop.dcat_vocab import DCAT, DCT, HYDRA, SPDX
from opendata.settings import Settings, demo_catalogue_path
from tests.serving import running_server

SHAPES = Path(__file__).parent / "data" / "dcat-ap-SHACL.ttl"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("dcat")
    settings = Settings(data_dir=tmp, catalogues=(demo_catalogue_path(),), secure_cookies=False)
    with running_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield http


def _graph(http: httpx.Client, path: str, fmt: str, **params: object) -> Graph:
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format=fmt)


def _shacl_results(graph: Graph) -> str:
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="rdfs", allow_warnings=False)
    return "" if conforms and "Results" not in text else text


def test_the_demo_catalogue_has_no_shacl_results(demo: httpx.Client) -> None:
    graph = _graph(demo, "/catalog.ttl", "turtle", page_size=100)
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 14
    assert _shacl_results(graph) == ""


def test_one_dataset_document_validates_and_describes_its_download(demo: httpx.Client) -> None:
    graph = _graph(demo, "/dataset/bus-stops.ttl", "turtle")
    assert _shacl_results(graph) == ""
    distributions = {str(graph.value(d, DCT.identifier)): d for d in graph.objects(None, DCAT.distribution)}
    distribution = distributions.pop("bus-stops.stops")  # the canonical CSV, with size and checksum
    download = str(next(graph.objects(distribution, DCAT.downloadURL)))
    body = httpx.get(download).content
    assert int(next(graph.objects(distribution, DCAT.byteSize))) == len(body)
    checksum = next(graph.objects(distribution, SPDX.checksum))
    assert str(next(graph.objects(checksum, SPDX.checksumValue))) == hashlib.sha256(body).hexdigest()
    # Every other format the rows are offered in is a distribution too, as the portal's buttons
    # and the dataset JSON list them; each download answers with the media type DCAT states.
    assert sorted(distributions) == ["bus-stops.stops.json", "bus-stops.stops.ndjson", "bus-stops.stops.xlsx"]
    for other in distributions.values():
        media = str(graph.value(other, DCAT.mediaType)).removeprefix("http://www.iana.org/assignments/media-types/")
        served = httpx.get(str(graph.value(other, DCAT.downloadURL)))
        assert served.status_code == 200 and served.headers["content-type"].split(";")[0] == media
        assert graph.value(other, DCAT.byteSize) is None  # only the canonical CSV has one size
    theme = next(graph.objects(None, DCAT.theme))
    assert theme == URIRef("http://publications.europa.eu/resource/authority/data-theme/TRAN")


def test_the_three_serialisations_say_the_same(demo: httpx.Client) -> None:
    turtle = _graph(demo, "/dataset/schools.ttl", "turtle")
    for path, fmt in (("/dataset/schools.jsonld", "json-ld"), ("/dataset/schools.rdf", "xml")):
        assert len(_graph(demo, path, fmt)) == len(turtle)


def test_paging_with_hydra(demo: httpx.Client) -> None:
    first = _graph(demo, "/catalog.jsonld", "json-ld", page_size=5)
    catalogue = next(first.subjects(RDF.type, DCAT.Catalog))
    assert int(next(first.objects(catalogue, HYDRA.totalItems))) == 14
    assert len(list(first.objects(catalogue, DCAT.dataset))) == 5
    view = next(first.subjects(RDF.type, HYDRA.PartialCollectionView))
    last_page = httpx.get(str(next(first.objects(view, HYDRA.last))))
    last = Graph().parse(data=last_page.content, format="json-ld")
    assert len(list(last.subjects(RDF.type, DCAT.Dataset))) == 4
    assert next(first.objects(view, HYDRA.next), None) is not None
    assert demo.get("/catalog.ttl", params={"page": 0}).status_code == 400


def test_closed_and_conditional_datasets(demo: httpx.Client) -> None:
    closed = _graph(demo, "/dataset/personal-social-insurance.ttl", "turtle")
    assert not list(closed.objects(None, DCAT.downloadURL))
    rights = next(closed.objects(None, DCT.accessRights))
    assert str(rights).endswith("/access-right/NON_PUBLIC")


def test_the_dataset_iri_negotiates(demo: httpx.Client) -> None:
    turtle = demo.get("/dataset/bus-stops", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 303 and turtle.headers["location"].endswith("/dataset/bus-stops.ttl")
    page = demo.get("/dataset/bus-stops", headers={"Accept": "text/html"})
    assert page.headers["location"].endswith("/datasets/bus-stops")
    assert demo.get("/dataset/no-such.ttl").status_code == 404
    assert "openLevel" in demo.get("/ns").text


def test_the_measured_quality_is_stated_as_dqv_measurements(demo: httpx.Client) -> None:
    graph = _graph(demo, "/dataset/bus-stops.ttl", "turtle")
    dqv = Namespace("http://www.w3.org/ns/dqv#")
    quality = demo.get("/api/v1/datasets/bus-stops").json()["quality"]
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    values = {}
    for node in graph.objects(dataset, dqv.hasQualityMeasurement):
        assert (node, RDF.type, dqv.QualityMeasurement) in graph
        assert next(graph.objects(node, dqv.computedOn)) == dataset
        metric = next(graph.objects(node, dqv.isMeasurementOf))
        assert (metric, RDF.type, dqv.Metric) in graph
        values[str(metric).rsplit("#", 1)[1]] = float(next(graph.objects(node, dqv.value)))
    assert values["qualityScore"] == quality["score"]
    assert values["completenessPercent"] == quality["components"]["completeness"]
    vocabulary = _graph(demo, "/ns", "turtle")
    assert (URIRef(str(metric)), RDF.type, dqv.Metric) in vocabulary


def test_turtle_and_json_ld_state_exactly_the_graph_rdf_xml_states(demo: httpx.Client) -> None:
    """Turtle and JSON-LD come from our one-pass writers, RDF/XML from rdflib's: the three
    documents of a catalogue page and of a dataset are the same graph, blank nodes aside
    (a page's Hydra links name its own serialisation: /catalog.ttl?page=… in Turtle). A page
    size no other test asks for: a kept page may state views and downloads of a minute ago."""
    for path, params in (("/catalog", {"page_size": 99}), ("/dataset/bus-stops", {})):
        reference = _same_pages(_graph(demo, f"{path}.rdf", "xml", **params), "rdf")
        for extension, fmt in (("ttl", "turtle"), ("jsonld", "json-ld")):
            written = _same_pages(_graph(demo, f"{path}.{extension}", fmt, **params), extension)
            assert len(written) == len(reference) and isomorphic(written, reference), (path, extension)


def _same_pages(graph: Graph, extension: str) -> Graph:
    def page(node):  # type: ignore[no-untyped-def]
        text = str(node)
        return URIRef(text.replace(f"/catalog.{extension}?", "/catalog.PAGE?")) if isinstance(node, URIRef) else node
    out = Graph()
    for triple in graph:
        out.add(tuple(page(node) for node in triple))  # type: ignore[arg-type]
    return out


def test_a_catalogue_page_states_each_dataset_s_own_quality(demo: httpx.Client) -> None:
    """A page reads its datasets' measurements in one query: each dataset's score is the
    one its own document and /api/v1 state."""
    dqv = Namespace("http://www.w3.org/ns/dqv#")
    graph = _graph(demo, "/catalog.ttl", "turtle", page_size=98)
    scores = {}
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        for node in graph.objects(dataset, dqv.hasQualityMeasurement):
            if str(graph.value(node, dqv.isMeasurementOf)).endswith("#qualityScore"):
                scores[str(graph.value(dataset, DCT.identifier))] = float(graph.value(node, dqv.value))
    assert len(set(scores.values())) > 1
    for dataset_id, score in scores.items():
        assert demo.get(f"/api/v1/datasets/{dataset_id}").json()["quality"]["score"] == score, dataset_id
