"""Loading catalogues: atomic, idempotent, in place; rows land in typed SQL tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from opendata.catalogue.commands import load_into, read_catalogue
from opendata.catalogue.manifest import CatalogueError
from opendata.catalogue.models import Catalogue, Dataset, Field, Resource
from opendata.catalogue.rowstore import iter_rows
from opendata.db import Database
from tests.factories import DATA, manifest, write_catalogue


def count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def row_tables(database: Database) -> list[str]:
    return sorted(n for n in inspect(database.engine).get_table_names() if n.startswith("rows_"))


def test_load_stores_metadata_and_typed_rows(database: Database, catalogue_dir: Path) -> None:
    report = load_into(database, read_catalogue(catalogue_dir))
    assert sorted(report.created) == ["bus-stops", "personal-si-base", "si-headcount"]
    assert report.ingested_resources == 3
    with database.session() as session:
        stops = session.scalars(select(Resource).where(Resource.id == "stops")).one()
        assert stops.row_count == 3
        rows = list(iter_rows(session, stops))
        assert rows[1] == ("S002", "北京路, 步行街", "越秀区", 8)
        bases = session.scalars(select(Resource).where(Resource.id == "bases")).one()
        assert list(iter_rows(session, bases)) == [("440106199001011234", Decimal("8500.00"))]


def test_reload_updates_in_place_and_never_duplicates(database: Database, tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path / "c")
    load_into(database, read_catalogue(folder))
    with database.session() as session:
        created = session.get(Dataset, "bus-stops").created_at
    raw = manifest()
    raw["datasets"][0]["title_zh"] = "广州市公交站点（更新）"
    raw["datasets"][0]["tags"] = ["bus", "站点"]
    raw["datasets"][0]["resources"][0]["fields"][3]["unit"] = "条线路"
    del raw["datasets"][1]  # missing from the newer manifest: kept, not lost
    write_catalogue(folder, raw)
    report = load_into(database, read_catalogue(folder))
    assert report.updated == ["bus-stops"] and report.unchanged == ["personal-si-base"]
    assert report.kept_not_in_manifest == ["si-headcount"]
    assert count(database, Dataset) == 3 and count(database, Catalogue) == 1
    with database.session() as session:
        dataset = session.get(Dataset, "bus-stops")
        assert dataset.title_zh == "广州市公交站点（更新）"
        assert dataset.tag_names == ["bus", "站点"] and dataset.created_at == created
        assert dataset.updated_at > created
        unit = session.scalars(select(Field.unit).where(Field.name == "lines")).one()
        assert unit == "条线路"
    load_into(database, read_catalogue(folder))
    assert count(database, Dataset) == 3
    assert len(row_tables(database)) == 3  # re-ingesting replaced tables, dropped old ones


def test_a_bad_row_loads_nothing_and_names_row_column_value(database: Database, tmp_path: Path) -> None:
    data = dict(DATA)
    data["data/stops.csv"] = "stop_id,name,district,lines\nS001,天河,天河区,12\nS002,越秀,越秀区,many\n"
    folder = write_catalogue(tmp_path / "bad", data=data)
    with pytest.raises(CatalogueError) as caught:
        load_into(database, read_catalogue(folder))
    (problem,) = caught.value.problems
    assert problem.dataset == "bus-stops" and problem.field == "lines" and problem.line == 3
    assert "'many'" in str(problem)
    assert count(database, Dataset) == 0 and count(database, Catalogue) == 0
    assert row_tables(database) == []


def test_a_bad_reload_keeps_the_old_catalogue_whole(database: Database, tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path / "c")
    load_into(database, read_catalogue(folder))
    before = row_tables(database)
    raw = manifest()
    raw["datasets"][0]["title_zh"] = "改过的标题"
    data = dict(DATA)
    data["data/bases.csv"] = "id_number,base\n4401,not-a-number\n"
    write_catalogue(folder, raw, data)
    with pytest.raises(CatalogueError):
        load_into(database, read_catalogue(folder))
    with database.session() as session:
        assert session.get(Dataset, "bus-stops").title_zh == "广州市公交站点"
    assert row_tables(database) == before


def test_dataset_ids_belong_to_one_catalogue(database: Database, tmp_path: Path) -> None:
    load_into(database, read_catalogue(write_catalogue(tmp_path / "a")))
    raw = manifest()
    raw["catalogue"] = {"id": "other", "title_zh": "另一个目录"}
    raw["publishers"] = [{"id": "other-dept", "name_zh": "其他部门"}]
    for ds in raw["datasets"]:
        ds["publisher"] = "other-dept"
    with pytest.raises(CatalogueError, match="already belongs to catalogue 'mini'"):
        load_into(database, read_catalogue(write_catalogue(tmp_path / "b", raw)))


def test_removed_resource_drops_its_table(database: Database, tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path / "c")
    load_into(database, read_catalogue(folder))
    raw = manifest()
    raw["datasets"][2]["resources"] = []
    write_catalogue(folder, raw)
    load_into(database, read_catalogue(folder))
    assert len(row_tables(database)) == 2
