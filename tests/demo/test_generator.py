"""The demo catalogue and its generator: manifest, shipped data, determinism, scale, shared codes."""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import re
import tomllib
import tracemalloc
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest
from openpyxl import load_workbook

from opendata.demo import generator, population
from opendata.demo.datasets_enterprise import SI_MONTHS, base_limits
from opendata.demo.datasets_observations import AIR_STATIONS, iaqi, quality_level
from opendata.demo.generator import (
    DEMO_DATASETS,
    field_names,
    csv_cell,
    format_value,
    generate_rows,
    regenerate_demo,
    synthetic_catalogue,
    write_csv,
    write_xlsx,
)
from opendata.demo.identifiers import is_valid_credit_code, is_valid_resident_id

CATALOGUE = Path(__file__).resolve().parents[2] / "catalogues" / "guangzhou-demo"
ENTERPRISE_DATASETS = (
    "enterprise-registrations", "tax-credit-ratings", "social-insurance-headcounts",
    "administrative-penalties", "enterprise-tax-payments",
)
PYTHON_TYPES = {
    "string": str, "integer": int, "decimal": Decimal, "number": float, "boolean": bool,
    "date": date, "datetime": datetime,
}
NULLABLE = {("air-quality-daily", "primary_pollutant"),  # empty when AQI <= 50
            ("air-quality-daily", "so2")}  # NA on the days the analyser is serviced


