"""Response shapes of the catalogue API (documented in the OpenAPI schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, Field, Publisher, Resource
from opendata.feedback.schemas import RatingSummaryOut
from opendata.quality.schemas import QualityOut


@dataclass
class Label:
    code: str
    zh: str
    en: str

    @classmethod
    def of(cls, term: vocab.Term | None, code: str) -> "Label":
        return cls(code, term.zh, term.en) if term else cls(code, code, code)


@dataclass
class PublisherRef:
    id: str
    name_zh: str
    name_en: str | None


@dataclass
class PublisherOut(PublisherRef):
    website: str | None = None
    contact: str | None = None
    dataset_count: int = 0


@dataclass
class DomainOut:
    code: str
    zh: str
    en: str
    dataset_count: int


@dataclass
class FieldOut:
    name: str
    title_zh: str
    title_en: str | None
    type: str
    unit: str | None
    description: str | None
    sensitivity: Label
    mask: str | None
    # The dictionary's rules at ingest (docs/catalogue-format.md): None when none declared.
    missing_values: list[str] | None = None
    constraints: dict[str, Any] | None = None


@dataclass
class ChecksumOut:
    algorithm: str
    value: str


@dataclass
class DownloadOut:
    """One format a resource can be downloaded in (the core's and enabled plugins')."""

    format: str
    media_type: str
    url: str


@dataclass
class LicenceOut:
    id: str
    title_zh: str
    title_en: str
    url: str
    open: bool


@dataclass
class ContactPointOut:
    name: str
    telephone: str | None = None
    email: str | None = None
    url: str | None = None


@dataclass
class ResourceOut:
    id: str
    title_zh: str
    title_en: str | None
    description_zh: str | None
    description_en: str | None
    format: str
    tabular: bool
    primary_key: str | None
    subject_key: str | None
    row_count: int | None
    ingested_at: datetime | None
    fields: list[FieldOut]
    # The file a client downloads (see catalogue/distribution.py); size and checksum
    # only where everyone gets the same bytes (unconditionally open data).
    download_url: str | None = None
    media_type: str | None = None
    byte_size: int | None = None
    checksum: ChecksumOut | None = None
    # Every download format of the resource (None: rows are never served).
    downloads: list[DownloadOut] | None = None
    # Cell texts read as NULL at ingest (None: only the empty cell).
    missing_values: list[str] | None = None


@dataclass
class DatasetSummary:
    id: str
    title_zh: str
    title_en: str | None
    description_zh: str
    description_en: str | None
    domain: Label
    open_level: Label
    publisher: PublisherRef
    tags: list[str]
    formats: list[str]
    version: str
    modified: date | None
    updated_at: datetime
    # The number of the latest version of the data (docs/versions.md); 0 before any.
    version_number: int = 0
    # Users' stars (docs/portal.md, "Ratings and comments"): average, count, distribution.
    rating: RatingSummaryOut | None = None


@dataclass
class DatasetOut(DatasetSummary):
    catalogue: str = ""
    industry_code: str | None = None
    contact: str | None = None
    update_frequency: Label | None = None
    licence: str = ""
    spatial_coverage: str | None = None
    temporal_start: date | None = None
    temporal_end: date | None = None
    issued: date | None = None
    source_system: str | None = None
    update_mechanism: str | None = None
    quality_standard: str | None = None
    usage_notes: str | None = None
    created_at: datetime | None = None
    resources: list[ResourceOut] = field(default_factory=list)
    licence_details: LicenceOut | None = None
    contact_point: ContactPointOut | None = None
    # All-time totals of the usage counters.
    views: int = 0
    downloads: int = 0
    # The measured quality score and its components (docs/quality.md).
    quality: QualityOut | None = None
    # Plugins' metadata extensions (docs/plugins.md): {name: {key: value}}.
    extensions: dict[str, Any] | None = None


@dataclass
class RelatedOut:
    """A related dataset and why: its score and what it shares with the dataset asked about."""

    dataset: DatasetSummary
    score: int
    shared_tags: list[str]
    same_domain: bool
    same_publisher: bool


@dataclass
class FacetValue:
    value: str
    count: int
    label_zh: str | None = None
    label_en: str | None = None


@dataclass
class SearchResponse:
    items: list[DatasetSummary]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[FacetValue]]
    # Per dataset id, its titles/description with the matched words in <mark>…</mark>
    # (the rest HTML-escaped), for the items of this page.
    highlights: dict[str, dict[str, str]] = field(default_factory=dict)
    # For a query without hits: a corrected query that has some ("公胶" -> "公交").
    did_you_mean: str | None = None


def publisher_ref(p: Publisher) -> PublisherRef:
    return PublisherRef(p.id, p.name_zh, p.name_en)


def field_out(f: Field) -> FieldOut:
    return FieldOut(
        name=f.name, title_zh=f.title_zh, title_en=f.title_en, type=f.type, unit=f.unit,
        description=f.description,
        sensitivity=Label.of(vocab.SENSITIVITY_BY_CODE.get(f.sensitivity), f.sensitivity),
        mask=f.mask, missing_values=f.missing_values, constraints=f.constraints,
    )


def resource_out(r: Resource) -> ResourceOut:
    return ResourceOut(
        id=r.id, title_zh=r.title_zh, title_en=r.title_en, description_zh=r.description_zh,
        description_en=r.description_en, format=r.format, tabular=r.is_tabular,
        primary_key=r.primary_key, subject_key=r.subject_key, row_count=r.row_count,
        ingested_at=r.ingested_at, fields=[field_out(f) for f in r.fields], missing_values=r.missing_values,
    )


def _summary_values(d: Dataset) -> dict:
    return dict(
        id=d.id, title_zh=d.title_zh, title_en=d.title_en, description_zh=d.description_zh,
        description_en=d.description_en,
        domain=Label.of(vocab.DOMAIN_BY_CODE.get(d.domain), d.domain),
        open_level=Label.of(vocab.OPEN_LEVEL_BY_CODE.get(d.open_level), d.open_level),
        publisher=publisher_ref(d.publisher), tags=d.tag_names,
        formats=sorted({r.format for r in d.resources}), version=d.version,
        modified=effective_modified(d), updated_at=d.updated_at, version_number=d.version_number or 0,
    )


def effective_modified(d: Dataset) -> date | None:
    """The manifest's ``modified``, or the day the rows last changed if that is later."""
    changed = d.data_modified_at.date() if d.data_modified_at else None
    if changed is None or (d.modified is not None and d.modified >= changed):
        return d.modified
    return changed


def dataset_summary(d: Dataset) -> DatasetSummary:
    return DatasetSummary(**_summary_values(d))


def dataset_out(d: Dataset) -> DatasetOut:
    return DatasetOut(
        **_summary_values(d),
        catalogue=d.catalogue_id, industry_code=d.industry_code, contact=d.contact,
        update_frequency=Label.of(vocab.FREQUENCY_BY_CODE.get(d.update_frequency), d.update_frequency),
        licence=d.licence, spatial_coverage=d.spatial_coverage,
        temporal_start=d.temporal_start, temporal_end=d.temporal_end, issued=d.issued,
        source_system=d.source_system, update_mechanism=d.update_mechanism,
        quality_standard=d.quality_standard, usage_notes=d.usage_notes,
        created_at=d.created_at, resources=[resource_out(r) for r in d.resources],
        extensions=d.extensions or None,
    )


def related_out(r: Any) -> RelatedOut:
    """``r``: a catalogue.related.Related."""
    return RelatedOut(dataset_summary(r.dataset), r.score, r.shared_tags, r.same_domain, r.same_publisher)
