"""The metadata gaps closed for every door: licence title and URL, contact point, usage
totals, each resource's download (URL, media type, size, checksum), popularity sort."""

from __future__ import annotations

import hashlib

from tests.interop.conftest import Portal


def test_dataset_json_states_licence_contact_usage_and_downloads(portal: Portal) -> None:
    before = portal.http.get("/api/v1/datasets/bus-stops").json()
    dataset = portal.http.get("/api/v1/datasets/bus-stops").json()
    assert dataset["views"] == before["views"] + 1
    assert dataset["licence_details"]["title_en"].startswith("Guangzhou Public Data Open Licence")
    terms = portal.http.get(dataset["licence_details"]["url"]).json()
    assert terms["id"] == "gz-open-data-1.0" and terms["open"] is True and terms["summary_zh"]
    assert dataset["contact_point"]["name"] == "广州市交通运输局"
    resource = dataset["resources"][0]
    body = portal.http.get(resource["download_url"]).content
    assert resource["media_type"] == "text/csv" and resource["byte_size"] == len(body)
    assert resource["checksum"] == {"algorithm": "sha256", "value": hashlib.sha256(body).hexdigest()}
    after = portal.http.get("/api/v1/datasets/bus-stops").json()
    assert after["downloads"] == dataset["downloads"] + 1


def test_masked_open_data_has_the_digest_of_what_is_served(portal: Portal) -> None:
    resource = portal.http.get("/api/v1/datasets/people").json()["resources"][0]
    body = portal.http.get(resource["download_url"]).content
    assert "440106199001011234" not in body.decode()
    assert resource["checksum"]["value"] == hashlib.sha256(body).hexdigest()


def test_conditional_and_closed_resources(portal: Portal) -> None:
    conditional = portal.http.get("/api/v1/datasets/si-headcount").json()
    assert conditional["resources"][0]["download_url"].endswith("/download?format=csv")
    assert conditional["resources"][0]["byte_size"] is None and conditional["resources"][0]["checksum"] is None
    assert conditional["licence_details"]["open"] is False
    closed = portal.http.get("/api/v1/datasets/personal-si-base").json()
    assert closed["resources"][0]["download_url"] is None
    assert closed["licence_details"] == {"id": "closed", "title_zh": "closed", "title_en": "closed",
                                         "url": f"{portal.url}/api/v1/licence-terms/closed", "open": False}
    assert portal.http.get("/api/v1/licence-terms/closed").status_code == 404


def test_search_sorts_by_popularity(portal: Portal) -> None:
    for _ in range(5):
        portal.http.get("/api/v1/datasets/si-arrears")
    for _ in range(4):
        portal.http.get("/api/v1/datasets/people/resources/list/download")
    by_views = portal.http.get("/api/v1/datasets", params={"sort": "views"}).json()["items"]
    assert by_views[0]["id"] == "si-arrears"
    by_downloads = portal.http.get("/api/v1/datasets", params={"sort": "downloads"}).json()["items"]
    assert by_downloads[0]["id"] == "people"
    # with words to find, the in-memory ranking sorts the same way
    worded = portal.http.get("/api/v1/datasets", params={"sort": "views", "q": "社保"}).json()["items"]
    assert worded[0]["id"] == "si-arrears"
    assert portal.http.get("/api/v1/datasets", params={"sort": "loudest"}).status_code == 400
