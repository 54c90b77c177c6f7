"""Malformed and hostile sources: bad JSON, wrong types, a response without end, links
into our own network, remote JSON-LD contexts, entity bombs. Each gives a logged error
(of the run, or of the one dataset, with its remote id), never a crash or a half load."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from opendata.db import Database
from opendata.settings import Settings

from opendata_harvest import service, sources
from opendata_harvest.models import ensure_tables
from harvest_support import FixtureServer, ckan_envelope, json_answer, load_recorded

GOLD = "c322307a-b871-44fe-a602-32ee8437ff04"
_ENTITIES = '<!ENTITY a0 "aaaaaaaaaa">' + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (f'<?xml version="1.0"?><!DOCTYPE r [{_ENTITIES}]>'
                  '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&a9;</rdf:RDF>')


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        yield running


@pytest.fixture
def internal() -> Iterator[FixtureServer]:
    """A service inside our own network (another host:port), answering whatever it is asked:
    a harvester that fetched from it would get a usable answer, so only its refusal keeps
    the requests list empty."""
    with FixtureServer() as running:
        csv = (200, {"Content-Type": "text/csv"}, b"secret,value\ntoken,s3cr3t\n")
        running.prefix_routes["/"] = lambda path, q: csv
        yield running


def _run(local_db: Database, settings: Settings, server: FixtureServer, type_: str = "ckan", path: str = "",
         **options):  # noqa: ANN202
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        if session.get(sources.HarvestSource, "bad") is None:
            sources.add_source(session, "bad", type_, server.url + path, domain="economy", **options)
    run = service.run_source(local_db, settings, "bad")
    with local_db.session() as session:
        return run, [e.as_dict() for e in service.run_log(session, run.id)]


def _search(packages: list[dict]):  # noqa: ANN202
    return lambda q: json_answer(ckan_envelope("package_search", {"count": len(packages), "results": packages}))


@pytest.mark.parametrize(("answer", "expected"), [
    ((200, {"Content-Type": "application/json"}, b'{"success": true, "result": {"count": 1, "resu'), "bad_json"),
    (json_answer(ckan_envelope("package_search", {"count": "ten", "results": {"a": 1}})), "bad_answer"),
    (json_answer({"success": False, "error": {"__type": "Authorization Error", "message": "Access denied"}}, 403),
     "http_status"),
    (json_answer(["not", "an", "envelope"]), "ckan_error"),
    ((200, {"Content-Type": "application/json"}, b"[" * 100_000 + b"]" * 100_000), "bad_json"),
    ((200, {"Content-Type": "application/json"}, (b" " * (1 << 20) for _ in range(25))), "too_large"),
])
def test_a_source_that_cannot_be_read_fails_the_run_and_says_why(local_db: Database, local_settings: Settings,
                                                                 server: FixtureServer, answer, expected) -> None:
    server.routes["/api/3/action/package_search"] = lambda q: answer
    run, log = _run(local_db, local_settings, server)
    assert run.status == "failed" and run.message.startswith(expected), run.message
    again, _ = _run(local_db, local_settings, server)  # the failed run released the source
    assert again.status == "failed" and again.id == run.id + 1


def test_hostile_records_are_errors_of_their_own_remote_id(local_db: Database, local_settings: Settings,
                                                           server: FixtureServer, internal: FixtureServer) -> None:
    _, recorded = load_recorded(server.url)
    gold = recorded[0]
    wrong_types = {"id": "wrong-types", "name": "wrong-types", "metadata_modified": "2024-01-01T00:00:00",
                   "title": ["not", "text"], "notes": 12, "tags": "gold", "resources": {"a": 1},
                   "organization": "org", "extras": "x", "groups": [None, 5], "license_id": {"x": 1}}
    bad_show = {"id": "bad-show", "name": "bad-show", "metadata_modified": "2024-01-01T00:00:00"}
    inside = dict(gold, id="inside", name="inside", resources=[
        {"id": "passwd", "name": "passwd", "format": "CSV", "url": "file:///etc/passwd"},
        {"id": "metadata", "name": "metadata", "format": "CSV", "url": f"{server.url}/redirect"},
        {"id": "big", "name": "big", "format": "CSV", "url": f"{server.url}/big.csv"},
        {"id": "binary", "name": "binary", "format": "CSV", "url": f"{server.url}/binary.csv"},
    ])
    packages = [gold, wrong_types, bad_show, inside]
    server.routes["/api/3/action/package_search"] = _search(packages)
    shows = {p["id"]: json_answer(ckan_envelope("package_show", p)) for p in packages}
    shows["bad-show"] = (200, {"Content-Type": "application/json"}, b"<html>Internal error</html>")
    server.routes["/api/3/action/package_show"] = lambda q: shows[q["id"][0]]
    # A redirect into our own network (as to the cloud metadata service): refused on the hop.
    server.routes["/redirect"] = lambda q: (302, {"Location": f"{internal.url}/latest/meta-data/"}, b"")
    server.routes["/big.csv"] = lambda q: (200, {"Content-Type": "text/csv"},
                                           (b"a,b\n" + b"1,2\n" * 4096 for _ in range(8)))
    server.routes["/binary.csv"] = lambda q: (200, {"Content-Type": "text/csv"}, bytes(range(256)) * 64)
    server.prefix_routes["/dataset/"] = lambda path, q: (200, {"Content-Type": "text/csv"}, b"month,price\n2024-01,1\n")

    run, log = _run(local_db, local_settings, server, with_data=True, max_data_bytes=64 * 1024)
    errors = {(e["remote_id"], e["details"]["resource"] if e.get("details") else None): e["message"]
              for e in log if e["kind"] == "error"}
    assert errors.pop(("bad-show", None)).startswith("bad_json")
    assert "is not an http(s) URL" in errors.pop(("inside", "passwd"))
    assert f"{internal.url}/latest/meta-data/ is not on an allowed host" in errors.pop(("inside", "metadata"))
    assert "more than 65,536 bytes" in errors.pop(("inside", "big"))
    assert errors.pop(("inside", "binary"))
    assert errors == {}
    assert (run.created, run.status) == (3, "errors")  # gold, wrong-types and inside (its files as links)
    assert internal.requests == []
    created = {e["dataset"] for e in log if e["kind"] == "created"}
    assert created == {"gold-prices", "wrong-types", "inside"}


@pytest.mark.parametrize(("path", "body", "media", "expected"), [
    ("/catalog.jsonld", json.dumps({"@context": "{internal}/context.jsonld", "@id": "x"}),
     "application/ld+json", "refused_context"),
    ("/catalog.jsonld", json.dumps({"@context": [{"dcat": "http://www.w3.org/ns/dcat#"}, "{internal}/c"]}),
     "application/ld+json", "refused_context"),
    ("/catalog.ttl", "@prefix dcat: <http://www.w3.org/ns/dcat#> . <a> a dcat:Dataset", "text/turtle", "bad_rdf"),
    ("/catalog.rdf", BILLION_LAUGHS, "application/rdf+xml", "bad_rdf"),
    ("/catalog.rdf", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                     '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                     'xmlns:dct="http://purl.org/dc/terms/" xmlns:dcat="http://www.w3.org/ns/dcat#">'
                     '<dcat:Dataset rdf:about="http://x/d"><dct:title>&x;</dct:title></dcat:Dataset></rdf:RDF>',
     "application/rdf+xml", None),
])
def test_hostile_dcat_documents(local_db: Database, local_settings: Settings, server: FixtureServer,
                                internal: FixtureServer, path: str, body: str, media: str, expected: str | None) -> None:
    answer = body.replace("{internal}", internal.url).encode()
    server.routes[path] = lambda q: (200, {"Content-Type": media}, answer)
    run, log = _run(local_db, local_settings, server, "dcat", path)
    assert internal.requests == []
    if expected is not None:
        assert run.status == "failed" and run.message.startswith(expected), run.message
        return
    # An external entity is not read: the dataset's title is not the file's content.
    from sqlalchemy import select
    from opendata.catalogue.models import Dataset

    with local_db.session() as session:
        titles = list(session.scalars(select(Dataset.title_zh)))
    assert not any("root:" in t for t in titles), titles


def test_a_hydra_page_on_another_host_ends_the_listing_without_withdrawing(
        local_db: Database, local_settings: Settings, server: FixtureServer, internal: FixtureServer) -> None:
    page = """@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
