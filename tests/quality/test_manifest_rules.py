"""Bad quality rules in a manifest: every one reported, naming dataset, resource, field and key."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from opendata.catalogue.commands import read_catalogue
from opendata.catalogue.excel import read_workbook, write_workbook
from opendata.cli import main
from tests.quality.catalogue import quality_manifest, write_quality_catalogue


def validate(folder: Path):
    return CliRunner().invoke(main, ["catalogue", "validate", str(folder)], catch_exceptions=False)


def test_bad_checks_are_reported_with_dataset_and_field(tmp_path: Path) -> None:
    raw = quality_manifest(checks=["end >= begin", "amount > 'lots'", "permit_no < start",
                                   "__import__('os').system('x')", "end >= start; drop table x"])
    result = validate(write_quality_catalogue(tmp_path / "bad", raw))
    assert result.exit_code == 1
    out = result.output
    assert "dataset 'permits', resource 'list', field 'end', key 'checks': check 'end >= begin': " \
           "'begin' is not one of the resource's fields" in out
    assert "field 'amount', key 'checks': check \"amount > 'lots'\": 'lots' is not a decimal" in out
    assert "check 'permit_no < start' compares string field 'permit_no' with date field 'start'" in out
    assert "key 'checks': check \"__import__('os').system('x')\" is not 'field OP field'" in out
    # ';' separates rules only in a workbook cell; in TOML the whole text is one (bad) rule.
    assert "check 'end >= start; drop table x': 'start; drop table x' is neither a field name nor a value" in out


def test_bad_references_and_keys_are_reported(tmp_path: Path) -> None:
    raw = quality_manifest(
        references=[{"field": "credit_code", "resource": "enterprise-register/main", "key": "code"},
                    {"field": "owner", "resource": "enterprise-register/main", "key": "credit_code"},
                    {"field": "start", "resource": "enterprise-register/main", "key": "credit_code"},
                    {"field": "credit_code", "resource": "enterprise-register/other", "key": "credit_code"},
                    {"field": "credit_code", "resource": "register", "key": "credit_code"}],
        unique_keys=[["credit_code", "month"]])
    out = validate(write_quality_catalogue(tmp_path / "bad", raw)).output
    assert "key 'references': reference resource 'register' must be written dataset-id/resource-id" in out
    raw["datasets"][1]["resources"][0]["references"].pop()
    out = validate(write_quality_catalogue(tmp_path / "bad2", raw)).output
    assert "dataset 'permits', resource 'list', field 'credit_code', key 'references': " \
           "reference key 'code' is not a field of enterprise-register/main" in out
    assert "key 'references': reference field 'owner' is not one of the resource's fields" in out
    assert "field 'start', key 'references': reference compares date with string key" in out
    assert "reference resource 'enterprise-register/other' is not in this catalogue" in out
    assert "key 'unique_keys': unique key field 'month' is not one of the resource's fields" in out


def test_rules_survive_the_workbook_round_trip(tmp_path: Path) -> None:
    spec = read_catalogue(write_quality_catalogue(tmp_path / "good"))
    book = write_workbook(spec, tmp_path / "catalogue.xlsx")
    again = read_workbook(book, folder=tmp_path / "good")
    original = next(d for d in spec.datasets if d.id == "permits").resources[0]
    copied = next(d for d in again.datasets if d.id == "permits").resources[0]
    assert copied.quality_rules == original.quality_rules
    assert original.quality_rules["unique_keys"] == [["credit_code", "start"]]
