"""The diff between two generations of a resource's table, computed by the database.

Everything is a COUNT or a LIMITed SELECT over the two tables joined on the primary key
(indexed in every generation), so a million-row diff streams inside the database and no
key set is ever held in Python. Without a primary key rows are compared whole (EXCEPT),
which counts distinct rows added and removed and cannot tell "changed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, Table, Text, and_, cast, exists, func, not_, select
from sqlalchemy.engine import Connection

SAMPLE_SIZE = 10


@dataclass
class Diff:
    added: int
    removed: int
    changed: int | None
    key: str | None
    samples: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed
                    or self.samples.get("columns_added") or self.samples.get("columns_removed"))


def reflect(connection: Connection, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=connection)


def _type_text(connection: Connection, column: Any) -> str:
    return str(column.type.compile(dialect=connection.dialect))


def _comparable(connection: Connection, old: Table, new: Table, name: str) -> tuple[Any, Any]:
    """The two columns as expressions that compare: as they are when the type is the same,
    else both as text (a field whose type changed between generations)."""
    a, b = old.c[name], new.c[name]
    if _type_text(connection, a) == _type_text(connection, b):
        return a, b
    return cast(a, Text), cast(b, Text)


def _plain(value: Any) -> Any:
    """A key value as JSON can hold it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _keys(connection: Connection, statement: Any) -> list[Any]:
    return [_plain(v) for v in connection.execute(statement.limit(SAMPLE_SIZE)).scalars()]


def diff_tables(connection: Connection, old_name: str | None, new_name: str, key: str | None) -> Diff:
    """Added / removed / changed rows of table ``new_name`` against table ``old_name`` (None: all added)."""
    new = reflect(connection, new_name)
    if old_name is None:
        total = connection.execute(select(func.count()).select_from(new)).scalar_one()
        return Diff(total, 0, 0 if key else None, key, {"added": [], "removed": [], "changed": [],
                                                        "columns_added": [], "columns_removed": []})
    # Both reflected, so that a column of the same type compiles to the same name.
    old = reflect(connection, old_name)
    # The tables' own primary key is the row store's _row_id, not part of the data.
    old_names = [c.name for c in old.columns if not c.primary_key]
    new_names = [c.name for c in new.columns if not c.primary_key]
    common = [n for n in new_names if n in old_names]
    samples: dict[str, list[Any]] = {
        "columns_added": [n for n in new_names if n not in old_names],
        "columns_removed": [n for n in old_names if n not in new_names],
    }
    if key and key in common:
        return _by_key(connection, old, new, key, common, samples)
    return _whole_rows(connection, old, new, common, samples)


def _by_key(connection: Connection, old: Table, new: Table, key: str, common: list[str],
            samples: dict[str, list[Any]]) -> Diff:
    old_key, new_key = _comparable(connection, old, new, key)
    matched = old_key == new_key
    only_new = select(new.c[key]).where(not_(exists().where(matched))).order_by(new.c[key])
    only_old = select(old.c[key]).where(not_(exists().where(matched))).order_by(old.c[key])
    pairs = [_comparable(connection, old, new, name) for name in common if name != key]
    same_row = and_(*[a.is_not_distinct_from(b) for a, b in pairs]) if pairs else None
    counts = {}
    for label, statement in (("added", only_new), ("removed", only_old)):
        counts[label] = connection.execute(
            select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
        samples[label] = _keys(connection, statement) if counts[label] else []
    changed = 0
    samples["changed"] = []
    if same_row is not None:
        differing = select(new.c[key]).select_from(new.join(old, matched)).where(not_(same_row))
        changed = connection.execute(
            select(func.count()).select_from(differing.subquery())).scalar_one()
        if changed:
            samples["changed"] = _keys(connection, differing.order_by(new.c[key]))
    return Diff(counts["added"], counts["removed"], changed, key, samples)


def _whole_rows(connection: Connection, old: Table, new: Table, common: list[str],
                samples: dict[str, list[Any]]) -> Diff:
    samples.update(added=[], removed=[], changed=[])
    if not common:
        new_total = connection.execute(select(func.count()).select_from(new)).scalar_one()
        old_total = connection.execute(select(func.count()).select_from(old)).scalar_one()
        return Diff(new_total, old_total, None, None, samples)
    pairs = [_comparable(connection, old, new, name) for name in common]
    old_rows = select(*[a for a, _ in pairs])
    new_rows = select(*[b for _, b in pairs])
    added = connection.execute(
        select(func.count()).select_from(new_rows.except_(old_rows).subquery())).scalar_one()
    removed = connection.execute(
        select(func.count()).select_from(old_rows.except_(new_rows).subquery())).scalar_one()
    if not (added or removed):
        # Sets equal; a different number of duplicate rows is still a change.
        new_total = connection.execute(select(func.count()).select_from(new)).scalar_one()
        old_total = connection.execute(select(func.count()).select_from(old)).scalar_one()
        added, removed = max(0, new_total - old_total), max(0, old_total - new_total)
    return Diff(added, removed, None, None, samples)
