"""Catalogue tables: catalogues, publisher departments, datasets, resources and fields."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opendata.catalogue import vocabulary as vocab
from opendata.db import Base, UTCDateTime, utcnow


class Catalogue(Base):
    __tablename__ = "catalogues"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str | None] = mapped_column(String(255))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Publisher(Base):
    """A publisher department (数源部门)."""

    __tablename__ = "publishers"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    catalogue_id: Mapped[str] = mapped_column(ForeignKey("catalogues.id"))
    name_zh: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(255))
    contact: Mapped[str | None] = mapped_column(String(255))

    datasets: Mapped[list["Dataset"]] = relationship(back_populates="publisher")


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    catalogue_id: Mapped[str] = mapped_column(ForeignKey("catalogues.id"), index=True)
    publisher_id: Mapped[str] = mapped_column(ForeignKey("publishers.id"), index=True)
    title_zh: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str | None] = mapped_column(String(255))
    description_zh: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(32), index=True)
    open_level: Mapped[str] = mapped_column(String(16), index=True)
    industry_code: Mapped[str | None] = mapped_column(String(16))
    contact: Mapped[str | None] = mapped_column(String(255))
    update_frequency: Mapped[str] = mapped_column(String(16))
    licence: Mapped[str] = mapped_column(String(63))
    spatial_coverage: Mapped[str | None] = mapped_column(String(255))
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    issued: Mapped[date | None] = mapped_column(Date)
    modified: Mapped[date | None] = mapped_column(Date)
    version: Mapped[str] = mapped_column(String(32))
    source_system: Mapped[str | None] = mapped_column(String(255))
    update_mechanism: Mapped[str | None] = mapped_column(String(255))
    quality_standard: Mapped[str | None] = mapped_column(String(255))
    usage_notes: Mapped[str | None] = mapped_column(Text)
    # Plugins' metadata extensions (opendata.extensions.metadata): {name: {key: value}}.
    extensions: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Moved forward by every new version of the data (opendata.versions), not by the manifest:
    # the number of the latest version, and when its rows changed.
    version_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    data_modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    publisher: Mapped[Publisher] = relationship(back_populates="datasets")
    tags: Mapped[list["DatasetTag"]] = relationship(
        cascade="all, delete-orphan", order_by="DatasetTag.position"
    )
    resources: Mapped[list["Resource"]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="Resource.position"
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]


class DatasetTag(Base):
    __tablename__ = "dataset_tags"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(63), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_dataset_tags_tag", "tag"),)


class Resource(Base):
    """A table or a file of a dataset, with its data dictionary."""

    __tablename__ = "resources"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_zh: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str | None] = mapped_column(String(255))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16), index=True)
    path: Mapped[str | None] = mapped_column(Text)
    primary_key: Mapped[str | None] = mapped_column(String(63))
    subject_key: Mapped[str | None] = mapped_column(String(63))
    # Cell texts read as NULL at ingest (the resource's own, else the catalogue's); None: [""].
    missing_values: Mapped[list[str] | None] = mapped_column(JSON)
    # Quality rules measured at ingest (opendata.quality.rules): checks, references, unique_keys.
    quality_rules: Mapped[dict | None] = mapped_column(JSON)
    # Filled by the row store once the resource's rows are ingested.
    table_name: Mapped[str | None] = mapped_column(String(63))
    row_count: Mapped[int | None] = mapped_column(Integer)
    data_digest: Mapped[str | None] = mapped_column(String(64))
    ingested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dataset: Mapped[Dataset] = relationship(back_populates="resources")
    fields: Mapped[list["Field"]] = relationship(
        back_populates="resource", cascade="all, delete-orphan", order_by="Field.position"
    )

    __table_args__ = (UniqueConstraint("dataset_id", "id", name="uq_resources_dataset_id_id"),)

    @property
    def is_tabular(self) -> bool:
        return vocab.is_tabular_format(self.format)


class Field(Base):
    """One column of a resource's data dictionary, with its grade and masking rule."""

    __tablename__ = "fields"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_pk: Mapped[int] = mapped_column(ForeignKey("resources.pk", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(63))
    title_zh: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    sensitivity: Mapped[str] = mapped_column(String(4), default="L1")
    mask: Mapped[str | None] = mapped_column(String(32))
    # The field's own markers (None: the resource's) and constraints (field_rules.CONSTRAINT_KEYS).
    missing_values: Mapped[list[str] | None] = mapped_column(JSON)
    constraints: Mapped[dict | None] = mapped_column(JSON)

    resource: Mapped[Resource] = relationship(back_populates="fields")

    __table_args__ = (UniqueConstraint("resource_pk", "name", name="uq_fields_resource_pk_name"),)