@pytest.fixture(scope="module")
def manifest() -> dict:
    return tomllib.loads((CATALOGUE / "catalogue.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resources(manifest) -> dict[str, dict]:
    return {ds["id"]: ds["resources"][0] for ds in manifest["datasets"]}


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[dict]]:
    return {d: list(generate_rows(d)) for d in DEMO_DATASETS}


def codes(rows: list[dict], key: str = "credit_code") -> set[str]:
    return {row[key] for row in rows}


# --- the manifest -----------------------------------------------------------------------------

def test_manifest_classifies_and_grades_the_demo(manifest):
    datasets = manifest["datasets"]
    assert manifest["catalogue"]["id"] == "guangzhou-demo"
    assert len(datasets) >= 12
    assert len({d["id"] for d in datasets}) == len(datasets)
    assert len({d["domain"] for d in datasets}) >= 6
    assert {d["open_level"] for d in datasets} == {"unconditional", "conditional", "closed"}
    publishers = {p["id"] for p in manifest["publishers"]}
    assert {d["publisher"] for d in datasets} <= publishers
    for ds in datasets:
        assert ds["title_zh"] and ds["title_en"] and ds["description_zh"] and ds["description_en"]
        assert ds["tags"] and ds["licence"] and ds["version"]
        for resource in ds["resources"]:
            assert (CATALOGUE / resource["path"]).is_file(), resource["path"]
            for f in resource["fields"]:
                assert f["sensitivity"] in {"L1", "L2", "L3", "L4"}
                assert re.fullmatch(r"[a-z][a-z0-9_]{0,62}", f["name"])
    assert any(r["format"] == "xlsx" for d in datasets for r in d["resources"])


def test_manifest_has_the_required_datasets(manifest):
    by_id = {d["id"]: d for d in manifest["datasets"]}
    required = {
        "bus-stops": ("transport", "gz-transport", "unconditional"),
        "medical-institutions": ("health", "gz-health", "unconditional"),
        "schools": ("education", "gz-education", "unconditional"),
        "air-quality-daily": ("environment", "gz-ecology", "unconditional"),
        "enterprise-registrations": ("market", "gz-market", "unconditional"),
        "tax-credit-ratings": ("finance", "gz-tax", "conditional"),
        "social-insurance-headcounts": ("social_security", "gz-hrss", "conditional"),
        "administrative-penalties": ("credit", "gz-market", "conditional"),
        "personal-social-insurance": ("social_security", "gz-hrss", "closed"),
    }
    for dataset_id, (domain, publisher, level) in required.items():
        ds = by_id[dataset_id]
        assert (ds["domain"], ds["publisher"], ds["open_level"]) == (domain, publisher, level)
    others = [d for d in manifest["datasets"] if d["id"] not in required and d["open_level"] == "unconditional"]
    assert len({d["domain"] for d in others} - {"transport", "health", "education", "environment", "market"}) >= 2


def test_manifest_passes_the_catalogue_validator():
    manifest_module = pytest.importorskip("opendata.catalogue.manifest")
    spec = manifest_module.read_manifest(CATALOGUE)
    assert [d.id for d in spec.datasets] == list(DEMO_DATASETS)


def test_subject_keys_and_masks(resources):
    for dataset_id in ENTERPRISE_DATASETS:
        assert resources[dataset_id]["subject_key"] == "credit_code"
    personal = {f["name"]: f for f in resources["personal-social-insurance"]["fields"]}
    assert resources["personal-social-insurance"]["subject_key"] == "id_number"
    assert personal["id_number"]["sensitivity"] == "L4"
    assert personal["id_number"]["mask"] in ("keep_first_last:6:4", "hash")
    assert personal["name"]["mask"] == "keep_first:1"
    registration = {f["name"]: f for f in resources["enterprise-registrations"]["fields"]}
    assert registration["legal_representative"]["mask"] == "keep_first:1"
    assert registration["registered_capital"]["type"] == "decimal"
    assert registration["registered_capital"]["unit"] == "万元"


def test_demo_datasets_are_the_manifest_tables(manifest, resources):
    assert set(DEMO_DATASETS) == {d["id"] for d in manifest["datasets"]}
    for dataset_id in DEMO_DATASETS:
        assert field_names(dataset_id) == [f["name"] for f in resources[dataset_id]["fields"]]


# --- the shipped rows ----------------------------------------------------------------------------

def test_every_row_has_exactly_the_manifest_fields(shipped, resources):
    for dataset_id, rows in shipped.items():
        names = [f["name"] for f in resources[dataset_id]["fields"]]
        assert rows, dataset_id
        for row in rows:
            assert list(row) == names, dataset_id


def test_every_value_has_its_declared_type(shipped, resources):
    for dataset_id, rows in shipped.items():
        types = {f["name"]: PYTHON_TYPES[f["type"]] for f in resources[dataset_id]["fields"]}
        for row in rows:
            for name, value in row.items():
                if value is None:
                    assert (dataset_id, name) in NULLABLE, (dataset_id, name)
                    continue
                expected = types[name]
                assert isinstance(value, expected), (dataset_id, name, value)
                if expected is int:
                    assert not isinstance(value, bool), (dataset_id, name)
                if expected is date:
                    assert not isinstance(value, datetime), (dataset_id, name)


def test_shipped_sizes_are_modest(shipped):
    for dataset_id, rows in shipped.items():
        assert 150 <= len(rows) <= 12_000, (dataset_id, len(rows))
    total = sum(p.stat().st_size for p in (CATALOGUE / "data").iterdir())
    assert total < 5_000_000


def test_every_credit_code_is_valid(shipped, resources):
    for dataset_id, rows in shipped.items():
        code_fields = [f["name"] for f in resources[dataset_id]["fields"] if f["name"].endswith("credit_code")]
        for row in rows:
            for name in code_fields:
                assert is_valid_credit_code(row[name], strict=True), (dataset_id, row[name])


def test_registrations_list_unique_enterprises(shipped):
    rows = shipped["enterprise-registrations"]
    assert len(rows) == 2000
    assert len(codes(rows)) == len(rows)
    assert len({r["enterprise_name"] for r in rows}) == len(rows)
    assert all(r["district"] in {"荔湾区", "越秀区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区",
                                 "花都区", "南沙区", "从化区", "增城区"} for r in rows)


def test_enterprise_datasets_share_one_population(shipped):
    registered = codes(shipped["enterprise-registrations"])
    for dataset_id in ENTERPRISE_DATASETS[1:]:
        used = codes(shipped[dataset_id])
        assert used <= registered, dataset_id
    assert len(codes(shipped["tax-credit-ratings"])) > 1000
    assert len(codes(shipped["social-insurance-headcounts"])) > 500
    # the loan-scoring join: enterprises with a rating, a headcount and a penalty
    both = codes(shipped["tax-credit-ratings"]) & codes(shipped["social-insurance-headcounts"])
    assert len(both) > 300
    assert len(both & codes(shipped["administrative-penalties"])) > 10
    permits = shipped["construction-permits"]
    assert codes(permits, "builder_credit_code") | codes(permits, "contractor_credit_code") <= registered
    names = {r["credit_code"]: r["enterprise_name"] for r in shipped["enterprise-registrations"]}
    for dataset_id in ("tax-credit-ratings", "administrative-penalties", "enterprise-tax-payments"):
        assert all(names[r["credit_code"]] == r["enterprise_name"] for r in shipped[dataset_id])


def test_personal_social_insurance_refers_to_the_same_employers(shipped):
    rows = shipped["personal-social-insurance"]
    employers = codes(rows, "employer_credit_code")
    assert employers <= codes(shipped["enterprise-registrations"])
    assert employers <= codes(shipped["social-insurance-headcounts"])
    people = Counter(r["id_number"] for r in rows)
    assert len(people) == 300
    assert max(people.values()) == len(SI_MONTHS)
    for row in rows:
        assert is_valid_resident_id(row["id_number"])
        low, high = base_limits(row["month"])
        assert low <= row["contribution_base"] <= high
        assert row["pension_personal"] == (row["contribution_base"] * Decimal("0.08")).quantize(Decimal("0.01"))
        assert row["month"] in SI_MONTHS


def test_realistic_distributions(shipped):
    ratings = Counter(r["rating"] for r in shipped["tax-credit-ratings"])
    assert set(ratings) == {"A", "B", "M", "C", "D"}
    assert ratings["B"] > ratings["A"] > ratings["C"] > ratings["D"]
    assert (ratings["A"] + ratings["B"]) / sum(ratings.values()) > 0.7
    last_month = sorted(r["headcount"] for r in shipped["social-insurance-headcounts"]
                        if r["month"] == SI_MONTHS[-1])
    median = last_month[len(last_month) // 2]
    assert median <= 10 and last_month[-1] > 50 * median  # heavy tail
    penalised = codes(shipped["administrative-penalties"])
    assert 0.02 < len(penalised) / 2000 < 0.15  # sparse
    assert all(r["rating"] in "ABMCD" for r in shipped["tax-credit-ratings"])


def test_air_quality_is_one_year_at_eleven_stations_with_a_consistent_aqi(shipped):
    rows = shipped["air-quality-daily"]
    assert len(rows) == len(AIR_STATIONS) * 366
    days = Counter(r["station_id"] for r in rows)
    assert len(days) == 11 and set(days.values()) == {366}
    for r in rows:
        sub = {"PM2.5": iaqi("PM2.5", r["pm25"]), "PM10": iaqi("PM10", r["pm10"]),
               "O3": iaqi("O3", r["o3_8h"]), "NO2": iaqi("NO2", r["no2"]), "CO": iaqi("CO", r["co"])}
        if r["so2"] is not None:  # a day without a reading: the AQI of the other five
            sub["SO2"] = iaqi("SO2", r["so2"])
        assert r["aqi"] == max(sub.values())
        assert r["quality_level"] == quality_level(r["aqi"])
        assert (r["primary_pollutant"] is None) == (r["aqi"] <= 50)
    good = sum(r["quality_level"] in ("优", "良") for r in rows) / len(rows)
    assert 0.75 < good < 0.97
    serviced = sum(r["so2"] is None for r in rows)
    assert 11 * 2 <= serviced <= 11 * 9  # two or three visits of one to three days a station


def test_iaqi_breakpoints():
    assert iaqi("PM2.5", 35) == 50 and iaqi("PM2.5", 75) == 100 and iaqi("PM2.5", 36) == 52
    assert iaqi("O3", 160) == 100 and iaqi("CO", 0.8) == 20
    assert quality_level(50) == "优" and quality_level(101) == "轻度污染" and quality_level(301) == "严重污染"


# --- determinism and scale ---------------------------------------------------------------------------

@pytest.mark.parametrize("dataset_id", DEMO_DATASETS)
def test_same_seed_same_rows_other_seed_other_rows(dataset_id):
    first = list(generate_rows(dataset_id, rows=150, seed=11))
    assert first == list(generate_rows(dataset_id, rows=150, seed=11))
    assert first != list(generate_rows(dataset_id, rows=150, seed=12))
    assert len(first) == 150


def test_default_seed_gives_the_shipped_rows_and_larger_counts_extend_them(shipped):
    for dataset_id, rows in shipped.items():
        assert list(generate_rows(dataset_id, rows=100)) == rows[:100]
        longer = list(generate_rows(dataset_id, rows=len(rows) + 40))
        assert len(longer) == len(rows) + 40
        assert longer[: len(rows)] == rows, dataset_id


@pytest.mark.parametrize("dataset_id", DEMO_DATASETS)
def test_ten_million_rows_are_produced_lazily(dataset_id):
    rows = generate_rows(dataset_id, rows=10_000_000)
    assert inspect.isgenerator(rows)
    assert len(list(islice(rows, 5))) == 5


def test_two_hundred_thousand_rows_in_constant_memory():
    assert sum(1 for _ in generate_rows("agri-wholesale-prices", rows=200_000)) == 200_000

    def peak_while_reading(rows: int) -> int:
        population.enterprise.cache_clear()
        tracemalloc.start()
        try:
            for _ in generate_rows("social-insurance-headcounts", rows=rows):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak_while_reading(1000)  # warm the per-seed lists drawn from the base population
    small, large = peak_while_reading(4_000), peak_while_reading(80_000)
    # twenty times the rows, not twenty times the memory: only the bounded caches grow
    assert large < small + 8_000_000


def test_scaled_enterprise_data_extends_the_same_population():
    registered = list(generate_rows("enterprise-registrations", rows=4000))
    assert len(codes(registered)) == 4000
    assert all(is_valid_credit_code(r["credit_code"], strict=True) for r in registered)
    headcounts = list(generate_rows("social-insurance-headcounts", rows=13_000))
    extra = codes(headcounts) - codes(registered[:2000])
    assert extra, "13,000 headcount rows should reach beyond the base population"
    assert codes(headcounts) <= codes(registered)
    persons = list(generate_rows("personal-social-insurance", rows=5000))
    assert len({r["id_number"] for r in persons}) > 300
    assert codes(persons, "employer_credit_code") <= codes(registered[:2000])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown demo dataset"):
        generate_rows("no-such-dataset")
    with pytest.raises(ValueError):
        generate_rows("bus-stops", rows=-1)
    with pytest.raises(ValueError):
        generate_rows("bus-stops", rows=2.5)  # type: ignore[arg-type]


# --- files ----------------------------------------------------------------------------------------------

def test_committed_files_are_what_the_generator_writes(tmp_path):
    regenerate_demo(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(CATALOGUE) for p in CATALOGUE.rglob("*") if p.is_file())
    assert written == committed
    for relative in written:
        # Compare digests or cell values, not bytes: a failing byte comparison of a
        # megabyte file makes pytest's diff run for many minutes.
        assert _content(tmp_path / relative) == _content(CATALOGUE / relative), (
            f"{relative} drifted from the generator: run python -m opendata.demo.generator"
        )


def _content(path):
    """A file's content for comparison. XLSX bytes depend on how openpyxl serialises XML
    (with lxml or without), so workbooks compare by their cells."""
    if path.suffix == ".xlsx":
        book = load_workbook(path, read_only=True)
        try:
            return hashlib.sha256(repr([
                (sheet.title, list(sheet.iter_rows(values_only=True))) for sheet in book.worksheets
            ]).encode()).hexdigest()
        finally:
            book.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_csv_files_round_trip_to_the_generated_values(shipped, resources):
    for dataset_id, rows in shipped.items():
        resource = resources[dataset_id]
        if resource["format"] != "csv":
            continue
        with open(CATALOGUE / resource["path"], encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))
        assert records[0] == field_names(dataset_id)
        assert len(records) - 1 == len(rows)
        for record, row in zip(records[1:], rows):
            assert record == [csv_cell(dataset_id, name, v) for name, v in row.items()]


def test_csv_quoting_is_exercised():
    raw = (CATALOGUE / "data" / "administrative-penalties.csv").read_text(encoding="utf-8")
    assert '""' in raw                       # an escaped double quote inside a quoted cell
    records = list(csv.reader(io.StringIO(raw, newline="")))
    reasons = [r[6] for r in records[1:]]
    assert any("\n" in r for r in reasons)
    assert any("," in r for r in reasons)
    assert any('"' in r for r in reasons)


def test_the_files_read_back_through_the_project_converters(shipped, resources):
    convert = pytest.importorskip("opendata.formats.convert")
    for dataset_id in ("air-quality-daily", "public-parking", "administrative-penalties", "bus-stops"):
        fields = resources[dataset_id]["fields"]
        converters = [convert.converter_for(f["type"]) for f in fields]
        missing = set(resources[dataset_id].get("missing_values", [""]))
        with open(CATALOGUE / resources[dataset_id]["path"], encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))[1:]
        for record, row in zip(records, shipped[dataset_id]):
            assert [None if cell in missing else c(cell) for c, cell in zip(converters, record)] == list(row.values())


