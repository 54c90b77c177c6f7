"""`opendata catalogue infer` and POST /api/v1/catalogue/infer propose a manifest from files."""

from __future__ import annotations

import codecs
import io
import os
import tomllib
from pathlib import Path

from click.testing import CliRunner
from litestar.testing import TestClient
from openpyxl import Workbook

from opendata.cli import main
from tests.access.helpers import make_staff, sign_in
from tests.catalogue.test_field_rules import FLIGHT_ROWS, flights_csv

STOPS = "站点编号,站点名称 / Stop name,Lines,开通日期,Fare,Code\nS001,天河,12,2020-01-01,2.5,0101\nS002,越秀,NA,2021/02/03,NA,0102\nS003,海珠,7,2022-01-01,3,0101\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def fill_todos(text: str) -> str:
    return text.replace('domain = "TODO"', 'domain = "transport"').replace('licence = "TODO"', 'licence = "cc-by-4.0"')


def test_infer_proposes_types_titles_keys_and_markers_and_the_result_loads(tmp_path: Path, database_url: str) -> None:
    content, cancelled = flights_csv()
    (tmp_path / "data").mkdir()
    (tmp_path / "data/flights.csv").write_text(content, encoding="utf-8")
    previous = os.getcwd()
    os.chdir(tmp_path)  # paths as typed are relative to the manifest's folder
    try:
        result = CliRunner().invoke(main, ["catalogue", "infer", "data/flights.csv", "--out", "catalogue.toml"],
                                    catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "catalogue.toml").read_text(encoding="utf-8")
    assert f"flights.csv: {FLIGHT_ROWS:,} rows, csv, encoding utf-8; primary key candidates: flight" in text
    assert "missing-value markers seen: NA" in text
    resource = tomllib.loads(text)["datasets"][0]["resources"][0]
    assert resource["path"] == "data/flights.csv" and resource["missing_values"] == ["", "NA"]
    assert resource["primary_key"] == "flight"
    types = {f["name"]: f["type"] for f in resource["fields"]}
    assert types == {"year": "integer", "month": "integer", "day": "integer", "dep_time": "integer",
                     "dep_delay": "integer", "arr_time": "integer", "arr_delay": "integer", "carrier": "string",
                     "flight": "integer", "tailnum": "string", "origin": "string", "dest": "string",
                     "air_time": "integer", "distance": "integer", "time_hour": "datetime"}
    assert run("catalogue", "validate", str(tmp_path)).exit_code == 1  # the TODOs are the publisher's
    (tmp_path / "catalogue.toml").write_text(fill_todos(text), encoding="utf-8")
    loaded = run("--database-url", database_url, "catalogue", "load", str(tmp_path))
    assert loaded.exit_code == 0, loaded.output


def test_infer_reads_gbk_and_bom_csv_and_xlsx_to_stdout(tmp_path: Path) -> None:
    (tmp_path / "gbk.csv").write_bytes(STOPS.encode("gb18030"))
    (tmp_path / "bom.csv").write_bytes(codecs.BOM_UTF8 + STOPS.encode("utf-8"))
    book = Workbook()
    for row in STOPS.splitlines():
        book.active.append([int(c) if c.isdigit() and not c.startswith("0") else c for c in row.split(",")])
    book.save(tmp_path / "stops.xlsx")
    result = run("catalogue", "infer", str(tmp_path / "gbk.csv"), str(tmp_path / "bom.csv"), str(tmp_path / "stops.xlsx"))
    assert result.exit_code == 0, result.output
    assert "# gbk.csv: 3 rows, csv, encoding gb18030" in result.output
    assert "# bom.csv: 3 rows, csv, encoding utf-8-sig" in result.output
    assert "# stops.xlsx: 3 rows, xlsx;" in result.output
    manifest = tomllib.loads(result.output[result.output.index("\n\n"):])
    gbk, bom, xlsx = manifest["datasets"][0]["resources"]
    assert [r["id"] for r in (gbk, bom, xlsx)] == ["gbk", "bom", "stops"]
    for resource in (gbk, bom, xlsx):
        fields = resource["fields"]
        assert [f["title_zh"] for f in fields] == ["站点编号", "站点名称", "Lines", "开通日期", "Fare", "Code"]
        assert fields[1]["name"] == "stop_name" and fields[1]["title_en"] == "Stop name"
        assert fields[0]["name"] == "field_1"  # a Chinese header gets a placeholder name
        assert [f["type"] for f in fields] == ["string", "string", "integer", "date", "decimal", "string"]
        assert resource["primary_key"] == "field_1" and resource["missing_values"] == ["", "NA"]
        assert fields[0].get("required") is True and "required" not in fields[2]


def test_infer_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    result = CliRunner().invoke(main, ["catalogue", "infer", str(tmp_path / "notes.txt")])
    assert result.exit_code == 1 and "infer reads .csv and .xlsx files" in result.output
    (tmp_path / "utf16.csv").write_bytes(STOPS.encode("utf-16"))
    result = CliRunner().invoke(main, ["catalogue", "infer", str(tmp_path / "utf16.csv")])
    assert result.exit_code == 1 and "UTF-16" in result.output


def test_the_infer_api_is_for_publishers(client: TestClient, database_url: str) -> None:
    files = [("file", ("gbk.csv", STOPS.encode("gb18030"), "text/csv")),
             ("file", ("second.csv", b"id,amount\n1,NA\n2,3.5\n", "text/csv"))]
    anonymous = client.post("/api/v1/catalogue/infer", files=files)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"]
    make_staff(database_url, "clerk", "publisher", publisher_id="gz-transport")
    clerk = sign_in(client, "clerk")
    response = client.post("/api/v1/catalogue/infer", files=files, headers=clerk)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [f["encoding"] for f in body["files"]] == ["gb18030", "utf-8"]
    assert body["files"][1]["primary_key_candidates"] == ["id"] and body["files"][1]["missing_values_seen"] == ["NA"]
    assert [f["type"] for f in body["resources"][1]["fields"]] == ["integer", "decimal"]
    assert tomllib.loads(body["manifest"].split("\n\n", 1)[1])["datasets"][0]["resources"] == body["resources"]
    bad = client.post("/api/v1/catalogue/infer", files=[("file", ("x.csv", "a\n".encode("utf-16"), "text/csv"))],
                      headers=clerk)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_encoding"
    wrong = client.post("/api/v1/catalogue/infer", files=[("file", ("x.pdf", b"%PDF", "application/pdf"))],
                        headers=clerk)
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "unsupported_file"
    none = client.post("/api/v1/catalogue/infer", files=[("other", ("a.csv", b"a\n1\n", "text/csv"))], headers=clerk)
    assert none.status_code == 400 and none.json()["error"]["code"] == "missing_file"
