"""Rolling a table back to a kept version: the kept rows are copied into a staging table
(outside the swap's transaction) and swapped in like an upload, so the roll-back is itself
a new version (origin ``rollback``, ``restored_from``), diffed and audited like any other."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, Index, select
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.rowstore import ROW_ID, row_table
from opendata.catalogue.staging import StagedTable, finish_staging, new_staging_name, staging_supported, swap_in
from opendata.errors import AppError
from opendata.versions.models import DatasetVersion
from opendata.versions.record import VersionSource
from opendata.versions.service import get_version


@contextmanager
def staged_copy(engine: Engine, resource: Resource, version: DatasetVersion) -> Iterator[StagedTable]:
    """The version's kept rows copied into a new staging table, in their original order."""
    name, lock = new_staging_name(engine)
    staged = None
    try:
        fields = list(resource.fields)
        names = [f.name for f in fields]
        table, kept = row_table(name, fields), row_table(version.table_name or "", fields)
        with engine.begin() as connection:
            table.create(connection)
            for key in [k for k in dict.fromkeys([resource.primary_key, resource.subject_key]) if k]:
                Index(f"ix_{name}_{names.index(key)}", table.c[key]).create(connection)
            copy = select(*[kept.c[n] for n in names]).order_by(kept.c[ROW_ID])
            connection.execute(table.insert().from_select(names, copy))
        staged = StagedTable(name, version.row_count, resource.data_digest or "", None, sha256=version.file_digest)
        yield staged
    finally:
        finish_staging(engine, name, staged, lock)


def _restorable(dataset: Dataset, version: DatasetVersion) -> Resource:
    resource = next((r for r in dataset.resources if r.id == version.resource_id), None)
    if resource is None:
        raise AppError(404, "not_found", f"table {dataset.id}/{version.resource_id} no longer exists")
    if version.table_name is None:
        raise AppError(410, "version_not_kept",
                       f"the rows of version {version.number} are no longer kept (versions_kept)")
    if version.table_name == resource.table_name:
        raise AppError(409, "already_current", f"version {version.number} is the rows served now")
    now = [{"name": f.name, "type": f.type} for f in resource.fields]
    if list(version.columns) != now:
        raise AppError(409, "dictionary_changed", f"the data dictionary of {resource.id!r} changed since version "
                       f"{version.number}: its rows cannot be served under today's dictionary")
    return resource


def roll_back(session: Session, dataset: Dataset, number: int, actor: Actor, request: RequestInfo, *,
              versions_kept: int) -> DatasetVersion:
    """Serve the rows of kept version ``number`` again, as a new version; commits ``session``.
    The caller has checked that ``actor`` may edit ``dataset``."""
    version = get_version(session, dataset.id, number)
    resource = _restorable(dataset, version)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    if not staging_supported(engine):
        raise AppError(409, "rollback_unavailable", "roll-back needs a database file or server (not in-memory)")
    source = VersionSource(actor=actor.name, origin="rollback", file_name=version.file_name,
                           file_digest=version.file_digest, restored_from=number, versions_kept=versions_kept)
    with staged_copy(engine, resource, version) as staged:
        try:
            report = swap_in(session, resource, staged, source)
            if report.version is None:
                raise AppError(409, "no_change", f"version {number} has the same rows as the current one")
            append(session, actor=actor, action="dataset.rollback", target=f"dataset:{dataset.id}",
                   details={"restored": number, "version": report.version, "resource": resource.id,
                            "rows": report.rows}, request=request)
            session.commit()
        except BaseException:
            session.rollback()  # before the clean-up, which needs the write lock
            raise
    return session.scalars(select(DatasetVersion).where(
        DatasetVersion.dataset_id == dataset.id, DatasetVersion.number == report.version)).one()
