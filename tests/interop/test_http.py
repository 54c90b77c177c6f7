"""HTTP conventions over a real server (httpx): HEAD, validators and 304, ranges, Link,
compression and the 405 shape. CORS and the licensed-data attacker tests are in
test_http_cors.py."""

from __future__ import annotations

import gzip
import hashlib
import json

import brotli
import httpx

from tests.interop.conftest import Portal

BUS = "/api/v1/datasets/bus-stops"
STOPS = f"{BUS}/resources/stops"
CSV = f"{STOPS}/download?format=csv"
IDENTITY = {"accept-encoding": "identity"}
# Headers a HEAD must repeat from the GET (the rest may legitimately differ: Date).
SAME = ("content-type", "content-length", "etag", "last-modified", "link", "accept-ranges", "content-encoding",
        "content-disposition", "cache-control", "access-control-allow-origin")


def downloads_of(portal: Portal, dataset: str) -> int:
    return portal.http.get(f"/api/v1/datasets/{dataset}").json()["downloads"]


def test_head_answers_like_get_without_a_body(portal: Portal) -> None:
    # A process's first canonical CSV goes out without a Content-Length and teaches it to
    # the next request (catalogue.download_http.canonical_size): compare warm with warm.
    assert portal.http.get(CSV, headers=IDENTITY).status_code == 200
    for path in ("/api", "/api/v1/datasets?q=公交", f"{STOPS}/rows?limit=1", CSV, "/dataset/bus-stops.ttl",
                 "/dataset/bus-stops/datapackage.json", "/catalog.jsonld", "/api/3/action/package_list",
                 "/schema/openapi.json", "/"):
        got = portal.http.get(path, headers=IDENTITY)
        head = portal.http.head(path, headers=IDENTITY)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        for name in SAME:
            assert head.headers.get(name) == got.headers.get(name), (path, name)
    assert portal.http.head("/api/v1/datasets/no-such").status_code == 404
    streamed = portal.http.head(f"{STOPS}/download", params={"format": "ndjson", "district": "天河区"})
    assert streamed.status_code == 200 and streamed.content == b""
    assert portal.http.get(CSV).status_code == 200  # the connection is still good after it


def test_head_of_a_download_runs_no_export_and_counts_nothing(portal: Portal) -> None:
    before = downloads_of(portal, "bus-stops")
    size = portal.http.get(BUS).json()["resources"][0]["byte_size"]  # the metadata computes the size
    head = portal.http.head(CSV, headers=IDENTITY)
    assert head.status_code == 200 and head.headers["content-length"] == str(size)
    assert head.headers["accept-ranges"] == "bytes"
    assert downloads_of(portal, "bus-stops") == before


def test_405_uses_the_error_shape_and_names_head(portal: Portal) -> None:
    response = portal.http.delete(BUS)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "HEAD"}
    assert "DELETE" not in response.headers["allow"]


