"""The CKAN Action API, driven by the real ckanapi package (RemoteCKAN and its CLI)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import httpx
import pytest
from ckanapi import NotAuthorized, NotFound, RemoteCKAN, ValidationError
from ckanapi.errors import CKANAPIError

from tests.interop.conftest import Portal

HEADCOUNT = "si-headcount.monthly"


@pytest.fixture
def ckan(portal: Portal) -> RemoteCKAN:
    with RemoteCKAN(portal.url) as remote:
        yield remote


def test_site_and_lists(ckan: RemoteCKAN) -> None:
    assert ckan.action.site_read() is True
    assert ckan.action.status_show()["site_title"] == "迷你目录"
    assert ckan.action.package_list() == sorted(
        ["bus-stops", "si-headcount", "personal-si-base", "people", "empty", "si-arrears"])
    assert ckan.action.package_list(limit=2, offset=1) == ["empty", "people"]
    organizations = ckan.action.organization_list(all_fields=True)
    assert {o["name"]: o["package_count"] for o in organizations} == {"gz-hrss": 4, "gz-transport": 2}
    hrss = ckan.action.organization_show(id="gz-hrss", include_datasets=True)
    assert hrss["title"] == "广州市人力资源和社会保障局"
    assert {p["name"] for p in hrss["packages"]} == {"si-headcount", "personal-si-base", "people", "si-arrears"}
    assert "transport" in ckan.action.group_list()
    assert {"公交", "bus", "社保"} <= set(ckan.action.tag_list())
    assert ckan.action.tag_list(query="公") == ["公交"]
    licences = {lic["id"]: lic for lic in ckan.action.license_list()}
    assert licences["gz-open-data-1.0"]["od_conformance"] == "approved"
    assert licences["CC-BY-4.0"]["url"] == "https://creativecommons.org/licenses/by/4.0/"


def test_package_show_states_licence_contact_and_downloads(ckan: RemoteCKAN, portal: Portal) -> None:
    package = ckan.action.package_show(id="bus-stops")
    assert package["title"] == "广州市公交站点" and package["organization"]["name"] == "gz-transport"
    assert package["license_title"].startswith("广州市公共数据开放许可协议")
    assert portal.http.get(package["license_url"]).json()["id"] == "gz-open-data-1.0"
    assert package["groups"][0]["name"] == "transport" and package["isopen"] is True
    assert package["maintainer"] == "广州市交通运输局"
    resource = package["resources"][0]
    assert resource["id"] == "bus-stops.stops" and resource["format"] == "CSV"
    assert resource["mimetype"] == "text/csv" and resource["datastore_active"] is True
    body = portal.http.get(resource["url"]).content
    assert resource["size"] == len(body)
    assert resource["hash"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert ckan.action.resource_show(id="bus-stops.stops") == resource
    # The same rows in every other format offered (the portal's download buttons): one CKAN
    # resource each, downloadable with the mimetype stated, found by resource_show.
    others = package["resources"][1:]
    assert [(r["id"], r["format"]) for r in others] == [
        ("bus-stops.stops.xlsx", "XLSX"), ("bus-stops.stops.json", "JSON"), ("bus-stops.stops.ndjson", "NDJSON")]
    for other in others:
        served = portal.http.head(other["url"])  # HEAD: not counted (a later test ranks by downloads)
        assert served.status_code == 200 and served.headers["content-type"].split(";")[0] == other["mimetype"]
        assert other["size"] is None and other["datastore_active"] is False
    assert ckan.action.resource_show(id="bus-stops.stops.ndjson") == others[2]
    with pytest.raises(NotFound):
        ckan.action.package_show(id="no-such-dataset")
    with pytest.raises(NotFound):
        ckan.action.resource_show(id="bus-stops.nothing")
    with pytest.raises(ValidationError):
        ckan.action.package_show()


def test_a_licensed_resource_has_no_single_size(ckan: RemoteCKAN) -> None:
    resource = ckan.action.resource_show(id=HEADCOUNT)
    assert resource["size"] is None and resource["hash"] == ""
    assert resource["url"].endswith("/api/v1/datasets/si-headcount/resources/monthly/download?format=csv")
    closed = ckan.action.resource_show(id="personal-si-base.bases")
    assert closed["datastore_active"] is False and "/download" not in closed["url"]
    licensed = ckan.action.resource_show(id=f"{HEADCOUNT}.xlsx")  # listed, but its rows need a token
    refused = httpx.get(licensed["url"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "licence_required"
    package = ckan.action.package_show(id="personal-si-base")
    assert [r["id"] for r in package["resources"]] == ["personal-si-base.bases"]  # closed: no other formats


def test_package_search(ckan: RemoteCKAN) -> None:
    found = ckan.action.package_search(q="公交")
    assert found["count"] == 1 and found["results"][0]["name"] == "bus-stops"
    assert found["results"][0]["resources"][0]["format"] == "CSV"
    social = ckan.action.package_search(fq="organization:gz-hrss open_level:conditional", sort="name asc",
                                        **{"facet.field": ["groups", "res_format"]})
    assert [p["name"] for p in social["results"]] == ["si-arrears", "si-headcount"]
    assert social["search_facets"]["groups"]["items"] == [
        {"name": "social_security", "display_name": "社会保障", "count": 2}]
    assert social["facets"]["res_format"] == {"csv": 2}
    page = ckan.action.package_search(rows=2, start=1, sort="name asc")
    assert page["count"] == 6 and [p["name"] for p in page["results"]] == ["empty", "people"]
    assert ckan.action.package_search(fq="tags:社保", rows=0)["count"] == 1
    assert ckan.action.package_search(q="groups:(transport OR urban)")["count"] == 2
    with pytest.raises(ValidationError):
        ckan.action.package_search(sort="title_string desc")
    with pytest.raises(ValidationError):
        ckan.action.package_search(fq="author:someone")


def test_package_search_sorts_by_popularity(ckan: RemoteCKAN, portal: Portal) -> None:
    for _ in range(3):
        ckan.action.package_show(id="empty")
    portal.http.get("/api/v1/datasets/empty/resources/nothing/download")
    by_views = ckan.action.package_search(sort="views_total desc", rows=1)["results"][0]
    assert by_views["name"] == "empty" and by_views["tracking_summary"]["total"] >= 3
    by_downloads = ckan.action.package_search(sort="downloads_total desc", rows=1)["results"][0]
    assert by_downloads["name"] == "empty" and by_downloads["downloads_total"] >= 1


def test_datastore_search_of_open_data(ckan: RemoteCKAN) -> None:
    result = ckan.action.datastore_search(resource_id="bus-stops.stops", limit=2)
    assert result["total"] == 3 and [r["stop_id"] for r in result["records"]] == ["S001", "S002"]
    assert result["fields"][0] == {"id": "_id", "type": "int"}
    assert {f["id"]: f["type"] for f in result["fields"]}["lines"] == "int"
    assert "offset=2" in result["_links"]["next"]
    following = ckan.action.datastore_search(resource_id="bus-stops.stops", limit=2, offset=2)
    assert [r["stop_id"] for r in following["records"]] == ["S003"]
    filtered = ckan.action.datastore_search(resource_id="bus-stops.stops", filters={"district": ["天河区", "番禺区"]},
                                            fields=["stop_id", "lines"], sort="lines desc")
    assert filtered["records"] == [{"_id": 1, "stop_id": "S001", "lines": 12}, {"_id": 3, "stop_id": "S003", "lines": 5}]
    assert ckan.action.datastore_search(resource_id="bus-stops.stops", q="步行街")["total"] == 1
    assert ckan.action.datastore_search(resource_id="bus-stops.stops", q={"name": "广场"})["records"][0]["stop_id"] == "S003"
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id="bus-stops.stops", filters={"lines": "many"})
    with pytest.raises(NotFound):
        ckan.action.datastore_search(resource_id="bus-stops.nothing")


def test_datastore_search_applies_the_masks(ckan: RemoteCKAN) -> None:
    result = ckan.action.datastore_search(resource_id="people.list", sort="age asc", limit=1)
    record = result["records"][0]
    assert "phone" not in record and record["name"] == "赵*" and record["card"].endswith("2222")
    assert len(record["person_id"]) == 32 and "440105" not in record["person_id"]
    # A full-text q never looks inside masked fields: it would unmask them one guess at a time.
    assert ckan.action.datastore_search(resource_id="people.list", q="440105200002024567")["total"] == 0
    for attempt in ({"filters": {"person_id": "440105200002024567"}}, {"sort": "name asc"},
                    {"q": {"person_id": "4401"}}, {"fields": ["phone"]}):
        with pytest.raises(ValidationError):
            ckan.action.datastore_search(resource_id="people.list", **attempt)


# --- as an attacker: conditional and closed rows through the CKAN door -------------------


def test_conditional_rows_need_a_token(ckan: RemoteCKAN, portal: Portal) -> None:
    with pytest.raises(NotAuthorized):
        ckan.action.datastore_search(resource_id=HEADCOUNT)
    raw = portal.http.post("/api/3/action/datastore_search", json={"resource_id": HEADCOUNT})
    assert raw.status_code == 403
    assert raw.json()["success"] is False and raw.json()["error"]["__type"] == "Authorization Error"
    forged = portal.http.get("/api/action/datastore_search", params={"resource_id": HEADCOUNT},
                             headers={"Authorization": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "invalid_token"


def test_a_licensed_token_reads_only_its_fields(portal: Portal) -> None:
    with RemoteCKAN(portal.url, apikey=portal.token) as licensed:  # bare Authorization: <token>
        result = licensed.action.datastore_search(resource_id=HEADCOUNT, sort="month desc")
        assert [f["id"] for f in result["fields"]] == ["_id", "month", "headcount"]
        assert result["records"][0] == {"_id": 3, "month": "2024-03-01", "headcount": 38}
        for attempt in ({"fields": ["credit_code"]}, {"filters": {"credit_code": "91440101MA5CXXXX1A"}},
                        {"sort": "credit_code"}):
            with pytest.raises(NotAuthorized):
                licensed.action.datastore_search(resource_id=HEADCOUNT, **attempt)
        # q searches the licensed fields only: the unlicensed credit code is not an oracle.
        assert licensed.action.datastore_search(resource_id=HEADCOUNT, q="91440101MA5CXXXX1A")["total"] == 0
        with pytest.raises(NotAuthorized):  # a token for si-headcount is not one for si-arrears
            licensed.action.datastore_search(resource_id="si-arrears.arrears")
        with pytest.raises(NotAuthorized):  # closed rows are never served, token or not
            licensed.action.datastore_search(resource_id="personal-si-base.bases")
        with pytest.raises(NotAuthorized):
            licensed.action.datastore_search_sql(sql='SELECT * FROM "rows_1_1"')
    bearer = portal.http.get("/api/3/action/datastore_search", params={"resource_id": HEADCOUNT, "limit": 1},
                             headers={"Authorization": f"Bearer {portal.token}"})
    assert bearer.status_code == 200 and bearer.json()["result"]["records"][0]["headcount"] == 35


def test_unknown_action_and_bad_body(portal: Portal) -> None:
    unknown = portal.http.get("/api/3/action/package_create")
    assert unknown.status_code == 400 and unknown.json()["success"] is False
    bad = portal.http.post("/api/3/action/package_show", content=b"[1, 2",
                           headers={"Content-Type": "application/json"})
    assert bad.status_code == 409 and bad.json()["error"]["__type"] == "Validation Error"


def _cli(portal: Portal, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from ckanapi.cli.main import main; main()", "action", *args, "-r", portal.url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_ckanapi_command_line(portal: Portal) -> None:
    shown = _cli(portal, "package_show", "id=bus-stops")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["license_id"] == "gz-open-data-1.0"
    refused = _cli(portal, "datastore_search", f"resource_id={HEADCOUNT}")
    assert refused.returncode != 0 and "NotAuthorized" in refused.stderr + refused.stdout
    allowed = _cli(portal, "datastore_search", f"resource_id={HEADCOUNT}", "limit:1", "-a", portal.token)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["records"] == [{"_id": 1, "month": "2024-01-01", "headcount": 35}]


def test_ckanapi_error_types_are_recognised(ckan: RemoteCKAN) -> None:
    with pytest.raises(CKANAPIError):
        ckan.call_action("package_patch", {"id": "bus-stops"})


def test_package_show_carries_the_measured_quality(ckan: RemoteCKAN, portal: Portal) -> None:
    extras = {e["key"]: e["value"] for e in ckan.action.package_show(id="bus-stops")["extras"]}
    quality = portal.http.get("/api/v1/datasets/bus-stops").json()["quality"]
    assert extras["quality_score"] == f"{quality['score']:.1f}"
    assert extras["quality_completeness"] == f"{quality['components']['completeness']:.1f}"
    assert extras["quality_timeliness_status"] == quality["timeliness"]["status"]
    assert "quality_consistency" not in extras  # nothing declared to measure: left out, not "100"


def test_package_search_states_each_package_s_own_quality(ckan: RemoteCKAN) -> None:
    """package_search reads the page's measurements in one query: each package still gets
    its own, the same extras package_show gives."""
    found = ckan.action.package_search(rows=100)["results"]
    quality = {p["name"]: {e["key"]: e["value"] for e in p["extras"] if e["key"].startswith("quality_")}
               for p in found}
    assert len({q.get("quality_score") for q in quality.values()} - {None}) > 1  # not one score for all
    for name, extras in quality.items():
        shown = ckan.action.package_show(id=name)["extras"]
        assert extras == {e["key"]: e["value"] for e in shown if e["key"].startswith("quality_")}, name
