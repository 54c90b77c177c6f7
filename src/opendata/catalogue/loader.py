"""Loading a validated catalogue into the database, atomically and idempotently.

A load runs in one transaction: metadata upserts and (through the row store) table
ingests either all commit or none do. Reloading updates datasets in place, keyed by id,
so a reload never duplicates a dataset, and a dataset missing from a newer manifest is
kept (and reported) rather than silently dropped with its statistics and licences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue.manifest import (
    CatalogueError,
    CatalogueSpec,
    DatasetSpec,
    Problem,
    ResourceSpec,
)
from opendata.catalogue.models import Catalogue, Dataset, DatasetTag, Field, Publisher, Resource
from opendata.search.index import index_datasets
from opendata.db import utcnow

Progress = Callable[[str, int, int], None]
"""progress(label, done, total): called as long steps advance."""


class ResourceIngester(Protocol):
    def __call__(
        self, session: Session, resource: Resource, spec: CatalogueSpec, progress: Progress | None
    ) -> None: ...


@dataclass
class LoadReport:
    catalogue: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_not_in_manifest: list[str] = field(default_factory=list)
    ingested_resources: int = 0

    def summary(self) -> str:
        return (
            f"catalogue {self.catalogue}: {len(self.created)} created, {len(self.updated)} "
            f"updated, {len(self.unchanged)} unchanged, {self.ingested_resources} tables "
            f"ingested" + (
                f"; kept {len(self.kept_not_in_manifest)} not in the manifest: "
                + ", ".join(self.kept_not_in_manifest)
                if self.kept_not_in_manifest else ""
            )
        )


DATASET_COLUMNS = (
    "title_zh", "title_en", "description_zh", "description_en", "domain", "open_level",
    "industry_code", "contact", "update_frequency", "licence", "spatial_coverage",
    "temporal_start", "temporal_end", "issued", "modified", "version", "source_system",
    "update_mechanism", "quality_standard", "usage_notes", "extensions",
)
RESOURCE_COLUMNS = (
    "title_zh", "title_en", "description_zh", "description_en", "format", "path",
    "primary_key", "subject_key", "quality_rules",
)
FIELD_COLUMNS = ("name", "title_zh", "title_en", "type", "unit", "description", "sensitivity", "mask",
                 "missing_values", "constraints")


def load_catalogue(
    session: Session,
    spec: CatalogueSpec,
    *,
    ingest: ResourceIngester | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Upsert a catalogue into ``session``; the caller owns (commits or rolls back) it."""
    _check_ownership(session, spec)
    report = LoadReport(spec.id)
    catalogue = session.get(Catalogue, spec.id) or Catalogue(id=spec.id)
    for key in ("title_zh", "title_en", "description_zh", "description_en"):
        setattr(catalogue, key, getattr(spec, key))
    catalogue.source = str(spec.folder) if spec.folder else None
    catalogue.digest = spec.digest
    catalogue.loaded_at = utcnow()
    session.add(catalogue)
    for pub in spec.publishers:
        row = session.get(Publisher, pub.id) or Publisher(id=pub.id)
        row.catalogue_id = spec.id
        for key in ("name_zh", "name_en", "website", "contact"):
            setattr(row, key, getattr(pub, key))
        session.add(row)
    session.flush()

    existing = {
        d.id: d
        for d in session.scalars(
            select(Dataset)
            .where(Dataset.catalogue_id == spec.id)
            .options(selectinload(Dataset.resources).selectinload(Resource.fields),
                     selectinload(Dataset.tags))
        )
    }
    total = len(spec.datasets)
    for done, ds_spec in enumerate(spec.datasets, start=1):
        dataset = existing.pop(ds_spec.id, None)
        if dataset is None:
            dataset = Dataset(id=ds_spec.id, catalogue_id=spec.id, created_at=utcnow())
            session.add(dataset)
            report.created.append(ds_spec.id)
            changed = True
        else:
            changed = _dataset_changed(dataset, ds_spec)
            (report.updated if changed else report.unchanged).append(ds_spec.id)
        _apply_dataset(dataset, ds_spec)
        if changed:
            dataset.updated_at = utcnow()
        if progress:
            progress("metadata", done, total)
    report.kept_not_in_manifest = sorted(existing)
    session.flush()
    index_datasets(session, report.created + report.updated)

    if ingest is not None:
        tables = [
            (ds, res)
            for ds in spec.datasets
            for res in ds.resources
            if res.is_tabular and res.path
        ]
        for done, (ds_spec, res_spec) in enumerate(tables, start=1):
            resource = session.scalars(
                select(Resource).where(
                    Resource.dataset_id == ds_spec.id, Resource.id == res_spec.id
                )
            ).one()
            ingest(session, resource, spec, progress)
            report.ingested_resources += 1
            if progress:
                progress("rows", done, len(tables))
        from opendata.catalogue.rowstore import drop_orphan_row_tables

        drop_orphan_row_tables(session)
    return report


