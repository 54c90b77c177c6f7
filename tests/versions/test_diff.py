"""The SQL diff between two table generations, on both backends."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, insert

from opendata.catalogue.rowstore import ROW_ID, SQL_TYPES
from opendata.db import Database
from opendata.versions.diff import diff_tables
from sqlalchemy import BigInteger, Integer
from datetime import date

JAN = date(2024, 1, 1)


def make(connection, name: str, columns: dict[str, str], rows: list[dict]) -> Table:
    table = Table(name, MetaData(),
                  Column(ROW_ID, BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
                  *[Column(n, SQL_TYPES[t]()) for n, t in columns.items()])
    table.create(connection)
    if rows:
        connection.execute(insert(table), rows)
    return table


def test_by_key_counts_and_samples_added_removed_changed(database: Database) -> None:
    columns = {"id": "string", "name": "string", "n": "integer"}
    with database.engine.begin() as connection:
        make(connection, "rows_900_1", columns, [
            {"id": "A", "name": "a", "n": 1}, {"id": "B", "name": "b", "n": None},
            {"id": "C", "name": "c", "n": 3}, {"id": "D", "name": None, "n": 4}])
        new = make(connection, "rows_900_2", columns, [
            {"id": "A", "name": "a", "n": 1},          # same
            {"id": "B", "name": "b", "n": None},       # same (NULL equals NULL here)
            {"id": "C", "name": "c", "n": 30},         # changed
            {"id": "D", "name": "d", "n": 4},          # changed from NULL
            {"id": "E", "name": "e", "n": 5}])         # added
        diff = diff_tables(connection, "rows_900_1", new.name, "id")
        assert (diff.added, diff.removed, diff.changed) == (1, 0, 2)
        assert diff.samples["added"] == ["E"] and diff.samples["changed"] == ["C", "D"]
        assert not diff.identical
        same = make(connection, "rows_900_3", columns, [
            {"id": "A", "name": "a", "n": 1}, {"id": "B", "name": "b", "n": None},
            {"id": "C", "name": "c", "n": 30}, {"id": "D", "name": "d", "n": 4}, {"id": "E", "name": "e", "n": 5}])
        assert diff_tables(connection, "rows_900_2", same.name, "id").identical
        fewer = make(connection, "rows_900_4", columns, [{"id": "E", "name": "e", "n": 5}])
        diff = diff_tables(connection, "rows_900_3", fewer.name, "id")
        assert (diff.added, diff.removed, diff.changed) == (0, 4, 0)
        assert diff.samples["removed"] == ["A", "B", "C", "D"]


def test_a_changed_dictionary_is_a_change_even_with_the_same_keys(database: Database) -> None:
    with database.engine.begin() as connection:
        make(connection, "rows_901_1", {"id": "string", "n": "integer"}, [{"id": "A", "n": 1}, {"id": "B", "n": 2}])
        # n becomes text (compared as text: "1" equals 1), a column is added
        new = make(connection, "rows_901_2", {"id": "string", "n": "string", "extra": "string"},
                   [{"id": "A", "n": "1", "extra": "x"}, {"id": "B", "n": "two", "extra": None}])
        diff = diff_tables(connection, "rows_901_1", new.name, "id")
        assert (diff.added, diff.removed, diff.changed) == (0, 0, 1)
        assert diff.samples["changed"] == ["B"] and diff.samples["columns_added"] == ["extra"]
        assert not diff.identical


def test_without_a_key_rows_are_compared_whole(database: Database) -> None:
    columns = {"code": "string", "month": "date", "count": "integer"}
    with database.engine.begin() as connection:
        make(connection, "rows_902_1", columns, [
            {"code": "X", "month": JAN, "count": 1}, {"code": "Y", "month": JAN, "count": 2}])
        new = make(connection, "rows_902_2", columns, [
            {"code": "X", "month": JAN, "count": 1}, {"code": "Y", "month": JAN, "count": 3}])
        diff = diff_tables(connection, "rows_902_1", new.name, None)
        assert (diff.added, diff.removed, diff.changed, diff.key) == (1, 1, None, None)
        doubled = make(connection, "rows_902_3", columns, [
            {"code": "X", "month": JAN, "count": 1}, {"code": "Y", "month": JAN, "count": 3},
            {"code": "Y", "month": JAN, "count": 3}])
        diff = diff_tables(connection, "rows_902_2", doubled.name, None)
        assert (diff.added, diff.removed) == (1, 0) and not diff.identical


def test_a_first_generation_is_all_added(database: Database) -> None:
    with database.engine.begin() as connection:
        new = make(connection, "rows_903_1", {"id": "integer"}, [{"id": 1}, {"id": 2}])
        diff = diff_tables(connection, None, new.name, "id")
        assert (diff.added, diff.removed, diff.changed) == (2, 0, 0)
