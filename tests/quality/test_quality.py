"""Measured quality through the CLI and the API, on SQLite and PostgreSQL; the score is
recomputed here from the served rows with the rules of docs/quality.md (not the code's)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from opendata import create_app
from opendata.cli import main
from opendata.settings import Settings
from tests.quality.catalogue import write_quality_catalogue

# docs/quality.md: weights, and days per update frequency.
WEIGHTS = {"completeness": 30, "validity": 20, "uniqueness": 15, "consistency": 20, "timeliness": 15}
PERIODS = {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "semiannual": 183, "yearly": 366}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def quality_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    folder = write_quality_catalogue(tmp_path / "quality")
    with TestClient(create_app(settings.replace(catalogues=(folder,), load_catalogues_on_startup=True))) as client:
        yield client


def served_rows(client: TestClient, dataset: str, resource: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/datasets/{dataset}/resources/{resource}/download", params={"format": "ndjson"})
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def recompute(client: TestClient, dataset_id: str) -> float:
    """The score from the rows the API serves and the manifest's rules, by docs/quality.md."""
    meta = client.get(f"/api/v1/datasets/{dataset_id}").json()
    cells = values = key_rows = duplicates = evaluated = failed = 0
    for resource in meta["resources"]:
        rows = served_rows(client, dataset_id, resource["id"])
        names = [f["name"] for f in resource["fields"]]
        cells += len(rows) * len(names)
        values += sum(row[name] is not None for row in rows for name in names)
        keys = [[resource["primary_key"]]] if resource["primary_key"] else []
        keys += RULES[dataset_id].get("unique_keys", [])
        for key in keys:
            present = [tuple(row[k] for k in key) for row in rows if all(row[k] is not None for k in key)]
            key_rows += len(present)
            duplicates += len(present) - len(set(present))
        for left, op, right in RULES[dataset_id].get("checks", []):
            for row in rows:
                a = row[left]
                b = row[right] if isinstance(right, str) else right
                if a is None or b is None:
                    continue
                a, b = (Decimal(str(a)), Decimal(str(b))) if not isinstance(right, str) else (a, b)
                evaluated += 1
                failed += not op(a, b)
        for field, (target_dataset, target_resource, key) in RULES[dataset_id].get("references", {}).items():
            known = {row[key] for row in served_rows(client, target_dataset, target_resource)}
            for row in rows:
                if row[field] is not None:
                    evaluated += 1
                    failed += row[field] not in known
    frequency = meta["update_frequency"]["code"]
    last = date.fromisoformat(meta["modified"]) if meta["modified"] else date.fromisoformat(
        meta["quality"]["measured_at"][:10])
    late = (date.today() - (last + timedelta(days=PERIODS[frequency]))).days
    shares = {
        "completeness": values / cells, "validity": 1.0,
        "uniqueness": (key_rows - duplicates) / key_rows if key_rows else None,
        "consistency": (evaluated - failed) / evaluated if evaluated else None,
        "timeliness": 1.0 if late <= 0 else max(0.0, 1 - late / PERIODS[frequency]),
    }
    measured = {k: v for k, v in shares.items() if v is not None}
    return round(100 * sum(WEIGHTS[k] * v for k, v in measured.items()) / sum(WEIGHTS[k] for k in measured), 1)


RULES: dict[str, dict[str, Any]] = {
    "enterprise-register": {},
    "permits": {
        "unique_keys": [["credit_code", "start"]],
        "checks": [("end", lambda a, b: a >= b, "start"), ("amount", lambda a, b: a > b, 0)],
        "references": {"credit_code": ("enterprise-register", "main", "credit_code")},
    },
}


def test_the_dataset_metadata_carries_the_score_and_its_components(quality_client: TestClient) -> None:
    body = quality_client.get("/api/v1/datasets/permits").json()
    quality = body["quality"]
    assert quality["score"] == 76.6
    assert quality["components"] == {"completeness": 90.0, "validity": 100.0, "uniqueness": 90.9,
                                     "consistency": 80.0, "timeliness": 0.0}
    assert quality["weights"] == WEIGHTS and quality["rows"] == 6
    assert quality["timeliness"]["status"] == "overdue"
    assert quality["timeliness"]["last_update"] == "2024-01-01" and quality["timeliness"]["due"] == "2024-02-01"
    register = quality_client.get("/api/v1/datasets/enterprise-register").json()["quality"]
    # No rule to check consistency against: left out of the weights, not counted as 100.
    assert register["components"]["consistency"] is None
    assert register["score"] == 100.0 and register["timeliness"]["status"] == "on_time"


