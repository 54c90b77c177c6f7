"""What a source reader hands the harvester: remote datasets in one neutral shape, and
the coercions that turn whatever a remote sends (wrong types included) into it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Protocol

from opendata.catalogue import vocabulary as vocab


@dataclass
class RemoteResource:
    remote_id: str
    title: str | None = None
    title_en: str | None = None
    description: str | None = None
    format: str | None = None  # lower-case, as the remote names it (csv, xlsx, pdf, ...)
    url: str | None = None


def one_per_table(resources: list[RemoteResource]) -> list[RemoteResource]:
    """``resources`` without those that are another one's rows in one more format: an
    opendata portal lists each table once per download format, CKAN id / DCAT identifier
    ``<dataset>.<resource>.<format>`` next to the canonical CSV's ``<dataset>.<resource>``
    (docs/plugins.md). Harvesting them all would make a local resource per format."""
    ids = {r.remote_id for r in resources}
    return [r for r in resources if "." not in r.remote_id or r.remote_id.rsplit(".", 1)[0] not in ids]


@dataclass
class RemoteDataset:
    remote_id: str
    # A change token: compared with the one stored at the last harvest (CKAN's
    # metadata_modified; for DCAT dct:modified plus a digest of the record).
    version: str | None
    name: str | None = None
    title: str | None = None
    title_en: str | None = None
    description: str | None = None
    description_en: str | None = None
    tags: list[str] = field(default_factory=list)
    organisation: tuple[str, str, str | None] | None = None  # (remote id, name, name_en)
    licence: str | None = None
    open_level: str | None = None
    domain: str | None = None
    update_frequency: str | None = None
    version_label: str | None = None
    issued: date | None = None
    modified: date | None = None
    contact: str | None = None
    spatial: str | None = None
    temporal_start: date | None = None
    temporal_end: date | None = None
    landing_page: str | None = None
    usage_notes: str | None = None
    resources: list[RemoteResource] = field(default_factory=list)


@dataclass
class RemoteProblem:
    """A record the reader could not read; the run logs it as an error."""

    remote_id: str | None
    message: str


@dataclass
class ListedDataset:
    remote_id: str
    version: str | None
    record: RemoteDataset | None = None  # None: fetch it with ``detail``


@dataclass
class Listing:
    items: list[ListedDataset] = field(default_factory=list)
    problems: list[RemoteProblem] = field(default_factory=list)
    # Every page was read: only then are datasets missing from it withdrawn.
    complete: bool = False
    site_title: str | None = None


class SourceReader(Protocol):
    """One kind of source (ckan, dcat)."""

    def listing(self) -> Listing: ...

    def detail(self, item: ListedDataset) -> RemoteDataset: ...


OPEN_ORDER = tuple(vocab.OPEN_LEVEL_BY_CODE)  # unconditional, conditional, closed: the least open last


def strictest(levels: Iterable[str | None]) -> str | None:
    """The most restrictive of the open levels a remote states (several, or in several
    ways: DCAT's accessRights and an opendata portal's own openLevel); unknown words are
    ignored, so they cannot hide a stricter level stated beside them."""
    known = [level for level in levels if level in OPEN_ORDER]
    return max(known, key=OPEN_ORDER.index) if known else None


def text(value: Any, limit: int | None = None) -> str | None:
    """A stripped string, or None for anything that is not a non-empty string/number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    if not value:
        return None
    return value[:limit] if limit else value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def to_date(value: Any) -> date | None:
    """An ISO date or date-time text (2024-01-31, 2024-01-31T10:00:00.123+00:00), else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value, 64)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None
