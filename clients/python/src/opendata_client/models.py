"""Typed results. Each keeps the portal's whole JSON in ``raw``, so that a field the
portal adds later is readable before this SDK names it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from opendata_client.frames import rows_to_arrow, rows_to_pandas


@dataclass(frozen=True)
class Label:
    """A coded value with its Chinese and English names (domain, open level, grade)."""

    code: str
    zh: str = ""
    en: str = ""

    @classmethod
    def of(cls, data: Any) -> "Label | None":
        if not isinstance(data, dict):
            return None
        return cls(str(data.get("code", "")), data.get("zh") or "", data.get("en") or "")


@dataclass(frozen=True)
class Publisher:
    id: str
    name_zh: str
    name_en: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Publisher":
        return cls(data["id"], data.get("name_zh", ""), data.get("name_en"))


@dataclass(frozen=True)
class Field:
    """One column of a resource's data dictionary, as served (masked fields are strings)."""

    name: str
    type: str
    title_zh: str = ""
    title_en: str | None = None
    unit: str | None = None
    description: str | None = None
    sensitivity: Label | None = None
    mask: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Field":
        return cls(data["name"], data.get("type", "string"), data.get("title_zh", ""), data.get("title_en"),
                   data.get("unit"), data.get("description"), Label.of(data.get("sensitivity")), data.get("mask"))


@dataclass(frozen=True)
class Resource:
    id: str
    title_zh: str
    format: str
    tabular: bool
    fields: list[Field]
    title_en: str | None = None
    row_count: int | None = None
    byte_size: int | None = None
    download_url: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Resource":
        return cls(data["id"], data.get("title_zh", ""), data.get("format", ""), bool(data.get("tabular")),
                   [Field.of(f) for f in data.get("fields") or []], data.get("title_en"), data.get("row_count"),
                   data.get("byte_size"), data.get("download_url"))


@dataclass(frozen=True)
class DatasetSummary:
    """A search hit."""

    id: str
    title_zh: str
    title_en: str | None
    description_zh: str
    domain: Label | None
    open_level: Label | None
    publisher: Publisher | None
    tags: list[str]
    formats: list[str]
    version: str
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def _values(cls, data: dict[str, Any]) -> dict[str, Any]:
        publisher = data.get("publisher")
        return dict(id=data["id"], title_zh=data.get("title_zh", ""), title_en=data.get("title_en"),
                    description_zh=data.get("description_zh", ""), domain=Label.of(data.get("domain")),
                    open_level=Label.of(data.get("open_level")),
                    publisher=Publisher.of(publisher) if isinstance(publisher, dict) else None,
                    tags=list(data.get("tags") or []), formats=list(data.get("formats") or []),
                    version=str(data.get("version", "")), raw=data)

    @classmethod
    def of(cls, data: dict[str, Any]) -> "DatasetSummary":
        return cls(**cls._values(data))


@dataclass(frozen=True)
class Dataset(DatasetSummary):
    """A dataset's metadata with its resources and their data dictionaries."""

    licence: str = ""
    update_frequency: Label | None = None
    resources: list[Resource] = field(default_factory=list)

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Dataset":
        return cls(**cls._values(data), licence=data.get("licence", ""),
                   update_frequency=Label.of(data.get("update_frequency")),
                   resources=[Resource.of(r) for r in data.get("resources") or []])

    def resource(self, resource_id: str) -> Resource:
        for resource in self.resources:
            if resource.id == resource_id:
                return resource
        raise KeyError(f"dataset {self.id!r} has no resource {resource_id!r}")


@dataclass(frozen=True)
class Facet:
    value: str
    count: int
    label_zh: str | None = None
    label_en: str | None = None


@dataclass(frozen=True)
class SearchResult:
    """One page of search results."""

    items: list[DatasetSummary]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[Facet]]
    did_you_mean: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "SearchResult":
        facets = {name: [Facet(str(v["value"]), int(v["count"]), v.get("label_zh"), v.get("label_en"))
                         for v in values] for name, values in (data.get("facets") or {}).items()}
        return cls([DatasetSummary.of(d) for d in data.get("items") or []], int(data.get("total", 0)),
                   int(data.get("page", 1)), int(data.get("page_size", 0)), facets, data.get("did_you_mean"))


