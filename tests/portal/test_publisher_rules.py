"""Publisher uploads obey the data dictionary: primary keys, constraints, missing markers."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.portal.helpers import make_staff, post_form, sign_in, text_of
from tests.portal.test_publisher import tables


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
