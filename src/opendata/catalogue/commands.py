"""Catalogue operations shared by the CLI and the portal's startup."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Iterator

from sqlalchemy import select

from opendata.catalogue.loader import LoadReport, Progress, load_catalogue
from opendata.catalogue.manifest import CatalogueSpec, read_manifest
from opendata.catalogue.models import Catalogue
from opendata.catalogue.staging import staging_supported, sweep_staging
from opendata.db import Database
from opendata.settings import Settings

logger = logging.getLogger(__name__)


def read_catalogue(path: Path) -> CatalogueSpec:
    """Read a catalogue folder, a catalogue.toml or an Excel workbook; raises CatalogueError."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from opendata.catalogue.excel import read_workbook

        return read_workbook(path)
    if path.name == "catalogue.toml":
        path = path.parent
    return read_manifest(path)


def validate_catalogue(path: Path) -> CatalogueSpec:
    """Everything a load would check, without touching a database (CatalogueError if bad)."""
    spec = read_catalogue(path)
    from opendata.catalogue.ingest import check_data_files

    check_data_files(spec)
    return spec


def load_into(
    database: Database, spec: CatalogueSpec, *, with_rows: bool = True, progress: Progress | None = None,
    staged: bool = True, versions_kept: int | None = None,
) -> LoadReport:
    """Load one catalogue: all of it, or nothing.

    Staged (the default), the changed data files are first loaded into hidden tables in
    short transactions, then metadata and the swaps of those tables commit in one short
    transaction, so the portal keeps serving and writing meanwhile (catalogue/staging.py).
    Not staged, rows are written inside the one transaction (which on SQLite holds the
    write lock for the whole load).

    A resource loaded for the first time with a ``history`` has its earlier files loaded
    first, each as one load (opendata.catalogue.history). Every one of those files is
    checked before the first loads, so a bad cell anywhere loads nothing; should a load
    still fail midway (the database), the portal keeps the releases that loaded, and the
    next load goes on from there."""
    kept = Settings().versions_kept if versions_kept is None else versions_kept
    if with_rows:
        from opendata.catalogue.history import releases_to_replay

        created: list[str] = []
        for release in releases_to_replay(database.engine, spec):
            created += _load_once(database, release, progress=progress, staged=staged, versions_kept=kept).created
        report = _load_once(database, spec, progress=progress, staged=staged, versions_kept=kept)
        if created:  # what the first release created is new to whoever asked for this load
            report.created = created + [name for name in report.created if name not in created]
            report.updated = [name for name in report.updated if name not in created]
            report.unchanged = [name for name in report.unchanged if name not in created]
        return report
    return _load_once(database, spec, with_rows=False, progress=progress, staged=staged, versions_kept=kept)


def _load_once(database: Database, spec: CatalogueSpec, *, with_rows: bool = True, progress: Progress | None,
               staged: bool, versions_kept: int) -> LoadReport:
    if with_rows and staged and staging_supported(database.engine):
        from opendata.catalogue.ingest import staged_catalogue_files

        for name in sweep_staging(database.engine):
            logger.info("dropped %s, left by a load that did not finish", name)
        with staged_catalogue_files(database.engine, spec, progress, versions_kept=versions_kept) as ingester:
            with database.transaction() as session:
                return load_catalogue(session, spec, ingest=ingester, progress=progress)
    ingest = None
    if with_rows:
        from opendata.catalogue.ingest import ingest_resource_file

        ingest = partial(ingest_resource_file, versions_kept=versions_kept)
    with database.transaction() as session:
        return load_catalogue(session, spec, ingest=ingest, progress=progress)


def load_catalogues_if_changed(database: Database, settings: Settings) -> Iterator[str]:
    """Load the configured catalogues whose manifest changed since they were last loaded."""
    for path in settings.catalogues:
        spec = read_catalogue(path)
        with database.session() as session:
            loaded = session.scalar(select(Catalogue.digest).where(Catalogue.id == spec.id))
        if loaded == spec.digest:
            yield f"catalogue {spec.id}: unchanged"
            continue
        yield load_into(database, spec, staged=settings.ingest_staged, versions_kept=settings.versions_kept).summary()
        yield from demo_extras(database, settings, spec)


def demo_extras(database: Database, settings: Settings, spec: CatalogueSpec) -> Iterator[str]:
    """After a load of the shipped demo catalogue: its asset register (opendata.demo.assets)."""
    from opendata.demo.assets import register_demo_assets

    for code in register_demo_assets(database, settings, spec):
        yield f"catalogue {spec.id}: registered the demo asset {code}"
