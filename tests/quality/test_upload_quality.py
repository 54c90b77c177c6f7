"""A publisher's upload is measured too, and counts as an update for timeliness; the old
single-transaction ingest path measures the same as the staged one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from opendata import create_app
from opendata.cli import main
from opendata.db import utcnow
from opendata.settings import Settings
from tests.portal.helpers import make_staff, post_form, sign_in
from tests.quality.catalogue import write_quality_catalogue


def test_an_upload_is_measured_and_makes_an_overdue_dataset_on_time(settings: Settings, tmp_path: Path,
                                                                   database_url: str) -> None:
    folder = write_quality_catalogue(tmp_path / "quality")
    with TestClient(create_app(settings.replace(catalogues=(folder,), load_catalogues_on_startup=True))) as client:
        assert client.get("/api/v1/datasets/permits").json()["quality"]["timeliness"]["status"] == "overdue"
        make_staff(database_url, "clerk", "publisher", "gz-transport")
        sign_in(client, "clerk")
        # All complete, no failing check, every enterprise registered, no repeated key.
        good = ("permit_no,credit_code,start,end,amount\n"
                "P1,C1,2024-01-01,2024-06-30,100.5\nP2,C2,2024-02-01,2024-12-31,200\n").encode()
        response = post_form(client, "/publisher/datasets/permits/resources/list/upload",
                             files={"file": ("permits.csv", good, "text/csv")})
        assert response.status_code == 303, response.text
        quality = client.get("/api/v1/datasets/permits").json()["quality"]
        assert quality["timeliness"]["status"] == "on_time"
        assert quality["timeliness"]["last_update"] == utcnow().date().isoformat()
        assert quality["score"] == 100.0 and quality["rows"] == 2
        report = client.get("/api/v1/datasets/permits/quality").json()
        assert report["resources"][0]["origin"] == "upload"


@pytest.mark.parametrize("staged", ["true", "false"])
def test_both_ingest_paths_measure_alike(tmp_path: Path, staged: str) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    folder = write_quality_catalogue(tmp_path / "quality")
    env = {"OPENDATA_INGEST_STAGED": staged}
    runner = CliRunner()
    loaded = runner.invoke(main, ["--database-url", url, "catalogue", "load", str(folder)], env=env,
                           catch_exceptions=False)
    assert loaded.exit_code == 0, loaded.output
    shown = runner.invoke(main, ["--database-url", url, "catalogue", "quality", "permits", "--json"], env=env)
    report = json.loads(shown.output)
    assert report["score"] == 76.6
    reference = next(r for r in report["resources"][0]["rules"] if r["kind"] == "reference")
    assert (reference["evaluated"], reference["failed"], reference["error"]) == (5, 1, None)


def test_the_asset_register_records_the_measured_score(client: TestClient, database_url: str) -> None:
    from tests.assets.test_register import REGISTRATION, admin

    headers = admin(client, database_url)
    created = client.post("/api/v1/assets", json=REGISTRATION, headers=headers)
    assert created.status_code == 201, created.text
    score = client.get("/api/v1/datasets/bus-stops").json()["quality"]["score"]
    assert score is not None and created.json()["quality_score"] == score
    certificate = client.get(f"/api/v1/assets/{created.json()['code']}/certificate").json()
    assert certificate["payload"]["asset"]["quality_score"] == score