<http://x/catalog> a dcat:Catalog ; dcat:dataset <http://x/d{n}> ; hydra:view <http://x/v> .
<http://x/v> hydra:next <{next}> .
<http://x/d{n}> a dcat:Dataset ; dct:identifier "d{n}" ; dct:title "One"@en ; dct:description "The first."@en ."""
    first = page.format(n=1, next=f"{internal.url}/catalog.ttl?page=2")
    server.routes["/catalog.ttl"] = lambda q: (200, {"Content-Type": "text/turtle"}, first.encode())
    second = page.format(n=2, next=f"{internal.url}/catalog.ttl?page=3")  # what the inside host would answer
    internal.prefix_routes["/"] = lambda path, q: (200, {"Content-Type": "text/turtle"}, second.encode())
    run, log = _run(local_db, local_settings, server, "dcat", "/catalog.ttl")
    assert (run.status, run.created) == ("errors", 1) and internal.requests == []
    assert any(internal.url in e["message"] and "not on an allowed host" in e["message"] for e in log)
    assert any(e["kind"] == "note" for e in log) is False  # nothing harvested before: nothing to withdraw


ACCESS = "http://publications.europa.eu/resource/authority/access-right/"


def test_a_remote_stating_several_open_levels_gets_the_strictest(local_db: Database, local_settings: Settings,
                                                                 server: FixtureServer) -> None:
    """No way of stating a level (twice, in two vocabularies, or with a word we do not know
    beside a known one) makes a remote's conditional or closed dataset more open here."""
    page = f"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix od: <http://portal.example/api/v1/ns#> .
