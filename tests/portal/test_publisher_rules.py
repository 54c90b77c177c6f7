"""Publisher uploads obey the data dictionary: primary keys, constraints, missing markers."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.factories import write_catalogue
from tests.portal.catalogue import PORTAL_DATA, write_portal_catalogue
from tests.portal.helpers import make_staff, post_form, sign_in, text_of
from tests.portal.test_publisher import tables


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    """The portal catalogue with rules on the bus stops: markers and constraints."""
    folder = write_portal_catalogue(tmp_path / "portal")
    import tomllib

    raw = tomllib.loads((folder / "catalogue.toml").read_text(encoding="utf-8"))
    stops = raw["datasets"][0]["resources"][0]
    stops["missing_values"] = ["", "NA", "—"]
    fields = {f["name"]: f for f in stops["fields"]}
    fields["lines"].update(minimum=0, maximum=99)
    fields["district"].update(required=True)
    return write_catalogue(folder, raw, PORTAL_DATA)


def upload(client: TestClient, content: bytes, name: str = "stops.csv"):
    return post_form(client, "/publisher/datasets/bus-stops/resources/stops/upload",
                     files={"file": (name, content, "text/csv")})


def stop_ids(client: TestClient) -> list[str]:
    rows = client.get("/api/v1/datasets/bus-stops/resources/stops/rows", params={"limit": 100}).json()
    return [row["stop_id"] for row in rows["items"]]


def test_an_upload_with_a_duplicate_primary_key_is_refused_and_changes_nothing(
    client: TestClient, database_url: str
) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    before_tables, before_ids = tables(database_url), stop_ids(client)
    twice = "stop_id,name,district,lines\nN1,一站,天河区,1\nN2,二站,越秀区,2\nN1,又一站,海珠区,3\n"
    response = upload(client, twice.encode())
    assert response.status_code == 400
    report = text_of(response.text.split('data-testid="ingest-errors"')[1].split("</table>")[0])
    assert "stop_id" in report and "N1" in report and "2" in report and "4" in report
    assert "数据未做任何更改" in response.text
    assert tables(database_url) == before_tables
    assert stop_ids(client) == before_ids == ["S001", "S002", "S003"]
    empty_key = upload(client, "stop_id,name,district,lines\n,一站,天河区,1\n".encode())
    assert empty_key.status_code == 400 and stop_ids(client) == before_ids


def test_an_upload_reads_markers_as_null_and_checks_constraints(client: TestClient, database_url: str) -> None:
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    broken = "stop_id,name,district,lines\nN1,一站,天河区,-1\nN2,二站,NA,2\nN3,三站,海珠区,100\n"
    response = upload(client, broken.encode())
    assert response.status_code == 400
    report = response.text.split('data-testid="ingest-errors"')[1].split("</table>")[0]
    rows = [text_of(r).split() for r in report.split("<tr>")[2:]]
    assert [r[:2] for r in rows] == [["2", "lines"], ["3", "district"], ["4", "lines"]]
    assert "取值不符合字段约束" in report and "必填字段为空" in report and "below the minimum 0" in report
    assert stop_ids(client) == ["S001", "S002", "S003"]
    fine = "stop_id,name,district,lines\nN1,一站,天河区,NA\nN2,—,越秀区,2\n"
    assert upload(client, fine.encode()).status_code == 303
    items = client.get("/api/v1/datasets/bus-stops/resources/stops/rows").json()["items"]
    assert [(i["stop_id"], i["name"], i["lines"]) for i in items] == [("N1", "一站", None), ("N2", None, 2)]


def test_the_workspace_proposes_a_data_dictionary_for_a_new_table(client: TestClient, database_url: str) -> None:
    anonymous = post_form(client, "/publisher/infer", files={"file": ("a.csv", b"a\n1\n", "text/csv")})
    assert anonymous.status_code in (303, 401, 403)
    make_staff(database_url, "clerk", "publisher", "gz-transport")
    sign_in(client, "clerk")
    assert 'action="/publisher/infer"' in client.get("/publisher").text
    csv = "线路编号,线路名称 / Line name,票价 / Fare\n0001,一号线,2\n0002,二号线,NA\n".encode("gb18030")
    response = post_form(client, "/publisher/infer", files={"file": ("lines.csv", csv, "text/csv")})
    assert response.status_code == 200, response.text
    page = text_of(response.text)
    assert "lines.csv" in page and "2 行" in page and "gb18030" in page and "NA" in page
    assert "line_name" in page and "线路名称 / Line name" in page
    manifest = response.text.split('data-testid="infer-manifest">')[1].split("</pre>")[0]
    assert "primary_key = &#34;field_1&#34;" in manifest or 'primary_key = "field_1"' in manifest
    bad = post_form(client, "/publisher/infer", files={"file": ("lines.pdf", b"%PDF", "application/pdf")})
    assert bad.status_code == 400 and "只支持 .csv 和 .xlsx 文件" in bad.text


def test_the_rules_are_published_in_the_api_and_the_data_package(client: TestClient) -> None:
    resource = client.get("/api/v1/datasets/bus-stops").json()["resources"][0]
    assert resource["missing_values"] == ["", "NA", "—"]
    fields = {f["name"]: f for f in resource["fields"]}
    assert fields["lines"]["constraints"] == {"minimum": 0, "maximum": 99}
    assert fields["district"]["constraints"] == {"required": True} and fields["name"]["constraints"] is None
    package = client.get("/dataset/bus-stops/datapackage.json").json()
    schema = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert schema["lines"]["constraints"] == {"minimum": 0, "maximum": 99}
    assert schema["stop_id"]["constraints"] == {"required": True, "unique": True}
    # The served CSV writes NULL as an empty cell, whatever the markers of the ingested file.
    assert package["resources"][0]["schema"]["missingValues"] == [""]