def test_the_xlsx_resource_reads_back(shipped, resources):
    resource = resources["schools"]
    assert resource["format"] == "xlsx"
    workbook = load_workbook(CATALOGUE / resource["path"], read_only=True)
    sheet = workbook.active
    records = list(sheet.iter_rows(values_only=True))
    workbook.close()
    assert list(records[0]) == field_names("schools")
    assert len(records) - 1 == len(shipped["schools"])
    for record, row in zip(records[1:], shipped["schools"]):
        for cell, value in zip(record, row.values()):
            if isinstance(value, Decimal):
                assert Decimal(str(cell)) == value
            elif isinstance(value, date):
                assert cell.date() == value
            else:
                assert cell == value


def test_write_functions(tmp_path):
    assert write_csv("bus-stops", tmp_path / "stops.csv", rows=25) == 25
    text = (tmp_path / "stops.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(field_names("bus-stops"))
    assert len(text.splitlines()) == 26
    assert write_xlsx("air-quality-daily", tmp_path / "a.xlsx", rows=30) == 30
    assert write_xlsx("air-quality-daily", tmp_path / "b.xlsx", rows=30) == 30
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert write_csv("tax-credit-ratings", tmp_path / "r.csv", rows=10, seed=5) == 10


def test_command_line(tmp_path, capsys):
    out = tmp_path / "stops.csv"
    assert generator.main(["--dataset", "bus-stops", "--rows", "10", "--out", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 11
    book = tmp_path / "penalties.xlsx"
    assert generator.main(["--dataset", "administrative-penalties", "--rows", "7", "--format", "xlsx",
                           "--out", str(book)]) == 0
    workbook = load_workbook(book, read_only=True)
    assert len(list(workbook.active.iter_rows(values_only=True))) == 8
    workbook.close()
    assert generator.main(["--catalogue", str(tmp_path / "cat")]) == 0
    assert (tmp_path / "cat" / "catalogue.toml").read_bytes() == (CATALOGUE / "catalogue.toml").read_bytes()
    assert generator.main(["--list"]) == 0
    assert "personal-social-insurance" in capsys.readouterr().out


# --- synthetic catalogue metadata -------------------------------------------------------------------

def test_synthetic_catalogue_for_search_benchmarks(manifest):
    entries = synthetic_catalogue(10_000)
    assert len(entries) == 10_000
    assert len({e["id"] for e in entries}) == 10_000
    assert entries[:50] == synthetic_catalogue(50)
    assert synthetic_catalogue(50, seed=8) != synthetic_catalogue(50)
    assert len({e["domain"] for e in entries}) == 14
    assert {e["open_level"] for e in entries} == {"unconditional", "conditional", "closed"}
    assert {e["publisher"] for e in entries} <= {p["id"] for p in manifest["publishers"]}
    assert len({e["title_zh"] for e in entries}) > 2000
    for entry in entries:
        assert re.search(r"[\u4e00-\u9fff]{4}", entry["title_zh"])
        assert entry["title_en"] and entry["tags"]
        fields = entry["resources"][0]["fields"]
        assert 3 <= len(fields) <= 8
        assert len({f["name"] for f in fields}) == len(fields)
        assert "path" not in entry["resources"][0]


def test_synthetic_catalogue_passes_the_catalogue_validator(manifest):
    manifest_module = pytest.importorskip("opendata.catalogue.manifest")
    raw = {"catalogue": manifest["catalogue"], "publishers": manifest["publishers"],
           "datasets": synthetic_catalogue(500)}
    spec = manifest_module.parse_raw(raw, file="synthetic")
    assert len(spec.datasets) == 500
