"""Real-world ingest through the CLI: missing-value markers, field constraints, primary keys."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import create_engine, text

from opendata.catalogue.commands import read_catalogue
from opendata.catalogue.excel import read_workbook, write_workbook
from opendata.cli import main
from tests.factories import DATA, manifest, write_catalogue

FLIGHT_FIELDS = [
    ("year", "integer"), ("month", "integer"), ("day", "integer"), ("dep_time", "integer"),
    ("dep_delay", "number"), ("arr_time", "integer"), ("arr_delay", "number"), ("carrier", "string"),
    ("flight", "integer"), ("tailnum", "string"), ("origin", "string"), ("dest", "string"),
    ("air_time", "number"), ("distance", "integer"), ("time_hour", "datetime"),
]
FLIGHT_ROWS = 3000


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def flights_csv(rows: int = FLIGHT_ROWS, seed: int = 13) -> tuple[str, int]:
    """Rows in the style of nycflights13 'flights', where R wrote NA for a missing value
    (cancelled flights have no times; some aircraft no tail number)."""
    rng = random.Random(seed)
    lines = [",".join(name for name, _ in FLIGHT_FIELDS)]
    cancelled = 0
    for n in range(rows):
        month, day, hour = rng.randint(1, 12), rng.randint(1, 28), rng.randint(5, 22)
        is_cancelled = rng.random() < 0.03
        cancelled += is_cancelled
        na = "NA"
        dep_time = na if is_cancelled else str(hour * 100 + rng.randint(0, 59))
        times = [na] * 4 if is_cancelled else [
            str(rng.randint(-10, 120)), str(hour * 100 + 200 + rng.randint(0, 59)), str(rng.randint(-30, 150)),
            str(rng.randint(30, 600))]
        tailnum = na if is_cancelled and rng.random() < 0.5 else f"N{rng.randint(100, 999)}UA"
        lines.append(",".join([
            "2013", str(month), str(day), dep_time, times[0], times[1], times[2], rng.choice(["UA", "AA", "B6"]),
            str(1000 + n), tailnum, rng.choice(["JFK", "LGA", "EWR"]), rng.choice(["ORD", "ATL", "LAX"]),
            times[3], str(rng.randint(200, 2500)), f"2013-{month:02d}-{day:02d} {hour:02d}:00:00",
        ]))
    return "\n".join(lines) + "\n", cancelled


def flights_manifest(**resource: Any) -> dict[str, Any]:
    raw = manifest()
    dataset = copy.deepcopy(raw["datasets"][0])
    dataset.update(id="flights", title_zh="纽约航班", resources=[{
        "id": "flights", "title_zh": "航班", "format": "csv", "path": "data/flights.csv",
        "fields": [{"name": name, "title_zh": name, "type": kind} for name, kind in FLIGHT_FIELDS],
        **resource,
    }])
    raw["datasets"] = [dataset]
    return raw


def query(database_url: str, sql: str) -> Any:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            table = connection.execute(text(
                "select table_name from resources where dataset_id = 'flights'")).scalar()
            return connection.execute(text(sql.format(table=table))).all()
    finally:
        engine.dispose()


def test_na_markers_make_a_real_export_load(tmp_path: Path, database_url: str) -> None:
    content, cancelled = flights_csv()
    refused = write_catalogue(tmp_path / "plain", flights_manifest(), {"data/flights.csv": content})
    result = run("catalogue", "validate", str(refused))
    assert result.exit_code == 1
    assert "flights.csv:" in result.output and "field 'dep_time'" in result.output and "'NA'" in result.output

    raw = flights_manifest(missing_values=["", "NA"])
    folder = write_catalogue(tmp_path / "flights", raw, {"data/flights.csv": content})
    assert run("catalogue", "validate", str(folder)).exit_code == 0
    loaded = run("--database-url", database_url, "catalogue", "load", str(folder))
    assert loaded.exit_code == 0, loaded.output
    counts = query(database_url, "select count(*), count(dep_time), count(air_time) from {table}")[0]
    assert tuple(counts) == (FLIGHT_ROWS, FLIGHT_ROWS - cancelled, FLIGHT_ROWS - cancelled)
    assert query(database_url, "select count(*) from {table} where tailnum = 'NA'")[0][0] == 0


def test_markers_inherit_from_the_catalogue_and_a_field_may_override(tmp_path: Path, database_url: str) -> None:
    content, cancelled = flights_csv(200)
    raw = flights_manifest()
    raw["catalogue"]["missing_values"] = ["", "NA", "—", "无"]
    tail = next(f for f in raw["datasets"][0]["resources"][0]["fields"] if f["name"] == "tailnum")
    tail["missing_values"] = [""]  # for this field "NA" is text
    folder = write_catalogue(tmp_path / "inherit", raw, {"data/flights.csv": content})
    loaded = run("--database-url", database_url, "catalogue", "load", str(folder))
    assert loaded.exit_code == 0, loaded.output
    assert query(database_url, "select count(dep_time) from {table}")[0][0] == 200 - cancelled
    assert query(database_url, "select count(*) from {table} where tailnum = 'NA'")[0][0] > 0
    # Changing only the markers reingests the unchanged file.
    tail["missing_values"] = ["", "NA"]
    write_catalogue(folder, raw, {"data/flights.csv": content})
    again = run("--database-url", database_url, "catalogue", "load", str(folder))
    assert "1 updated" in again.output and "1 tables ingested" in again.output
    assert query(database_url, "select count(*) from {table} where tailnum = 'NA'")[0][0] == 0


def test_markers_apply_to_xlsx_cells(tmp_path: Path, database_url: str) -> None:
    raw = manifest()
    stops = raw["datasets"][0]["resources"][0]
    stops.update(path="data/stops.xlsx", format="xlsx", missing_values=["—", "无", "N/A"])
    folder = write_catalogue(tmp_path / "xlsx", raw, {k: v for k, v in DATA.items() if k != "data/stops.csv"})
    book = Workbook()
    book.active.append(["stop_id", "name", "district", "lines"])
    book.active.append(["S1", "一站", "—", "无"])
    book.active.append(["S2", "二站", "天河区", " N/A "])
    book.active.append(["S3", "三站", "越秀区", 4])
    book.save(folder / "data/stops.xlsx")
    loaded = run("--database-url", database_url, "catalogue", "load", str(folder))
    assert loaded.exit_code == 0, loaded.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        table = connection.execute(text("select table_name from resources where id = 'stops'")).scalar()
        rows = connection.execute(text(f"select stop_id, district, lines from {table} order by stop_id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("S1", None, None), ("S2", "天河区", None), ("S3", "越秀区", 4)]


def constrained() -> dict[str, Any]:
    raw = manifest()
    fields = raw["datasets"][0]["resources"][0]["fields"]
    by_name = {f["name"]: f for f in fields}
    by_name["stop_id"].update(pattern="S[0-9]{3}", min_length=4, max_length=4)
    by_name["name"].update(required=True, unique=True)
    by_name["district"].update(enum=["天河区", "越秀区", "番禺区"])
    by_name["lines"].update(minimum=1, maximum=50)
    return raw


def test_constraints_are_checked_with_file_row_and_column(tmp_path: Path) -> None:
    good = write_catalogue(tmp_path / "good", constrained())
    assert run("catalogue", "validate", str(good)).exit_code == 0
    data = dict(DATA)
    data["data/stops.csv"] = (
        "stop_id,name,district,lines\n"
        "S001,一站,天河区,12\n"
        "X2,二站,越秀区,8\n"      # pattern and length
        "S003,,番禺区,5\n"        # required
        "S004,四站,白云区,5\n"    # enum
        "S005,五站,天河区,0\n"    # minimum
        "S006,一站,天河区,51\n"   # maximum and a duplicate of a unique field
    )
    bad = write_catalogue(tmp_path / "bad", constrained(), data)
    result = run("catalogue", "validate", str(bad))
    assert result.exit_code == 1
    out = result.output
    assert "stops.csv:3, dataset 'bus-stops', resource 'stops', field 'stop_id': does not match the pattern" in out
    assert "stops.csv:4, dataset 'bus-stops', resource 'stops', field 'name': the field is required" in out
    assert "stops.csv:5" in out and "not one of the allowed values" in out and "'白云区'" in out
    assert "stops.csv:6" in out and "below the minimum 1" in out
    assert "stops.csv:7" in out and "above the maximum 50" in out
    # A row with a broken rule is not counted again for uniqueness; fix it and the duplicate shows.
    data["data/stops.csv"] = "stop_id,name,district,lines\nS001,一站,天河区,12\nS006,一站,天河区,5\n"
    dup = write_catalogue(tmp_path / "dup", constrained(), data)
    result = run("catalogue", "validate", str(dup))
    assert result.exit_code == 1
    assert "stops.csv:3" in result.output and "field 'name' must be unique; '一站' is on 2 rows: lines 2, 3" in result.output


def test_a_duplicate_or_empty_primary_key_fails_the_load_and_writes_nothing(tmp_path: Path, database_url: str) -> None:
    data = dict(DATA)
    data["data/stops.csv"] = "stop_id,name,district,lines\nS1,a,b,1\nS2,a,b,2\nS1,c,d,3\n,e,f,4\n"
    folder = write_catalogue(tmp_path / "dup", manifest(), data)
    result = run("--database-url", database_url, "catalogue", "load", str(folder))
    assert result.exit_code == 1
    assert "stops.csv:5" in result.output and "primary key needs a value" in result.output
    data["data/stops.csv"] = "stop_id,name,district,lines\nS1,a,b,1\nS2,a,b,2\nS1,c,d,3\n"
    folder = write_catalogue(tmp_path / "dup2", manifest(), data)
    result = run("--database-url", database_url, "catalogue", "load", str(folder))
    assert result.exit_code == 1
    assert "stops.csv:4" in result.output and "primary key 'stop_id' must be unique; 'S1' is on 2 rows: lines 2, 4" in result.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from datasets")).scalar() == 0
    engine.dispose()


def test_bad_rules_in_a_manifest_get_clear_errors(tmp_path: Path) -> None:
    raw = manifest()
    raw["catalogue"]["missing_values"] = "NA;NA"
    fields = {f["name"]: f for f in raw["datasets"][0]["resources"][0]["fields"]}
    fields["stop_id"].update(minimum=3, pattern="S[0-9", required="yes")
    fields["lines"].update(minimum="many", max_length=3, enum=[1, "two"])
    fields["name"].update(min_length=5, max_length=2, missing_values=[1])
    raw["datasets"][0]["resources"][0]["missing_values"] = ["NA"]
    folder = write_catalogue(tmp_path / "bad", raw)
    result = run("catalogue", "validate", str(folder))
    assert result.exit_code == 1
    out = result.output
    assert "key 'missing_values': lists a missing-value marker twice" in out
    assert "field 'stop_id', key 'minimum': minimum applies to integer, decimal, number, date, datetime fields, not string" in out
    assert "field 'stop_id', key 'pattern': 'S[0-9' is not a valid regular expression" in out
    assert "field 'stop_id', key 'required': 'yes' must be true or false" in out
    assert "field 'lines', key 'minimum': minimum: 'many' is not an integer (the field is integer)" in out
    assert "field 'lines', key 'max_length': max_length applies to string fields, not integer" in out
    assert "field 'lines', key 'enum': enum: 'two' is not an integer" in out
    assert "field 'name', key 'max_length': max_length is below min_length" in out
    assert "field 'name', key 'missing_values': missing-value markers must be text" in out
    raw = manifest()
    lines = raw["datasets"][0]["resources"][0]["fields"][3]
    lines.update(minimum=10, maximum=5)
    result = run("catalogue", "validate", str(write_catalogue(tmp_path / "order", raw)))
    assert "field 'lines', key 'maximum': maximum 5 is below minimum 10" in result.output


def test_rules_survive_the_excel_round_trip(tmp_path: Path) -> None:
    raw = constrained()
    raw["catalogue"]["missing_values"] = ["", "NA", "-"]
    raw["datasets"][0]["resources"][0]["missing_values"] = ["", "—", "无"]
    raw["datasets"][1]["resources"][0]["fields"][1].update(minimum=__import__("datetime").date(2020, 1, 1))
    folder = write_catalogue(tmp_path / "rules", raw)
    spec = read_catalogue(folder)
    book = write_workbook(spec, tmp_path / "rules.xlsx")
    again = read_workbook(book, folder=folder)
    assert [r.fields for d in again.datasets for r in d.resources] == [r.fields for d in spec.datasets for r in d.resources]
    assert again.missing_values == ["", "NA", "-"]
    assert again.datasets[0].resources[0].missing_values == ["", "—", "无"]