@dataclass(frozen=True)
class RowsPage:
    """One page of rows as the API returns it; ``next`` is the cursor of the following page."""

    fields: list[Field]
    items: list[dict[str, Any]]
    total: int | None
    next: str | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "RowsPage":
        total = data.get("total")
        count = total.get("value") if isinstance(total, dict) else total
        return cls([Field.of(f) for f in data.get("fields") or []], list(data.get("items") or []),
                   count, data.get("next"))


@dataclass
class Rows:
    """The rows fetch_rows() kept. ``complete`` tells whether they are every matching row;
    otherwise ``stopped_by`` says why not ("max_rows" or "quota") and ``next_cursor``
    resumes after the last row kept; ``error`` is the quota's QuotaExceeded."""

    fields: list[Field]
    rows: list[dict[str, Any]]
    total: int | None = None
    stopped_by: str | None = None
    next_cursor: str | None = None
    error: Exception | None = field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        return self.stopped_by is None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def to_pandas(self) -> Any:
        """A pandas DataFrame, columns typed from the data dictionary (needs pandas)."""
        return rows_to_pandas(self.fields, self.rows)

    def to_arrow(self) -> Any:
        """A pyarrow Table, columns typed from the data dictionary (needs pyarrow)."""
        return rows_to_arrow(self.fields, self.rows)


def _time(value: Any) -> datetime | None:
    """An ISO 8601 time of the API (UTC, "Z" or an offset) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)


@dataclass(frozen=True)
class Version:
    """One release of a dataset's table and what changed against the one before.
    ``samples`` (up to 10 keys added / removed / changed) and ``columns`` only come with
    Client.version(); ``downloadable`` tells whether its rows are still kept."""

    number: int
    resource: str
    created_at: datetime | None
    origin: str
    row_count: int
    added: int
    removed: int
    changed: int | None
    downloadable: bool
    file_name: str | None = None
    restored_from: int | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Version":
        return cls(int(data["number"]), data.get("resource", ""), _time(data.get("created_at")),
                   data.get("origin", ""), int(data.get("row_count") or 0), int(data.get("added") or 0),
                   int(data.get("removed") or 0), data.get("changed"), bool(data.get("downloadable")),
                   data.get("file_name"), data.get("restored_from"), list(data.get("columns") or []),
                   dict(data.get("samples") or {}), data)


@dataclass(frozen=True)
class Rating:
    """A dataset's stars: ``average`` to one decimal (None while nobody rated), how many
    people gave each number of stars, and ``mine`` when the client is a signed-in person."""

    average: float | None
    count: int
    distribution: dict[int, int]
    mine: int | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Rating":
        return cls(data.get("average"), int(data.get("count") or 0),
                   {int(stars): int(n) for stars, n in (data.get("distribution") or {}).items()}, data.get("mine"))


@dataclass(frozen=True)
class Reply:
    """An answer under a comment; ``author_role`` "publisher" is the dataset's department."""

    id: int
    body: str
    author: str
    author_role: str
    created_at: datetime | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Reply":
        return cls(int(data["id"]), data.get("body", ""), data.get("author", ""), data.get("author_role", ""),
                   _time(data.get("created_at")))


@dataclass(frozen=True)
class Comment:
    """A comment or a problem report (``kind``; a problem has a category and a status)."""

    id: int
    dataset_id: str
    kind: str
    body: str
    author: str
    created_at: datetime | None
    category: str | None = None
    status: str | None = None
    replies: list[Reply] = field(default_factory=list)
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Comment":
        return cls(int(data["id"]), data.get("dataset_id", ""), data.get("kind", "comment"), data.get("body", ""),
                   data.get("author", ""), _time(data.get("created_at")), data.get("category"), data.get("status"),
                   [Reply.of(r) for r in data.get("replies") or []], data)


@dataclass(frozen=True)
class CommentPage:
    """One page of a dataset's comments, newest first."""

    items: list[Comment]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, data: dict[str, Any]) -> "CommentPage":
        return cls([Comment.of(c) for c in data.get("items") or []], int(data.get("total") or 0),
                   int(data.get("page") or 1), int(data.get("page_size") or 0))
