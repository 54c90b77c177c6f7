"""Manifest validation: every bad input gets a clear error naming where it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from opendata.catalogue.manifest import CatalogueError, dump_manifest, parse_manifest, read_manifest
from tests.factories import manifest, write_catalogue


def problems_of(raw: dict, folder: Path | None = None) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse_manifest(tomli_w.dumps(raw), file="catalogue.toml", folder=folder)
    return [str(p) for p in caught.value.problems]


def test_valid_manifest_parses_with_domain_names_resolved(catalogue_dir: Path) -> None:
    spec = read_manifest(catalogue_dir)
    assert [d.id for d in spec.datasets] == ["bus-stops", "si-headcount", "personal-si-base"]
    assert spec.datasets[0].domain == "transport"  # written as 交通
    assert spec.datasets[2].resources[0].fields[0].mask == "keep_first_last:6:4"
    assert spec.digest and len(spec.digest) == 64


def test_malformed_toml_names_the_line() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_manifest('[catalogue]\nid = "x"\ntitle_zh = \n', file="bad.toml")
    problem = caught.value.problems[0]
    assert problem.file == "bad.toml" and problem.line == 3
    assert "not valid TOML" in problem.message


def test_unknown_open_level_names_dataset_and_key() -> None:
    raw = manifest()
    raw["datasets"][0]["open_level"] = "semi-open"
    (message,) = problems_of(raw)
    assert "dataset 'bus-stops'" in message and "key 'open_level'" in message
    assert "unknown open level 'semi-open'" in message


def test_wrong_field_type_names_resource_and_field() -> None:
    raw = manifest()
    raw["datasets"][0]["resources"][0]["fields"][3]["type"] = "int64"
    (message,) = problems_of(raw)
    assert "resource 'stops'" in message and "field 'lines'" in message
    assert "unknown field type 'int64'" in message


def test_duplicate_dataset_id_is_refused() -> None:
    raw = manifest()
    raw["datasets"].append(dict(raw["datasets"][0]))
    assert any("duplicate dataset id 'bus-stops'" in m for m in problems_of(raw))


def test_every_problem_is_reported_at_once() -> None:
    raw = manifest()
    raw["datasets"][0]["domain"] = "weather"
    raw["datasets"][1]["publisher"] = "nobody"
    del raw["datasets"][2]["title_zh"]
    raw["datasets"][2]["resources"][0]["fields"][0]["mask"] = "scramble"
    messages = problems_of(raw)
    assert len(messages) == 4
    assert any("unknown domain 'weather'" in m for m in messages)
    assert any("publisher 'nobody' is not defined" in m for m in messages)
    assert any("missing required key" in m and "'title_zh'" in m for m in messages)
    assert any("unknown masking rule 'scramble'" in m for m in messages)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r["datasets"][0].update(id="Bus Stops"), "is not a valid id"),
        (lambda r: r["datasets"][0].update(tags="公交"), "must be a list of text tags"),
        (lambda r: r["datasets"][0].update(colour="red"), "unknown key in [[datasets]]"),
        (lambda r: r["datasets"][0].update(temporal_start="2024-13-01"), "is not a date"),
        (lambda r: r["datasets"][0].update(temporal_start="2024-05-01", temporal_end="2024-01-01"), "before temporal_start"),
        (lambda r: r["datasets"][0]["resources"][0].update(primary_key="nope"), "primary_key 'nope' is not one of"),
        (lambda r: r["datasets"][0]["resources"][0]["fields"][0].update(name="Stop ID"), "not a valid field name"),
        (lambda r: r["datasets"][0]["resources"][0]["fields"][0].update(sensitivity="L9"), "unknown sensitivity grade"),
        (lambda r: r["datasets"][0]["resources"][0]["fields"][0].update(mask="keep_first:x"), "whole numbers"),
        (lambda r: r["datasets"][0]["resources"][0].update(fields=[]), "needs a data dictionary"),
        (lambda r: r["datasets"][0].update(title_zh="  "), "must not be empty"),
        (lambda r: r.update(datasets=[]), "has no [[datasets]]"),
    ],
)
def test_bad_inputs_get_clear_errors(change, expected: str) -> None:
    raw = manifest()
    change(raw)
    messages = problems_of(raw)
    assert any(expected in m for m in messages), messages


def test_missing_data_file_and_escaping_path_are_refused(tmp_path: Path) -> None:
    raw = manifest()
    raw["datasets"][0]["resources"][0]["path"] = "data/missing.csv"
    raw["datasets"][1]["resources"][0]["path"] = "../outside.csv"
    (tmp_path / "outside.csv").write_text("x\n")
    folder = write_catalogue(tmp_path / "cat", raw)
    with pytest.raises(CatalogueError) as caught:
        read_manifest(folder)
    messages = [str(p) for p in caught.value.problems]
    assert any("data file 'data/missing.csv' does not exist" in m for m in messages)
    assert any("leaves the catalogue folder" in m for m in messages)


def test_a_folder_without_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no catalogue.toml"):
        read_manifest(tmp_path)


def test_dump_then_parse_is_lossless(catalogue_dir: Path) -> None:
    spec = read_manifest(catalogue_dir)
    again = parse_manifest(dump_manifest(spec), folder=catalogue_dir)
    assert again.datasets == spec.datasets and again.publishers == spec.publishers
