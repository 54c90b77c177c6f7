"""The column descriptor shared by every exporter and importer."""

from __future__ import annotations

from dataclasses import dataclass

COLUMN_TYPES = frozenset(
    {"string", "integer", "decimal", "number", "boolean", "date", "datetime"}
)


@dataclass(frozen=True)
class Column:
    """One field of a table: its SQL/JSON name, its bilingual titles and its type.

    Rows travelling with these columns are tuples of already-typed Python values
    (str, int, Decimal, float, bool, date, datetime or None) in column order.
    """

    name: str
    title_zh: str
    title_en: str | None
    type: str

    def __post_init__(self) -> None:
        # Fail when the data dictionary is built, not halfway through a download.
        if self.type not in COLUMN_TYPES:
            raise ValueError(
                f"column {self.name!r} has unknown type {self.type!r}; "
                f"expected one of {', '.join(sorted(COLUMN_TYPES))}"
            )

    @property
    def bilingual_title(self) -> str:
        """"中文标题 / English title", or only the Chinese title when there is no English one."""
        zh = self.title_zh or self.name
        return f"{zh} / {self.title_en}" if self.title_en else zh