def test_metadata_revalidates_with_a_weak_etag_and_last_modified(portal: Portal) -> None:
    first = portal.http.get(BUS, headers=IDENTITY)
    second = portal.http.get(BUS, headers=IDENTITY)
    # The live view counter changed the bytes, not the validator: it is weak for that reason.
    assert first.json()["views"] + 1 == second.json()["views"]
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and second.headers["etag"] == etag
    views = second.json()["views"]
    again = portal.http.get(BUS, headers={"if-none-match": etag, **IDENTITY})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    since = portal.http.get(BUS, headers={"if-modified-since": first.headers["last-modified"]})
    assert since.status_code == 304
    old = portal.http.get(BUS, headers={"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert old.status_code == 200
    # If-None-Match decides alone when both are sent (RFC 9110 §13.2.2).
    assert portal.http.get(BUS, headers={"if-none-match": '"other"',
                                         "if-modified-since": first.headers["last-modified"]}).status_code == 200
    assert portal.http.get(BUS).json()["views"] >= views + 2  # a revalidation is a view too
    other = portal.http.get("/api/v1/datasets/people", headers=IDENTITY).headers["etag"]
    assert portal.http.get(BUS, headers={"if-none-match": other}).status_code == 200


def test_metadata_links_its_dcat_and_data_package(portal: Portal) -> None:
    header = portal.http.get(BUS).headers["link"]
    described = {}
    for part in header.split(","):
        target, *params = [piece.strip() for piece in part.split(";")]
        assert 'rel="describedby"' in params
        media_type = next(p for p in params if p.startswith("type=")).split("=", 1)[1].strip('"')
        described[media_type] = target.strip("<>")
    assert set(described) == {"application/ld+json", "application/vnd.datapackage+json"}
    assert portal.http.get(described["application/ld+json"]).json()
    assert portal.http.get(described["application/vnd.datapackage+json"]).json()["name"] == "bus-stops"


def test_rows_pages_have_a_strong_etag_and_a_next_link(portal: Portal) -> None:
    page = portal.http.get(f"{STOPS}/rows", params={"limit": 1}, headers=IDENTITY)
    etag = page.headers["etag"]
    assert not etag.startswith("W/")
    assert page.headers["etag"] == etag and hashlib.sha256(page.content).hexdigest()[:32] == etag.strip('"')
    link = httpx.Response(200, headers=page.headers).links["next"]["url"]
    assert link == page.json()["links"]["next"]
    following = portal.http.get(link).json()
    assert following["items"] != page.json()["items"]
    assert portal.http.get(f"{STOPS}/rows", params={"limit": 1}, headers={"if-none-match": etag}).status_code == 304
    last = portal.http.get(f"{STOPS}/rows", params={"limit": 1000})
    assert "link" not in last.headers and last.json()["next"] is None
    catalogue = portal.http.get("/catalog.ttl", params={"page_size": 2})
    assert httpx.Response(200, headers=catalogue.headers).links["next"]["url"].endswith("page=2&page_size=2")
    search = portal.http.get("/api/v1/datasets", params={"page_size": 1})
    assert httpx.Response(200, headers=search.headers).links["next"]["url"].endswith("page_size=1&page=2")


def test_download_validators_304_and_ranges(portal: Portal) -> None:
    resource = portal.http.get(BUS).json()["resources"][0]
    whole = portal.http.get(CSV, headers=IDENTITY)
    body, etag = whole.content, whole.headers["etag"]
    assert whole.headers["content-length"] == str(resource["byte_size"]) == str(len(body))
    assert hashlib.sha256(body).hexdigest() == resource["checksum"]["value"]
    assert not etag.startswith("W/") and whole.headers["accept-ranges"] == "bytes"
    before = downloads_of(portal, "bus-stops")
    assert portal.http.get(CSV, headers={"if-none-match": etag}).status_code == 304
    assert downloads_of(portal, "bus-stops") == before  # a 304 is no download

    part = portal.http.get(CSV, headers={"range": "bytes=10-29", **IDENTITY})
    assert part.status_code == 206 and part.content == body[10:30]
    assert part.headers["content-range"] == f"bytes 10-29/{len(body)}" and part.headers["content-length"] == "20"
    head = portal.http.head(CSV, headers={"range": "bytes=10-29", **IDENTITY})
    assert head.status_code == 206 and head.headers["content-range"] == part.headers["content-range"]
    assert downloads_of(portal, "bus-stops") == before  # a part without the last byte is no download
    tail = portal.http.get(CSV, headers={"range": "bytes=-7", "if-range": etag, **IDENTITY})
    assert tail.status_code == 206 and tail.content == body[-7:]
    assert downloads_of(portal, "bus-stops") == before + 1  # the part that ends the file counts once
    resumed = portal.http.get(CSV, headers={"range": "bytes=50-", **IDENTITY})
    assert resumed.status_code == 206 and body[:50] + resumed.content == body
    changed = portal.http.get(CSV, headers={"range": "bytes=0-3", "if-range": '"stale"', **IDENTITY})
    assert changed.status_code == 200 and changed.content == body  # the copy changed: sent whole
    past = portal.http.get(CSV, headers={"range": f"bytes={len(body)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(body)}"
    assert past.json()["error"]["code"] == "range_not_satisfiable"
    many = portal.http.get(CSV, headers={"range": "bytes=0-1,5-6", **IDENTITY})
    assert many.status_code == 200 and many.content == body  # multipart ranges: answered whole


def test_other_downloads_are_streamed_without_ranges(portal: Portal) -> None:
    filtered = portal.http.get(f"{STOPS}/download", params={"format": "csv", "district": "天河区"},
                               headers={"range": "bytes=0-3", **IDENTITY})
    assert filtered.status_code == 200 and filtered.headers["accept-ranges"] == "none"
    assert "content-length" not in filtered.headers  # generated as it streams: chunked
    again = portal.http.get(f"{STOPS}/download", params={"format": "csv", "district": "天河区"}, headers=IDENTITY)
    assert again.headers["etag"] == filtered.headers["etag"] != portal.http.get(CSV).headers["etag"]
    xlsx = portal.http.get(f"{STOPS}/download", params={"format": "xlsx"})
    assert xlsx.headers["etag"].startswith("W/")  # a workbook records when it was written
    assert portal.http.get(f"{STOPS}/download", params={"format": "xlsx"},
                           headers={"if-none-match": xlsx.headers["etag"]}).status_code == 304


def test_compression_follows_accept_encoding(portal: Portal) -> None:
    plain = portal.http.get("/catalog.ttl", headers=IDENTITY)
    assert "content-encoding" not in plain.headers and "Accept-Encoding" in plain.headers["vary"]
    with httpx.Client(base_url=portal.url) as raw:
        for encoding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
            for path in ("/catalog.ttl", "/api/v1/datasets?page_size=50", CSV):
                with raw.stream("GET", path, headers={"accept-encoding": encoding}) as response:
                    assert response.headers["content-encoding"] == encoding, (path, encoding)
                    compressed = b"".join(response.iter_raw())
                reference = raw.get(path, headers=IDENTITY).content
                assert decode(compressed) == reference
                if path != CSV:  # (a 136-byte CSV does not shrink)
                    assert len(compressed) < len(reference)
        refused = raw.get("/catalog.ttl", headers={"accept-encoding": "br;q=0, gzip;q=0"})
        assert "content-encoding" not in refused.headers
        prefers_gzip = raw.get("/catalog.ttl", headers={"accept-encoding": "br;q=0.2, gzip"})
        assert prefers_gzip.headers["content-encoding"] == "gzip"
        xlsx = raw.get(f"{STOPS}/download", params={"format": "xlsx"}, headers={"accept-encoding": "gzip, br"})
        assert "content-encoding" not in xlsx.headers  # already a zip
        # The compressed copy has its own validator, and revalidates.
        etag = raw.get(CSV, headers={"accept-encoding": "gzip"}).headers["etag"]
        assert etag.endswith('-gzip"')
        assert raw.get(CSV, headers={"accept-encoding": "gzip", "if-none-match": etag}).status_code == 304
        # Ranges are served on the identity encoding only.
        part = raw.get(CSV, headers={"accept-encoding": "gzip", "range": "bytes=0-9"})
        assert part.status_code == 206 and "content-encoding" not in part.headers


def test_downloads_honour_limit(portal: Portal) -> None:
    lines = portal.http.get(f"{STOPS}/download", params={"format": "ndjson", "limit": 2, "sort": "stop_id"}).text
    assert [json.loads(line)["stop_id"] for line in lines.splitlines()] == ["S001", "S002"]
    whole = portal.http.get(f"{STOPS}/download", params={"format": "ndjson", "limit": 5000}).text
    assert len(whole.splitlines()) == 3  # above the rows page maximum is fine for a file
    for bad in ("0", "x", "-1"):
        response = portal.http.get(f"{STOPS}/download", params={"limit": bad})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_limit"
