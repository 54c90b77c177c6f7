"""The demo shows the governance features (issue 12 item 5): NA markers, versions with
history, an overdue dataset, a cross-dataset reference, registered assets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendata.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`opendata demo` once on a fresh SQLite database; the CLI's base arguments."""
    folder = tmp_path_factory.mktemp("demo")
    base = ["--data-dir", str(folder / "data"), "--database-url", f"sqlite:///{folder / 'opendata.db'}"]
    loaded = CliRunner().invoke(main, [*base, "--json", "demo"])
    assert loaded.exit_code == 0, loaded.output
    report = json.loads(loaded.stdout)
    assert report["assets_registered"] == 4 and len(report["created"]) == 14
    return base


def cli_json(base: list[str], *args: str) -> object:
    done = CliRunner().invoke(main, [*base, "--json", *args])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_public_parking_starts_with_three_versions_and_their_diffs(demo: list[str]) -> None:
    history = cli_json(demo, "catalogue", "history", "public-parking")
    versions = history["versions"] if isinstance(history, dict) else history
    assert [v["number"] for v in versions] == [3, 2, 1]
    newest, middle, oldest = versions
    assert oldest["file_name"] == "data/history/public-parking-1.csv" and oldest["row_count"] == 986
    assert (middle["added"], middle["removed"]) == (12, 5) and middle["changed"] > 0
    assert (newest["added"], newest["removed"], newest["row_count"]) == (12, 5, 1000)
    assert newest["file_name"] == "data/public-parking.csv"


def test_na_cells_are_missing_values_and_lower_completeness(demo: list[str]) -> None:
    quality = cli_json(demo, "catalogue", "quality", "air-quality-daily")
    text = json.dumps(quality, ensure_ascii=False)
    assert '"so2"' in text
    fields = {f["name"]: f for r in quality["resources"] for f in r["fields"]}
    assert 0 < fields["so2"]["missing"] < 200 and fields["pm25"]["missing"] == 0
    assert quality["timeliness"]["status"] == "overdue"  # declared modified 2025-01-02, daily


def test_four_assets_are_registered_with_verifiable_certificates(demo: list[str], tmp_path: Path) -> None:
    listing = CliRunner().invoke(main, [*demo, "assets", "list"])
    assert listing.exit_code == 0, listing.output
    for dataset in ("bus-stops", "enterprise-registrations", "tax-credit-ratings", "personal-social-insurance"):
        assert dataset in listing.output
    code = listing.output.split()[0]
    certificate, jwks = tmp_path / "certificate.json", tmp_path / "jwks.json"
    for args in (["assets", "certificate", code, "-o", str(certificate)], ["assets", "jwks", "-o", str(jwks)]):
        done = CliRunner().invoke(main, [*demo, *args])
        assert done.exit_code == 0, done.output
    verified = CliRunner().invoke(main, [*demo, "assets", "verify", str(certificate), "--jwks", str(jwks)])
    assert verified.exit_code == 0 and "signature valid" in verified.output, verified.output


def test_a_second_demo_run_registers_nothing_again(demo: list[str]) -> None:
    again = cli_json(demo, "demo")
    assert again["assets_registered"] == 0 and again["created"] == []
    history = cli_json(demo, "catalogue", "history", "public-parking")
    versions = history["versions"] if isinstance(history, dict) else history
    assert len(versions) == 3  # the history is not replayed twice
