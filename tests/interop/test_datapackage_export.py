"""``opendata catalogue export --datapackage DIR``, checked by the real frictionless package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from frictionless import Package, validate

from opendata.cli import main
from tests.interop.conftest import Portal


def export(portal: Portal, *args: str):
    env = {"OPENDATA_DATABASE_URL": portal.database_url, "OPENDATA_DATA_DIR": str(portal.settings.data_dir)}
    return CliRunner().invoke(main, ["catalogue", "export", *args], env=env, catch_exceptions=False)


def test_open_datasets_are_written_and_validate(portal: Portal, tmp_path: Path) -> None:
    out = tmp_path / "packages"
    result = export(portal, "--datapackage", str(out))
    assert result.exit_code == 0, result.output
    levels = {d["id"]: d["open_level"]["code"]
              for d in portal.http.get("/api/v1/datasets", params={"page_size": 100}).json()["items"]}
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(i for i, level in levels.items() if level == "unconditional")
    assert "si-headcount" not in written and "personal-si-base" not in written  # licensed, closed
    for dataset_id in written:
        report = validate(str(out / dataset_id / "datapackage.json"))
        assert report.valid, (dataset_id, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5])
    done = subprocess.run([sys.executable, "-m", "frictionless", "validate", "datapackage.json"],
                          cwd=out / "bus-stops", capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


def test_files_are_the_served_downloads_and_masks_hold(portal: Portal, tmp_path: Path) -> None:
    out = tmp_path / "packages"
    assert export(portal, "--datapackage", str(out), "--dataset", "bus-stops", "--dataset", "people").exit_code == 0
    package = json.loads((out / "bus-stops" / "datapackage.json").read_text(encoding="utf-8"))
    resource = package["resources"][0]
    served = portal.http.get("/api/v1/datasets/bus-stops/resources/stops/download?format=csv",
                             headers={"accept-encoding": "identity"})
    assert resource["path"] == "stops.csv" and (out / "bus-stops" / "stops.csv").read_bytes() == served.content
    meta = portal.http.get("/api/v1/datasets/bus-stops").json()["resources"][0]
    assert resource["bytes"] == meta["byte_size"] and resource["hash"] == f"sha256:{meta['checksum']['value']}"
    people = Package(str(out / "people" / "datapackage.json")).resources[0]
    names = [f.name for f in people.schema.fields]
    assert "phone" not in names  # dropped: absent from schema and file
    assert "phone" not in (out / "people" / f"{Path(people.path).name}").read_text(encoding="utf-8").splitlines()[0]


def test_licensed_or_unknown_datasets_are_refused_and_nothing_is_written(portal: Portal, tmp_path: Path) -> None:
    out = tmp_path / "packages"
    for dataset_id in ("si-headcount", "personal-si-base", "no-such"):
        result = export(portal, "--datapackage", str(out), "--dataset", "bus-stops", "--dataset", dataset_id)
        assert result.exit_code == 1, result.output
        assert dataset_id in result.output
        assert not out.exists() or list(out.iterdir()) == []
    assert export(portal, "--datapackage", str(out), "--xlsx", str(tmp_path / "x.xlsx")).exit_code == 2
    assert export(portal, "--xlsx", str(tmp_path / "x.xlsx")).exit_code == 2  # needs the catalogue folder


def test_export_replaces_an_older_package(portal: Portal, tmp_path: Path) -> None:
    out = tmp_path / "packages"
    (out / "bus-stops").mkdir(parents=True)
    (out / "bus-stops" / "stale.csv").write_text("old", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert export(portal, "--datapackage", str(out), "--dataset", "bus-stops").exit_code == 0
    assert not (out / "bus-stops" / "stale.csv").exists() and (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no staging folder left
