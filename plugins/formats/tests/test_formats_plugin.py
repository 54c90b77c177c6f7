"""opendata-formats through the HTTP API (TestClient): Parquet, GeoJSON and XML downloads
with the core's filters, masks, licence checks and streaming; .xls catalogue resources and
uploads; the formats listed by the portal, the dataset JSON, CKAN, DCAT and OpenAPI."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import xlwt
from argon2 import PasswordHasher
from litestar.testing import TestClient

from opendata import create_app
from opendata.access import passwords
from opendata.formats import Column
from opendata.settings import Settings
from opendata_formats.geojson import wkt_geometry
from opendata_formats.parquet import export_parquet
from tests.access.helpers import bearer, licensed_enterprise
from tests.factories import DATA, manifest, write_catalogue
from tests.portal.helpers import make_staff, post_form, sign_in, sign_out

STOPS = "/api/v1/datasets/bus-stops/resources/stops"
PLACES = "/api/v1/datasets/places/resources/points"
HEADCOUNT = "/api/v1/datasets/si-headcount/resources/monthly/download"
NS = "{urn:opendata:rows}"


def _field(name: str, title: str, kind: str, **more: str) -> dict[str, str]:
    return {"name": name, "title_zh": title, "type": kind, **more}


def _dataset(dataset_id: str, resource: dict) -> dict:
    return {"id": dataset_id, "title_zh": dataset_id, "description_zh": "测试。", "domain": "urban",
            "publisher": "gz-transport", "open_level": "unconditional", "update_frequency": "static",
            "licence": "gz-open-data-1.0", "version": "1", "resources": [resource]}


def write_xls(path: Path, rows: list[list[object]]) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("数据")
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value, dates) if isinstance(value, datetime) else sheet.write(r, c, value)
    book.save(str(path))


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    root = tmp_path_factory.mktemp("formats")
    raw = manifest()
    raw["datasets"] += [
        _dataset("places", {"id": "points", "title_zh": "点位", "format": "csv", "path": "data/places.csv", "fields": [
            _field("name", "名称", "string"), _field("lon", "经度", "number"), _field("lat", "纬度", "number"),
            _field("kind", "类别", "string")]}),
        _dataset("hidden-places", {"id": "points", "title_zh": "点位", "format": "csv", "path": "data/places.csv",
                                   "fields": [_field("name", "名称", "string"),
                                              _field("lon", "经度", "number", mask="keep_first:3"),
                                              _field("lat", "纬度", "number", mask="keep_first:2"),
                                              _field("kind", "类别", "string")]}),
        _dataset("roads", {"id": "lines", "title_zh": "道路", "format": "csv", "path": "data/roads.csv", "fields": [
            _field("road", "道路", "string"), _field("geometry", "几何", "string")]}),
        _dataset("counts", {"id": "daily", "title_zh": "客流", "format": "xls", "path": "data/counts.xls", "fields": [
            _field("day", "日期", "date"), _field("station", "站点", "string"), _field("riders", "人次", "integer"),
            _field("share", "占比", "decimal"), _field("open", "开放", "boolean")]}),
    ]
    data = {**DATA,
            "data/places.csv": "name,lon,lat,kind\n广州塔,113.3245,23.1064,景点\n无坐标,,,其他\n白云山,113.2990,23.1840,公园\n",
            "data/roads.csv": 'road,geometry\n环市路,"LINESTRING (113.27 23.13, 113.30 23.14)"\n'
                              '公园,"POLYGON ((113.1 23.1, 113.2 23.1, 113.2 23.2, 113.1 23.1))"\n坏,POINT (abc)\n'}
    folder = write_catalogue(root / "cat", raw, data)
    write_xls(folder / "data" / "counts.xls", [
        ["日期", "站点", "人次", "占比", "开放"],
        [datetime(2024, 5, 1), "体育西路", 12345, 0.25, True],
        [datetime(2024, 5, 2), "公园前", 9876, 0.125, False],
    ])
    url = f"sqlite:///{root / 'opendata.db'}"
    settings = Settings(data_dir=root / "data", database_url=url, catalogues=(folder,), secure_cookies=False,
                        plugins=("formats",))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with TestClient(create_app(settings)) as client:
            yield client, url


def test_parquet_is_filtered_typed_and_written_by_row_group(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    response = client.get(f"{STOPS}/download", params={"format": "parquet", "row_group_rows": "1"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    assert ".parquet" in response.headers["content-disposition"]
    parquet = pq.ParquetFile(io.BytesIO(response.content))
    assert parquet.metadata.num_row_groups == 3
    table = parquet.read()
    assert table.column_names == ["stop_id", "name", "district", "lines"]
    assert str(table.schema.field("lines").type) == "int64"
    assert table.schema.field("name").metadata[b"title_zh"] == "站点名称".encode()
    assert table.column("name").to_pylist() == ["天河客运站", "北京路, 步行街", "番禺广场"]
    filtered = client.get(f"{STOPS}/download", params={"format": "parquet", "district": "天河区", "fields": "stop_id"})
    assert pq.read_table(io.BytesIO(filtered.content)).to_pylist() == [{"stop_id": "S001"}]
    bad = client.get(f"{STOPS}/download", params={"format": "parquet", "row_group_rows": "0"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"


def test_parquet_streams_one_row_group_at_a_time() -> None:
    consumed = 0

    def rows() -> Iterator[tuple[int]]:
        nonlocal consumed
        for i in range(50_000):
            consumed += 1
            yield (i,)

    chunks = export_parquet([Column("n", "序号", None, "integer")], rows(), row_group_rows=1000)
    first, second = next(chunks), next(chunks)
    assert first.startswith(b"PAR1") and second and consumed <= 2001  # never the whole table at once
    rest = b"".join(chunks)
    assert consumed == 50_000 and rest.endswith(b"PAR1")
    assert pq.ParquetFile(io.BytesIO(first + second + rest)).metadata.num_row_groups == 50


def test_geojson_points_and_wkt_geometries(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    points = client.get(f"{PLACES}/download", params={"format": "geojson", "kind": "景点"})
    assert points.status_code == 200 and points.headers["content-type"] == "application/geo+json"
    assert points.json() == {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.3245, 23.1064]},
         "properties": {"name": "广州塔", "kind": "景点"}}]}
    every = client.get(f"{PLACES}/download", params={"format": "geojson"}).json()["features"]
    assert [f["geometry"] is None for f in every] == [False, True, False]
    roads = client.get("/api/v1/datasets/roads/resources/lines/download", params={"format": "geojson"}).json()
    assert [f["geometry"]["type"] if f["geometry"] else None for f in roads["features"]] == [
        "LineString", "Polygon", None]
    assert wkt_geometry("MULTIPOINT ((1 2), (3 4))") == {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}
    assert wkt_geometry("POINT Z (1 2 3)") == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert wkt_geometry("POLYGON ((1 2, 3 4)") is None


def test_geojson_needs_unmasked_coordinates(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    hidden = client.get("/api/v1/datasets/hidden-places/resources/points/download", params={"format": "geojson"})
    assert hidden.status_code == 400 and hidden.json()["error"]["code"] == "format_not_supported"
    assert "113.3245" not in hidden.text
    no_place = client.get(f"{STOPS}/download", params={"format": "geojson"})
    assert no_place.status_code == 400 and no_place.json()["error"]["code"] == "format_not_supported"
    page = client.get("/datasets/hidden-places").text
    assert 'data-format="download.parquet"' in page and 'data-format="download.geojson"' not in page


def test_xml_rows(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    response = client.get(f"{STOPS}/download", params={"format": "xml", "sort": "-lines"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}rows"
    rows = [{child.tag.removeprefix(NS): child.text for child in row} for row in root]
    assert rows[0] == {"stop_id": "S001", "name": "天河客运站", "district": "天河区", "lines": "12"}
    assert rows[1]["name"] == "北京路, 步行街"
    empty = ET.fromstring(client.get(f"{PLACES}/download", params={"format": "xml"}).content)
    nil = empty[1].find(f"{NS}lon")
    assert nil is not None and nil.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


def test_a_licensed_resource_is_refused_without_its_token_in_every_new_format(portal: tuple[TestClient, str]) -> None:
    client, url = portal
    for fmt in ("parquet", "xml", "geojson"):  # geojson: the guard answers before the columns are looked at
        refused = client.get(HEADCOUNT, params={"format": fmt})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "licence_required", fmt
        assert b"91440101" not in refused.content
    licensed = licensed_enterprise(client, url, username="parquet-co")
    token = licensed.token(client)
    client.cookies.clear()
    response = client.get(HEADCOUNT, params={"format": "parquet"}, headers=bearer(token))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert pq.read_table(io.BytesIO(response.content)).column_names == ["month", "headcount"]  # licensed fields only
    outside = client.get(HEADCOUNT, params={"format": "xml", "fields": "credit_code"}, headers=bearer(token))
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "field_not_licensed"
    # An attacker holding a real token: a filter or sort on an unlicensed field (which would
    # tell its values row by row), and a closed dataset, in the plugin's formats.
    for params in ({"format": "parquet", "credit_code": "91440101"}, {"format": "xml", "sort": "credit_code"},
                   {"format": "parquet", "row_group_rows": "1", "credit_code__contains": "9"}):
        probed = client.get(HEADCOUNT, params=params, headers=bearer(token))
        assert probed.status_code == 403 and probed.json()["error"]["code"] == "field_not_licensed", params
    closed = client.get("/api/v1/datasets/personal-si-base/resources/bases/download", params={"format": "parquet"},
                        headers=bearer(token))
    assert closed.status_code == 403 and closed.json()["error"]["code"] == "closed_dataset"


@pytest.mark.parametrize("raw", ["²", "٣", "9" * 5000, "-1", "0", "100001", "1e3", " 5", "５"])
def test_a_hostile_row_group_size_is_a_400(portal: tuple[TestClient, str], raw: str) -> None:
    client, _ = portal
    answer = client.get(f"{PLACES}/download", params={"format": "parquet", "row_group_rows": raw})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_parameter", answer.text


def test_masked_fields_stay_masked_in_every_new_format(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    path = "/api/v1/datasets/hidden-places/resources/points/download"
    table = pq.read_table(io.BytesIO(client.get(path, params={"format": "parquet"}).content))
    assert str(table.schema.field("lon").type) == "string"  # masked: served as text
    assert table.column("lon").to_pylist()[0] != "113.3245" and "113.3245" not in str(table.to_pylist())
    xml = client.get(path, params={"format": "xml"}).text
    assert "<name>广州塔</name>" in xml and "113.3245" not in xml and "23.1064" not in xml


def test_an_xls_resource_is_ingested_and_served(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    rows = client.get("/api/v1/datasets/counts/resources/daily/rows").json()
    assert rows["items"] == [
        {"day": "2024-05-01", "station": "体育西路", "riders": 12345, "share": 0.25, "open": True},
        {"day": "2024-05-02", "station": "公园前", "riders": 9876, "share": 0.125, "open": False}]
    table = pq.read_table(io.BytesIO(client.get("/api/v1/datasets/counts/resources/daily/download",
                                                params={"format": "parquet"}).content))
    assert str(table.schema.field("share").type) == "decimal128(38, 10)" and table.num_rows == 2


def test_a_publisher_uploads_an_xls_file(portal: tuple[TestClient, str], tmp_path: Path) -> None:
    client, url = portal
    make_staff(url, "clerk-xls", "publisher", "gz-transport")
    sign_in(client, "clerk-xls")
    form = client.get("/publisher/datasets/bus-stops").text
    assert 'accept=".csv,.xlsx,.xls"' in form
    workbook = tmp_path / "stops.xls"
    write_xls(workbook, [["站点编号", "站点名称", "所属区", "线路数"], ["X1", "新站", "海珠区", 3]])
    response = post_form(client, "/publisher/datasets/bus-stops/resources/stops/upload",
                         files={"file": ("stops.xls", workbook.read_bytes(), "application/vnd.ms-excel")})
    assert response.status_code == 303 and "notice=upload_done" in response.headers["location"], response.text
    bad = post_form(client, "/publisher/datasets/bus-stops/resources/stops/upload",
                    files={"file": ("stops.xls", b"not a workbook", "application/vnd.ms-excel")})
    assert bad.status_code == 400 and "Excel 97-2003" in bad.text
    sign_out(client)
    rows = client.get(f"{STOPS}/rows").json()["items"]
    assert rows == [{"stop_id": "X1", "name": "新站", "district": "海珠区", "lines": 3}]


def _damaged_workbooks(count: int) -> Iterator[bytes]:
    """A valid .xls cut short or with bytes overwritten, the same ones on every run."""
    import random

    book = xlwt.Workbook()
    sheet = book.add_sheet("s")
    for r in range(200):
        for c in range(5):
            sheet.write(r, c, f"v{r}-{c}" if c else r)
    out = io.BytesIO()
    book.save(out)
    whole = out.getvalue()
    rng = random.Random(1)
    for n in range(count):
        damaged = bytearray(whole)
        if n % 3 == 0:
            damaged = damaged[:rng.randrange(len(damaged))]
        else:
            for _ in range(rng.randrange(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        yield bytes(damaged)


def test_a_damaged_xls_is_a_format_error_never_a_crash(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from opendata.formats import FormatError
    from opendata.formats.limits import ReadLimits
    from opendata_formats.xls import XlsTable

    outcomes: dict[str, int] = {}
    for n, data in enumerate(_damaged_workbooks(300)):
        path = tmp_path / f"{n}.xls"
        path.write_bytes(data)
        try:
            for _ in XlsTable(path, None, ReadLimits()):
                pass
            outcome = "read"
        except FormatError as error:
            outcome = "damaged" if "damaged:" in error.message else error.code
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert set(outcomes) <= {"read", "damaged", "invalid_xls", "too_many_rows", "too_many_columns", "ragged_row",
                             "invalid_value", "empty_file", "cell_too_long", "too_many_sheets"}, outcomes
    assert outcomes.get("damaged", 0) >= 10, outcomes  # xlrd's own exceptions, which were 500s
    assert "OLE2" not in capfd.readouterr().out  # xlrd's warnings are not printed to stdout


def test_a_publisher_uploading_a_damaged_xls_gets_a_400(portal: tuple[TestClient, str], tmp_path: Path) -> None:
    from opendata.formats import FormatError
    from opendata.formats.limits import ReadLimits
    from opendata_formats.xls import XlsTable

    client, url = portal
    chosen = []
    for n, data in enumerate(_damaged_workbooks(300)):
        path = tmp_path / f"{n}.xls"
        path.write_bytes(data)
        try:
            list(XlsTable(path, None, ReadLimits()))
        except FormatError as error:
            if "damaged:" in error.message:
                chosen.append(data)
        if len(chosen) == 3:
            break
    make_staff(url, "clerk-damaged", "publisher", "gz-transport")
    sign_in(client, "clerk-damaged")
    try:
        for data in chosen:
            answer = post_form(client, "/publisher/datasets/bus-stops/resources/stops/upload",
                               files={"file": ("stops.xls", data, "application/vnd.ms-excel")})
            assert answer.status_code == 400 and "Excel 97-2003" in answer.text, answer.status_code
    finally:
        sign_out(client)


def test_the_formats_are_listed_everywhere(portal: tuple[TestClient, str]) -> None:
    client, _ = portal
    page = client.get("/datasets/places").text
    for fmt in ("parquet", "geojson", "xml"):
        assert f'data-format="download.{fmt}"' in page
    downloads = client.get("/api/v1/datasets/places").json()["resources"][0]["downloads"]
    assert [d["format"] for d in downloads] == ["csv", "xlsx", "json", "ndjson", "parquet", "geojson", "xml"]
    package = client.get("/api/3/action/package_show", params={"id": "places"}).json()["result"]
    assert [r["format"] for r in package["resources"]] == ["CSV", "XLSX", "JSON", "NDJSON", "PARQUET", "GEOJSON", "XML"]
    turtle = client.get("/catalog.ttl").text
    assert "file-type/PARQUET" in turtle and "application/geo+json" in turtle
    schema = client.get("/schema/openapi.json").json()
    download = schema["paths"]["/api/v1/datasets/{dataset_id}/resources/{resource_id}/download"]["get"]
    enum = next(p for p in download["parameters"] if p["name"] == "format")["schema"]["enum"]
    assert {"parquet", "geojson", "xml"} <= set(enum)
