"""A resource's earlier releases (``history``) replayed as versions on its first load."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from opendata.catalogue.commands import load_into, read_catalogue
from opendata.catalogue.manifest import CatalogueError
from opendata.catalogue.models import Resource
from opendata.catalogue.rowstore import iter_rows
from opendata.catalogue.search import SearchQuery, search_datasets
from opendata.cli import main
from opendata.db import Database
from opendata.search.models import SearchDocument
from opendata.versions.service import versions_of
from tests.factories import DATA, manifest, write_catalogue

HEADER = "stop_id,name,district,lines\n"
RELEASES = {
    "data/history/stops-1.csv": HEADER + "S001,天河客运站,天河区,10\n",
    "data/history/stops-2.csv": HEADER + "S001,天河客运站,天河区,11\nS002,北京路,越秀区,8\nS009,旧站,荔湾区,1\n",
}


def with_history(tmp_path: Path, files: list[str] | None = None) -> Path:
    raw = manifest()
    raw["datasets"][0]["resources"][0]["history"] = files or sorted(RELEASES)
    return write_catalogue(tmp_path / "c", raw, {**DATA, **RELEASES})


def stops_rows(database: Database) -> list[tuple]:
    with database.session() as session:
        stops = session.query(Resource).filter_by(id="stops").one()
        return list(iter_rows(session, stops))


def test_first_load_replays_the_releases_as_versions_with_diffs(database: Database, tmp_path: Path) -> None:
    folder = with_history(tmp_path)
    report = load_into(database, read_catalogue(folder))
    assert sorted(report.created) == ["bus-stops", "personal-si-base", "si-headcount"]
    assert report.updated == [] and report.unchanged == []
    with database.session() as session:
        versions = versions_of(session, "bus-stops")
        assert [v.number for v in versions] == [3, 2, 1]
        newest, middle, oldest = versions
        assert (oldest.row_count, oldest.added, oldest.file_name) == (1, 1, "data/history/stops-1.csv")
        # release 2: S001 changed (10 -> 11 lines), S002 and S009 added
        assert (middle.added, middle.removed, middle.changed) == (2, 0, 1)
        # the current file: S009 gone, S001 and S002 changed, S003 added
        assert (newest.added, newest.removed, newest.changed, newest.file_name) == (1, 1, 2, "data/stops.csv")
        # the other datasets have no history: one version each
        assert [v.number for v in versions_of(session, "si-headcount")] == [1]
        # one search document per dataset after the replay's loads, and it finds the dataset
        documents = session.scalars(select(SearchDocument.dataset_id)).all()
        assert sorted(documents) == sorted(report.created)
        assert [d.id for d in search_datasets(session, SearchQuery(q="公交")).items] == ["bus-stops"]
    assert [r[0] for r in stops_rows(database)] == ["S001", "S002", "S003"]


def test_history_is_replayed_once(database: Database, tmp_path: Path) -> None:
    folder = with_history(tmp_path)
    load_into(database, read_catalogue(folder))
    (folder / "data" / "stops.csv").write_text(HEADER + "S001,天河客运站,天河区,12\n", encoding="utf-8")
    load_into(database, read_catalogue(folder))
    with database.session() as session:
        versions = versions_of(session, "bus-stops")
        # one new version from the changed current file, no second replay of the releases
        assert [v.number for v in versions] == [4, 3, 2, 1]
        assert versions[0].file_name == "data/stops.csv" and versions[0].removed == 2


def test_a_resource_loaded_before_its_history_was_listed_does_not_replay(database: Database, tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path / "c", manifest(), {**DATA, **RELEASES})
    load_into(database, read_catalogue(folder))
    with_history(tmp_path)  # the same folder, now with history listed
    load_into(database, read_catalogue(folder))
    with database.session() as session:
        assert [v.number for v in versions_of(session, "bus-stops")] == [1]


@pytest.mark.parametrize(("files", "message"), [
    (["../outside.csv"], "leaves the catalogue folder"),
    (["data/history/none.csv"], "does not exist"),
    ([""], "must list the earlier files"),
])
def test_bad_history_entries_are_named(tmp_path: Path, files: list[str], message: str) -> None:
    folder = with_history(tmp_path, files)
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(folder)
    problem = next(p for p in caught.value.problems if p.key == "history")
    assert message in problem.message and problem.dataset == "bus-stops" and problem.resource == "stops"


@pytest.mark.parametrize("bad", ["data/history/stops-1.csv", "data/history/stops-2.csv", "data/stops.csv"])
def test_a_refused_release_loads_nothing_and_names_the_file(database: Database, tmp_path: Path, bad: str) -> None:
    # Any file refused, the first release's or a later one's or the current one's: every
    # file is checked before the first release commits, so nothing is left half-loaded.
    files = {**DATA, **RELEASES, bad: HEADER + "S001,天河客运站,天河区,10\nS002,北京路,越秀区,many\n"}
    raw = manifest()
    raw["datasets"][0]["resources"][0]["history"] = sorted(RELEASES)
    folder = write_catalogue(tmp_path / "c", raw, files)
    with pytest.raises(CatalogueError) as caught:
        load_into(database, read_catalogue(folder))
    assert [(Path(str(p.file)).name, p.field, p.line) for p in caught.value.problems] == [
        (Path(bad).name, "lines", 3)]
    with database.session() as session:
        assert session.query(Resource).count() == 0
    validated = CliRunner().invoke(main, ["catalogue", "validate", str(folder)])
    assert validated.exit_code != 0 and Path(bad).name in validated.output, validated.output


def test_the_cli_load_and_history_show_the_replayed_versions(database_url: str, tmp_path: Path) -> None:
    folder = with_history(tmp_path)
    runner = CliRunner()
    base = ["--database-url", database_url, "--data-dir", str(tmp_path / "data")]
    loaded = runner.invoke(main, [*base, "catalogue", "load", str(folder)])
    assert loaded.exit_code == 0, loaded.output
    assert "3 created" in loaded.output
    history = runner.invoke(main, [*base, "--json", "catalogue", "history", "bus-stops"])
    assert history.exit_code == 0, history.output
    assert '"number": 3' in history.output and "data/history/stops-1.csv" in history.output
