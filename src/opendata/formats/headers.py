"""What importers share: the row record they yield and matching a header to columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .columns import Column
from .errors import FormatError


class RowRecord(NamedTuple):
    """One data row of an imported file.

    ``line`` is where the user finds it: the physical line a CSV record starts on, or the
    sheet row number in XLSX. ``values`` are strings (CSV) or cell values (XLSX), in the
    order of the requested columns when columns were given, else in file order.
    """

    line: int
    values: list[Any]


def _normalise(title: str) -> str:
    return " ".join(title.split()).casefold()


def _lookup(columns: Sequence[Column]) -> dict[str, int]:
    """Every accepted spelling of every column, so a publisher may head a column with its
    field name, its Chinese or English title, or the bilingual title of our own XLSX."""
    spellings: dict[str, int] = {}
    for accessor in (
        lambda c: c.name,
        lambda c: c.bilingual_title,
        lambda c: c.title_zh,
        lambda c: c.title_en,
    ):
        for index, column in enumerate(columns):
            spelling = accessor(column)
            if spelling:
                spellings.setdefault(_normalise(spelling), index)
    return spellings


def match_header(
    header: Sequence[str],
    columns: Sequence[Column],
    *,
    file: str | None = None,
    line: int | None = None,
    allow_extra_columns: bool = False,
) -> list[int]:
    """For each column, the position of its cell in the file's rows.

    Raises FormatError ("duplicate_column", "missing_column" or "unknown_column") whose
    message lists every problem of the header at once.
    """
    spellings = _lookup(columns)
    positions: dict[int, int] = {}
    duplicates: list[str] = []
    unknown: list[str] = []
    for position, title in enumerate(header):
        if not title.strip():
            continue  # Excel's trailing separators and empty columns carry no field
        index = spellings.get(_normalise(title))
        if index is None:
            unknown.append(title)
        elif index in positions:
            duplicates.append(title)
        else:
            positions[index] = position
    missing = [c.name for i, c in enumerate(columns) if i not in positions]
    if allow_extra_columns:
        unknown = []

    problems = []
    if duplicates:
        problems.append(("duplicate_column", f"repeated columns: {', '.join(duplicates)}"))
    if missing:
        problems.append(("missing_column", f"missing columns: {', '.join(missing)}"))
    if unknown:
        shown = ", ".join(repr(title) for title in unknown)
        problems.append(("unknown_column", f"columns not in the data dictionary: {shown}"))
    if problems:
        raise FormatError(
            problems[0][0], "; ".join(text for _, text in problems), file=file, line=line
        )
    return [positions[index] for index in range(len(columns))]