<http://x/c> a dcat:Catalog .
<http://x/d1> a dcat:Dataset ; dct:identifier "d1" ; dct:title "One"@en ; od:openLevel "public" ;
  dct:accessRights <{ACCESS}NON_PUBLIC> .
<http://x/d2> a dcat:Dataset ; dct:identifier "d2" ; dct:title "Two"@en ;
  dct:accessRights <{ACCESS}PUBLIC>, <{ACCESS}RESTRICTED> .
<http://x/d3> a dcat:Dataset ; dct:identifier "d3" ; dct:title "Three"@en ; od:openLevel "unconditional" ;
  dct:accessRights <{ACCESS}RESTRICTED> ."""
    server.routes["/catalog.ttl"] = lambda q: (200, {"Content-Type": "text/turtle"}, page.encode())
    run, _ = _run(local_db, local_settings, server, "dcat", "/catalog.ttl")
    assert (run.status, run.created) == ("ok", 3), run.summary()

    _, recorded = load_recorded(server.url)
    twice = dict(recorded[0], extras=[{"key": "open_level", "value": "closed"},
                                      {"key": "open_level", "value": "unconditional"}])
    server.routes["/api/3/action/package_search"] = _search([twice])
    server.routes["/api/3/action/package_show"] = lambda q: json_answer(ckan_envelope("package_show", twice))
    with local_db.transaction() as session:
        sources.add_source(session, "twice", "ckan", server.url, domain="economy", with_data=True)
    assert service.run_source(local_db, local_settings, "twice").created == 1
    assert not any("/download/" in r for r in server.requests)  # a closed dataset's rows are never fetched

    from sqlalchemy import select
    from opendata.catalogue.models import Dataset

    with local_db.session() as session:
        levels = dict(session.execute(select(Dataset.id, Dataset.open_level)).all())
    assert levels == {"d1": "closed", "d2": "conditional", "d3": "conditional", "gold-prices": "closed"}


def test_a_remote_that_trickles_is_cut_off(local_db: Database, local_settings: Settings, server: FixtureServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read waits at most the read timeout, so a remote sending a little at a time
    would hold the run for ever; after the grace period the body must keep up a rate
    (shortened here: 0.3 s, then 10,000 bytes/s, against 100 bytes/s sent)."""
    import time

    from opendata_harvest import fetch

    monkeypatch.setattr(fetch, "GRACE_SECONDS", 0.3)
    monkeypatch.setattr(fetch, "MIN_BYTES_PER_SECOND", 10_000)

    def trickle():  # noqa: ANN202
        yield b'{"success": true, "result": {"count": 1, "results": ['
        for _ in range(600):  # a minute of it, were it not cut off
            time.sleep(0.1)
            yield b" " * 10

    server.routes["/api/3/action/package_search"] = lambda q: (200, {"Content-Type": "application/json"}, trickle())
    run, _ = _run(local_db, local_settings, server)
    assert run.status == "failed" and run.message.startswith("too_slow"), run.message
