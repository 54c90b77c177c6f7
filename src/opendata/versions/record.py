"""The hook of the row store: a complete new generation of a table becomes a version.

``record_generation`` runs after the new table is filled and before it replaces the old
one, inside the ingest's transaction: it diffs the two generations in SQL and, unless the
rows are identical, adds the numbered version and moves the dataset's version and
modification time forward. ``retire_generations`` then names the tables of versions older
than the kept ones, for the caller to drop, so a roll-back or an old download has its rows while they are kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from opendata.catalogue.models import Resource
from opendata.db import utcnow
from opendata.versions.diff import Diff, diff_tables
from opendata.subscriptions.service import enqueue_version_mail
from opendata.versions.models import DatasetVersion

CATALOGUE_LOAD = "catalogue load"
DEFAULT_VERSIONS_KEPT = 3


@dataclass
class VersionSource:
    """Who made a new generation and from what."""

    actor: str = CATALOGUE_LOAD
    origin: str = "load"
    file_name: str | None = None
    file_digest: str | None = None
    restored_from: int | None = None
    versions_kept: int = DEFAULT_VERSIONS_KEPT


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def next_number(session: Session, dataset_id: str) -> int:
    latest = session.scalar(select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset_id))
    return (latest or 0) + 1


def record_generation(session: Session, resource: Resource, old_name: str | None, new_name: str, rows: int,
                      source: VersionSource, *, diff: Diff | None = None,
                      stored_as: str | None = None) -> DatasetVersion | None:
    """The new version for the table ``new_name`` (kept under ``stored_as``, default the same
    name), or None when its rows equal those of ``old_name`` (then the caller drops
    ``new_name`` and nothing moves forward). ``diff``: computed beforehand against ``old_name``."""
    if diff is None:
        diff = diff_tables(session.connection(), old_name, new_name, resource.primary_key)
    if old_name is not None and diff.identical:
        return None
    now = utcnow()
    dataset = resource.dataset
    version = DatasetVersion(
        dataset_id=dataset.id, number=next_number(session, dataset.id), resource_id=resource.id,
        created_at=now, actor=source.actor[:255], origin=source.origin,
        file_name=(source.file_name or resource.path or "")[:255] or None, file_digest=source.file_digest,
        row_count=rows, diff_key=diff.key, added=diff.added, removed=diff.removed, changed=diff.changed,
        samples=diff.samples, columns=[{"name": f.name, "type": f.type} for f in resource.fields],
        table_name=stored_as or new_name, restored_from=source.restored_from,
    )
    session.add(version)
    dataset.version_number = version.number
    dataset.updated_at = now
    enqueue_version_mail(session, dataset, version)
    if old_name is not None:
        # A first generation is the data as it was published (an old file loaded today is
        # not new data): only a replacement with other rows is a modification.
        dataset.data_modified_at = now
    session.flush()
    return version


def names_a_version(connection: Connection, name: str) -> bool:
    return connection.scalar(select(DatasetVersion.id).where(DatasetVersion.table_name == name).limit(1)) is not None


def retire_generations(session: Session, resource: Resource, keep: int) -> list[str]:
    """The tables of ``resource``'s versions beyond the current one and the ``keep`` before
    it: their versions let go of them, and the caller drops them (after its commit where a
    DROP could wait for readers)."""
    previous = session.scalars(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == resource.dataset_id, DatasetVersion.resource_id == resource.id,
               DatasetVersion.table_name.is_not(None), DatasetVersion.table_name != resource.table_name)
        .order_by(DatasetVersion.number.desc())
    ).all()
    retired = []
    for version in previous[max(keep, 0):]:
        retired.append(version.table_name)
        version.table_name = None
    session.flush()
    return retired


def kept_table_names(session: Session) -> set[str]:
    """Row tables that versions of still existing resources name: the row store must not
    sweep them as orphans (a removed resource's versions go with it)."""
    statement = (select(DatasetVersion.table_name)
                 .join(Resource, (Resource.dataset_id == DatasetVersion.dataset_id)
                       & (Resource.id == DatasetVersion.resource_id))
                 .where(DatasetVersion.table_name.is_not(None)))
    return set(session.scalars(statement))


def forget_tables(session: Session, names: list[str]) -> None:
    """Versions whose tables were dropped are no longer downloadable."""
    if names:
        session.execute(update(DatasetVersion).where(DatasetVersion.table_name.in_(names)).values(table_name=None))
