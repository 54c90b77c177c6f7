"""The shipped demo catalogue shows measured quality: a dataset whose credit codes are
checked against the enterprise register, and datasets that are overdue next to ones on time."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from opendata.cli import main


def test_the_demo_shows_a_cross_dataset_reference_and_an_overdue_dataset(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "demo"), "--database-url", f"sqlite:///{tmp_path / 'demo.db'}"]
    loaded = runner.invoke(main, [*data, "demo"], catch_exceptions=False)
    assert loaded.exit_code == 0, loaded.output

    def report(dataset_id: str) -> dict:
        shown = runner.invoke(main, [*data, "catalogue", "quality", dataset_id, "--json"], catch_exceptions=False)
        assert shown.exit_code == 0, shown.output
        return json.loads(shown.output)

    permits = report("construction-permits")
    references = [r for r in permits["resources"][0]["rules"] if r["kind"] == "reference"]
    assert [r["rule"] for r in references] == [
        "builder_credit_code -> enterprise-registrations/registrations.credit_code",
        "contractor_credit_code -> enterprise-registrations/registrations.credit_code"]
    assert all(r["error"] is None and r["evaluated"] == permits["rows"] for r in references)
    assert permits["timeliness"]["status"] == "on_time"  # no modified date: as current as its load
    overdue = report("tax-credit-ratings")
    assert overdue["timeliness"]["status"] == "overdue" and overdue["timeliness"]["last_update"] == "2024-04-30"
    assert overdue["components"]["timeliness"] < 100 and overdue["score"] < permits["score"]
