"""Data Packages validated by the real frictionless package (CLI and Python API)."""

from __future__ import annotations

import subprocess
import sys

import httpx
from frictionless import Package, validate

from tests.interop.test_dcat import demo  # noqa: F401  (the demo portal fixture)
from tests.interop.conftest import Portal

def test_every_open_demo_dataset_validates(demo: httpx.Client) -> None:  # noqa: F811
    levels = {d["id"]: d["open_level"]["code"]
              for d in demo.get("/api/v1/datasets", params={"page_size": 100}).json()["items"]}
    open_ids = sorted(i for i, level in levels.items() if level == "unconditional")
    assert len(open_ids) == 9
    for dataset_id in open_ids:
        report = validate(str(demo.base_url).rstrip("/") + f"/dataset/{dataset_id}/datapackage.json")
        assert report.valid, (dataset_id, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5])


def test_the_cli_validates_a_package_and_the_schema_carries_the_dictionary(demo: httpx.Client) -> None:  # noqa: F811
    url = str(demo.base_url).rstrip("/") + "/dataset/bus-stops/datapackage.json"
    done = subprocess.run([sys.executable, "-m", "frictionless", "validate", url],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    package = Package(url)
    schema = package.resources[0].schema
    assert schema.primary_key == ["stop_id"]
    assert schema.get_field("route_count").type == "integer"
    assert schema.get_field("stop_id").constraints == {"required": True, "unique": True}


def test_masked_fields_are_strings_and_dropped_ones_absent(portal: Portal) -> None:
    body = portal.http.get("/dataset/people/datapackage.json").json()
    fields = {f["name"]: f for f in body["resources"][0]["schema"]["fields"]}
    assert "phone" not in fields and fields["person_id"]["type"] == "string"
    assert validate(f"{portal.url}/dataset/people/datapackage.json").valid
    conditional = portal.http.get("/dataset/si-headcount/datapackage.json").json()
    assert "bytes" not in conditional["resources"][0]
    assert portal.http.get("/dataset/personal-si-base/datapackage.json").json()["resources"] == []


def test_dataset_page_embeds_schema_org_json_ld_as_data(portal: Portal) -> None:
    import json
    import re

    page = portal.http.get("/datasets/bus-stops")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["@type"] == "Dataset" and data["name"] == "广州市公交站点"
    assert data["distribution"][0]["contentUrl"].endswith("/resources/stops/download?format=csv")
    assert data["license"].endswith("/api/v1/licence-terms/gz-open-data-1.0")
