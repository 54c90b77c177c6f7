"""The index follows every change: edits, reloads, synonyms; start-up and the CLI rebuild it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from rdflib import Graph, Literal
from litestar.testing import TestClient
from sqlalchemy import delete, select

from opendata import create_app
from opendata.catalogue.loader import load_catalogue
from opendata.catalogue.manifest import read_manifest
from opendata.cli import main
from opendata.db import Database
from opendata.interop.dcat_vocab import DCT
from opendata.search.models import SearchDocument
from opendata.settings import Settings
from tests.access.helpers import (
    CREDIT_A, assert_refused_and_audited, latest_audit, make_staff, register_enterprise, sign_in,
)
from tests.factories import manifest, write_catalogue


def found(client: TestClient, q: str) -> list[str]:
    return [d["id"] for d in client.get("/api/v1/datasets", params={"q": q}).json()["items"]]


def test_an_edit_replaces_the_old_words_in_the_index(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "admin", "admin")
    assert found(client, "公交") == ["bus-stops"]
    response = client.patch("/api/v1/datasets/bus-stops", headers=sign_in(client, "admin"),
                            json={"title_zh": "广州市电车站点", "description_zh": "全市电车站点。", "tags": ["电车"]})
    assert response.status_code == 200, response.text
    assert found(client, "电车") == ["bus-stops"]
    database = Database(database_url)
    with database.session() as session:
        document = session.scalars(select(SearchDocument).where(SearchDocument.dataset_id == "bus-stops")).one()
        assert "电车" in document.title.split() and "公交" not in document.title.split()
    database.dispose()


def test_a_reload_with_a_new_title_reindexes(settings: Settings, tmp_path: Path) -> None:
    raw = manifest()
    folder = write_catalogue(tmp_path / "cat", raw)
    database = Database(settings.resolved_database_url)
    database.migrate()
    with database.transaction() as session:
        load_catalogue(session, read_manifest(folder))
    raw["datasets"][0]["title_zh"] = "广州市有轨电车站点"
    write_catalogue(tmp_path / "cat", raw)
    with database.transaction() as session:
        load_catalogue(session, read_manifest(folder))
    with TestClient(create_app(settings)) as client:
        assert found(client, "有轨电车") == [raw["datasets"][0]["id"]]
    database.dispose()


def test_start_up_indexes_datasets_that_have_no_document(portal_settings: Settings) -> None:
    with TestClient(create_app(portal_settings)):
        pass
    database = Database(portal_settings.resolved_database_url)
    with database.transaction() as session:
        session.execute(delete(SearchDocument))  # as after an upgrade from before the index
    database.dispose()
    with TestClient(create_app(portal_settings.replace(load_catalogues_on_startup=False))) as client:
        assert found(client, "公交") == ["bus-stops"]


def test_admins_edit_synonyms_and_search_uses_them_at_once(client: TestClient, database_url: str) -> None:
    assert client.get("/api/v1/search/synonyms").status_code == 200
    assert found(client, "站台") == []
    make_staff(database_url, "admin", "admin")
    admin = sign_in(client, "admin")
    response = client.put("/api/v1/search/synonyms", headers=admin,
                          json={"groups": [["站台", "站点", "Stop"], ["公交", "巴士"]]})
    assert response.status_code == 200, response.text
    assert response.json()["groups"][0] == ["站台", "站点", "stop"]
    assert found(client, "站台") == ["bus-stops"]
    record = latest_audit(database_url)
    assert (record.action, record.actor) == ("search.synonyms.replace", "user:admin")
    assert client.get("/api/v1/search/synonyms").json()["groups"] == [["站台", "站点", "stop"], ["公交", "巴士"]]


def test_only_admins_edit_synonyms_and_bad_groups_are_refused(client: TestClient, database_url: str) -> None:
    body = {"groups": [["站台", "站点"]]}
    assert_refused_and_audited(client.put("/api/v1/search/synonyms", json=body), 401, "authentication_required",
                               database_url, "search.synonyms.replace")
    register_enterprise(client, "ent", CREDIT_A)
    response = client.put("/api/v1/search/synonyms", json=body, headers=sign_in(client, "ent"))
    assert_refused_and_audited(response, 403, "forbidden_role", database_url, "search.synonyms.replace")
    make_staff(database_url, "admin", "admin")
    admin = sign_in(client, "admin")
    before = client.get("/api/v1/search/synonyms").json()
    for bad in ({"groups": [["only-one"]]}, {"groups": "公交"}, {"groups": [["a b", "c"]]},
                {"groups": [[1, 2]]}, {"groups": [["x" * 65, "y"]]}, {"nope": []}):
        response = client.put("/api/v1/search/synonyms", json=bad, headers=admin)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] in ("invalid_synonyms", "invalid_body")
    assert client.get("/api/v1/search/synonyms").json() == before


def test_cli_rebuilds_the_index_and_sets_synonyms(portal_settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(portal_settings)):
        pass
    env = {"OPENDATA_DATABASE_URL": portal_settings.resolved_database_url,
           "OPENDATA_DATA_DIR": str(tmp_path / "cli")}
    runner = CliRunner()
    result = runner.invoke(main, ["search", "reindex", "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and json.loads(result.output) == {"indexed": 3}
    groups = tmp_path / "synonyms.txt"
    groups.write_text("# transport\n站台, 站点，stop\n公交 巴士\n", encoding="utf-8")
    result = runner.invoke(main, ["search", "synonyms", "--set", str(groups), "--json"], env=env,
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["groups"] == [["站台", "站点", "stop"], ["公交", "巴士"]]
    groups.write_text("lonely\n", encoding="utf-8")
    result = runner.invoke(main, ["search", "synonyms", "--set", str(groups)], env=env)
    assert result.exit_code != 0 and "synonyms.txt" in result.output and "group 1" in result.output
    with TestClient(create_app(portal_settings.replace(load_catalogues_on_startup=False))) as client:
        assert found(client, "站台") == ["bus-stops"]



def open_levels(client: TestClient, **params: str) -> tuple[list[str], dict[str, int]]:
    """The datasets an anonymous search lists, and its open-level facet."""
    response = client.get("/api/v1/datasets", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [d["id"] for d in body["items"]], {f["value"]: f["count"] for f in body["facets"]["open_level"]}


def dcat_open_level(client: TestClient, dataset_id: str) -> str:
    graph = Graph().parse(data=client.get("/catalog.ttl").text, format="turtle")
    (level,) = {str(o) for s, p, o in graph if str(p).endswith("/ns#openLevel")
                and (s, DCT.identifier, Literal(dataset_id)) in graph}
    return level


def test_a_dataset_closed_by_a_reload_elsewhere_is_never_served_from_a_warm_cache(
    client: TestClient, portal_settings: Settings, catalogue_dir: Path, tmp_path: Path,
) -> None:
    """An attacker's anonymous requests, before and after another process (here the CLI,
    with its own engine: no write path touches a process cache) reloads the catalogue
    with bus-stops closed, while this portal's caches are warm: the search's doc values
    and facet counts, the rendered DCAT page, the rows path's shared Table definition."""
    rows = "/api/v1/datasets/bus-stops/resources/stops/rows"
    download = "/api/v1/datasets/bus-stops/resources/stops/download?format=csv"
    assert client.get(rows).status_code == 200 and client.get(download).status_code == 200
    assert open_levels(client, q="公交", open_level="unconditional") == (["bus-stops"], {"unconditional": 1})
    assert open_levels(client, open_level="unconditional") == (["bus-stops"], {"unconditional": 1})
    assert open_levels(client)[1] == {"unconditional": 1, "conditional": 1, "closed": 1}
    assert dcat_open_level(client, "bus-stops") == "unconditional"

    raw = manifest()
    raw["datasets"][0].update(open_level="closed", licence="closed")
    write_catalogue(catalogue_dir, raw)
    loaded = CliRunner().invoke(main, ["--database-url", portal_settings.resolved_database_url,
                                       "--data-dir", str(tmp_path / "cli"), "catalogue", "load", str(catalogue_dir)])
    assert loaded.exit_code == 0, loaded.output

    for path in (rows, rows + "?limit=1", download):
        response = client.get(path)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "closed_dataset"), (path, response.text)
    assert open_levels(client, q="公交", open_level="unconditional") == ([], {})
    assert open_levels(client, open_level="unconditional") == ([], {})
    assert open_levels(client, q="公交") == (["bus-stops"], {"closed": 1})
    assert open_levels(client)[1] == {"conditional": 1, "closed": 2}
    assert dcat_open_level(client, "bus-stops") == "closed"
