"""The harvester's own tables: sources, what each remote dataset became, runs and their log.

They live on the plugin's own ``MetaData`` (not the core's ``Base``), so the core's
migrations and their model check never see them. ``ensure_tables`` creates whatever is
missing (``CREATE TABLE IF NOT EXISTS``): ``opendata harvest init`` calls it, and so does
every harvest command on first use. On PostgreSQL they go to the first schema of the
search path, beside the core's tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Engine, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from opendata.db import NAMING_CONVENTION, UTCDateTime, utcnow

SOURCE_TYPES = ("ckan", "dcat")


class HarvestBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class HarvestSource(HarvestBase):
    """A configured remote catalogue."""

    __tablename__ = "harvest_sources"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    # The local catalogue the harvested datasets belong to (harvest-<name>).
    catalogue_id: Mapped[str] = mapped_column(String(63), unique=True)
    # One local publisher for every dataset (created in the harvest catalogue); None: the
    # remote organisations become publishers <name>-<organisation>.
    publisher_id: Mapped[str | None] = mapped_column(String(63))
    publisher_name: Mapped[str | None] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(32))
    # The least restrictive open level a harvested dataset gets (a remote may ask for more).
    open_level: Mapped[str] = mapped_column(String(16), default="unconditional")
    licence: Mapped[str | None] = mapped_column(String(63))
    id_prefix: Mapped[str] = mapped_column(String(20), default="")
    with_data: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hosts (host[:port]) data files may be fetched from, besides the source's own.
    data_hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_data_bytes: Mapped[int] = mapped_column(Integer, default=100 * 1024 * 1024)
    max_datasets: Mapped[int] = mapped_column(Integer, default=10_000)
    every_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claimed by a running harvest (one at a time per source, across processes).
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.type, "url": self.url, "catalogue": self.catalogue_id,
            "publisher": self.publisher_id, "publisher_name": self.publisher_name, "domain": self.domain,
            "open_level": self.open_level, "licence": self.licence, "id_prefix": self.id_prefix,
            "with_data": self.with_data, "data_hosts": list(self.data_hosts or []),
            "max_data_bytes": self.max_data_bytes, "max_datasets": self.max_datasets,
            "every_minutes": self.every_minutes,
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
        }


class HarvestObject(HarvestBase):
    """One remote dataset and the local dataset it became."""

    __tablename__ = "harvest_objects"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("harvest_sources.name", ondelete="CASCADE"))
    remote_id: Mapped[str] = mapped_column(String(255))
    dataset_id: Mapped[str] = mapped_column(String(63))
    remote_modified: Mapped[str | None] = mapped_column(String(64))
    remote_url: Mapped[str | None] = mapped_column(Text)
    # active | withdrawn (no longer listed by the source; the local dataset is kept)
    state: Mapped[str] = mapped_column(String(12), default="active")
    # The remote's values of the locally editable fields as last harvested, and the fields
    # found edited locally since (kept until --overwrite-local or the remote agrees).
    harvested: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    local_edits: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Remote URLs of the resources, by local resource id (data not copied, or its origin).
    resource_urls: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The data digest of each copied table after the harvest's load (rows replaced here since
    # are kept: edits.rows_edited).
    row_digests: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    first_harvested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_harvested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("uq_harvest_objects_source_remote", "source_name", "remote_id", unique=True),
        Index("ix_harvest_objects_dataset", "dataset_id"),
    )


class HarvestRun(HarvestBase):
    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("harvest_sources.name", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # running | ok (nothing failed) | errors (some datasets failed) | failed (the source itself)
    status: Mapped[str] = mapped_column(String(8), default="running")
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    listed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source_name, "status": self.status, "full": self.full,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "listed": self.listed, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "withdrawn": self.withdrawn, "errors": self.errors,
            "conflicts": self.conflicts, "message": self.message,
        }

    def summary(self) -> str:
        return (f"{self.source_name} run {self.id}: {self.status}; {self.listed} listed, {self.created} created, "
                f"{self.updated} updated, {self.unchanged} unchanged, {self.withdrawn} withdrawn, "
                f"{self.errors} errors, {self.conflicts} conflicts" + (f" ({self.message})" if self.message else ""))


LOG_KINDS = ("created", "updated", "withdrawn", "error", "conflict", "overwritten", "note")


class HarvestLogEntry(HarvestBase):
    __tablename__ = "harvest_log"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("harvest_runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    remote_id: Mapped[str | None] = mapped_column(String(255))
    dataset_id: Mapped[str | None] = mapped_column(String(63))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def as_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "remote_id": self.remote_id, "dataset": self.dataset_id, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def ensure_tables(engine: Engine) -> list[str]:
    """Create the harvester's missing tables; returns the names of those it created."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    existing = set(inspect(engine).get_table_names())
    missing = [t for t in HarvestBase.metadata.sorted_tables if t.name not in existing]
    if not missing:
        return []
    try:
        HarvestBase.metadata.create_all(engine, tables=missing, checkfirst=True)
    except DBAPIError:
        # Another process created them at the same moment: fine if they are all there now.
        if set(t.name for t in missing) - set(inspect(engine).get_table_names()):
            raise
    return [t.name for t in missing]