def test_the_score_is_reproducible_from_the_served_rows(quality_client: TestClient) -> None:
    for dataset_id in RULES:
        served = quality_client.get(f"/api/v1/datasets/{dataset_id}").json()["quality"]["score"]
        assert served == recompute(quality_client, dataset_id), dataset_id


def test_the_quality_endpoint_details_fields_keys_and_rules(quality_client: TestClient) -> None:
    report = quality_client.get("/api/v1/datasets/permits/quality").json()
    assert report["dataset"] == "permits" and report["score"] == 76.6
    [resource] = report["resources"]
    assert resource["id"] == "list" and resource["origin"] == "catalogue" and resource["rows"] == 6
    fields = {f["name"]: f for f in resource["fields"]}
    assert fields["amount"]["missing"] == 1 and fields["end"]["completeness"] == 83.3
    assert fields["permit_no"]["completeness"] == 100.0
    keys = {"+".join(k["fields"]): k for k in resource["keys"]}
    assert keys["permit_no"] == {"fields": ["permit_no"], "kind": "primary_key", "rows": 6, "duplicates": 0,
                                 "uniqueness": 100.0}
    assert keys["credit_code+start"]["duplicates"] == 1 and keys["credit_code+start"]["rows"] == 5
    rules = {r["rule"]: r for r in resource["rules"]}
    assert rules["end >= start"] == {"kind": "check", "rule": "end >= start", "evaluated": 5, "failed": 1,
                                     "consistency": 80.0, "sample_rows": [3], "error": None}
    assert rules["amount > 0"]["sample_rows"] == [6]
    reference = rules["credit_code -> enterprise-register/main.credit_code"]
    assert (reference["kind"], reference["evaluated"], reference["failed"]) == ("reference", 5, 1)
    # Counts and row numbers only: the report never carries a cell value.
    assert "C9" not in json.dumps(report)
    missing = quality_client.get("/api/v1/datasets/nope/quality")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_cli_prints_the_report_and_its_json(tmp_path: Path, database_url: str) -> None:
    folder = write_quality_catalogue(tmp_path / "quality")
    assert run("--database-url", database_url, "catalogue", "load", str(folder)).exit_code == 0
    text = run("--database-url", database_url, "catalogue", "quality", "permits")
    assert text.exit_code == 0, text.output
    assert "permits: quality score 76.6 / 100 (6 rows)" in text.output
    assert "timeliness: overdue (monthly, last update 2024-01-01, due 2024-02-01" in text.output
    assert "check end >= start: 1 of 5 rows fail (rows 3)" in text.output
    assert "key credit_code+start (declared): 1 duplicate rows of 5" in text.output
    as_json = run("--database-url", database_url, "catalogue", "quality", "permits", "--json")
    report = json.loads(as_json.output)
    assert report["score"] == 76.6 and report["resources"][0]["fields"][0]["name"] == "permit_no"
    unknown = run("--database-url", database_url, "catalogue", "quality", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.output


def test_a_reference_to_a_resource_not_loaded_is_reported_not_counted(tmp_path: Path, database_url: str) -> None:
    from tests.quality.catalogue import quality_manifest

    raw = quality_manifest(references={"field": "credit_code", "resource": "elsewhere/main", "key": "code"})
    folder = write_quality_catalogue(tmp_path / "quality", raw)
    assert run("--database-url", database_url, "catalogue", "load", str(folder)).exit_code == 0
    report = json.loads(run("--database-url", database_url, "catalogue", "quality", "permits", "--json").output)
    reference = next(r for r in report["resources"][0]["rules"] if r["kind"] == "reference")
    assert reference["error"] == "elsewhere/main is not loaded" and reference["consistency"] is None
    assert report["components"]["consistency"] == 80.0  # the two checks alone: 8 of 10 rows pass