def _check_ownership(session: Session, spec: CatalogueSpec) -> None:
    problems = []
    ids = [d.id for d in spec.datasets]
    # In chunks: PostgreSQL takes at most 65,535 parameters in one statement.
    owners = [row for start in range(0, len(ids), 10_000) for row in session.execute(
        select(Dataset.id, Dataset.catalogue_id).where(Dataset.id.in_(ids[start:start + 10_000]))
    )]
    for dataset_id, owner in owners:
        if owner != spec.id:
            problems.append(Problem(
                spec.catalogue_file, f"dataset id already belongs to catalogue {owner!r}",
                dataset=dataset_id, key="id",
            ))
    pub_ids = [p.id for p in spec.publishers]
    for pub_id, owner in session.execute(
        select(Publisher.id, Publisher.catalogue_id).where(Publisher.id.in_(pub_ids))
    ):
        if owner != spec.id:
            problems.append(Problem(
                spec.catalogue_file,
                f"publisher id {pub_id!r} already belongs to catalogue {owner!r}", key="id",
            ))
    if problems:
        raise CatalogueError(problems)


def _snapshot(item: Dataset | DatasetSpec, publisher: str, tags: list[str]) -> tuple:
    """Everything a manifest sets on a dataset, from the database row or from the spec
    (they share attribute names), to tell whether a reload changes anything."""
    return (
        publisher,
        tuple(getattr(item, c) for c in DATASET_COLUMNS),
        tuple(tags),
        tuple(
            (r.id, tuple(getattr(r, c) for c in RESOURCE_COLUMNS), _missing_of(r),
             tuple(tuple(getattr(f, c) for c in FIELD_COLUMNS) for f in r.fields))
            for r in item.resources
        ),
    )


def _missing_of(resource: Resource | ResourceSpec) -> list[str] | None:
    """The markers in force: stored resolved in the database, resolved from the spec."""
    if isinstance(resource, ResourceSpec):
        return resource.effective_missing_values
    return resource.missing_values


def _dataset_changed(dataset: Dataset, spec: DatasetSpec) -> bool:
    return _snapshot(dataset, dataset.publisher_id, dataset.tag_names) != _snapshot(spec, spec.publisher, spec.tags)


def _apply_dataset(dataset: Dataset, spec: DatasetSpec) -> None:
    dataset.publisher_id = spec.publisher
    for column in DATASET_COLUMNS:
        setattr(dataset, column, getattr(spec, column))
    # Update children in place by their natural keys: replacing them wholesale would
    # insert the new rows before deleting the old ones and trip the unique constraints.
    tags = {t.tag: t for t in dataset.tags}
    dataset.tags = [tags.get(t) or DatasetTag(tag=t) for t in spec.tags]
    for position, tag in enumerate(dataset.tags):
        tag.position = position
    by_id = {r.id: r for r in dataset.resources}
    resources = []
    for position, res_spec in enumerate(spec.resources):
        resource = by_id.get(res_spec.id) or Resource(id=res_spec.id)
        resource.position = position
        _apply_resource(resource, res_spec)
        resources.append(resource)
    dataset.resources = resources


def _apply_resource(resource: Resource, spec: ResourceSpec) -> None:
    for column in RESOURCE_COLUMNS:
        setattr(resource, column, getattr(spec, column))
    resource.missing_values = spec.effective_missing_values
    by_name = {f.name: f for f in resource.fields}
    fields = []
    for position, field_spec in enumerate(spec.fields):
        row = by_name.get(field_spec.name) or Field()
        row.position = position
        for column in FIELD_COLUMNS:
            setattr(row, column, getattr(field_spec, column))
        fields.append(row)
    resource.fields = fields
