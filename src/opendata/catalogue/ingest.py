"""Catalogue-level ingest: checking data files and loading them into the row store,
with problems reported as catalogue problems (file, dataset, resource, field, line)."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Collection, Iterator

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from opendata.catalogue.manifest import CatalogueError, CatalogueSpec, Problem
from opendata.catalogue.models import Resource
from opendata.catalogue.rowstore import IngestError, check_file, ingest_file
from opendata.catalogue.staging import StagedTable, diff_staged, staged_digest, staged_rows, swap_in
from opendata.quality.meter import QualityMeter
from opendata.versions.record import DEFAULT_VERSIONS_KEPT, VersionSource


def problems_from(exc: IngestError, dataset_id: str, resource_id: str) -> list[Problem]:
    problems = [
        Problem(
            e.file or exc.file,
            e.message + (f" (value {e.value!r})" if e.value not in (None, "") else ""),
            dataset=dataset_id, resource=resource_id, field=e.column, line=e.line,
        )
        for e in exc.errors
    ]
    if exc.error_count > len(exc.errors):
        more = exc.error_count - len(exc.errors)
        problems.append(Problem(exc.file, f"… and {more} more problem(s)", dataset=dataset_id, resource=resource_id))
    return problems


def check_data_files(spec: CatalogueSpec, *, history: bool = True,
                     only: Collection[tuple[str, str]] | None = None) -> dict[tuple[str, str], int]:
    """Row counts per (dataset, resource), or CatalogueError listing every bad cell.
    ``history``: the earlier releases a first load replays are checked too; ``only``:
    just these (dataset, resource)."""
    counts: dict[tuple[str, str], int] = {}
    problems: list[Problem] = []
    for dataset in spec.datasets:
        for resource in dataset.resources:
            if not (resource.is_tabular and resource.path and spec.folder):
                continue
            if only is not None and (dataset.id, resource.id) not in only:
                continue
            for name in [*(resource.history or [] if history else []), resource.path]:
                try:
                    counts[(dataset.id, resource.id)] = check_file(
                        Path(spec.folder) / name, resource.format, resource.fields,
                        missing_values=resource.effective_missing_values, primary_key=resource.primary_key)
                except IngestError as exc:
                    problems += problems_from(exc, dataset.id, resource.id)
    if problems:
        raise CatalogueError(problems)
    return counts


def ingest_resource_file(session: Session, resource: Resource, spec: Any, progress: Any, *,
                         versions_kept: int = DEFAULT_VERSIONS_KEPT) -> None:
    """The catalogue loader's hook for one tabular resource (skips unchanged files)."""
    path = Path(spec.folder) / resource.path
    try:
        ingest_file(session, resource, path, fmt=resource.format, force=False, quality="catalogue",
                    source=VersionSource(versions_kept=versions_kept))
    except IngestError as exc:
        raise CatalogueError(problems_from(exc, resource.dataset_id, resource.id)) from None


class StagedIngester:
    """The catalogue loader's hook when the files were staged before its transaction:
    it only swaps each staged table in (resources whose file is unchanged have none)."""

    def __init__(self, versions_kept: int = DEFAULT_VERSIONS_KEPT) -> None:
        self.staged: dict[tuple[str, str], StagedTable] = {}
        self.versions_kept = versions_kept

    def __call__(self, session: Session, resource: Resource, spec: Any, progress: Any) -> None:
        staged = self.staged.get((resource.dataset_id, resource.id))
        if staged is not None:
            swap_in(session, resource, staged, VersionSource(versions_kept=self.versions_kept))


def _measure(engine: Engine, staged: dict[tuple[str, str], StagedTable], specs: dict[tuple[str, str], Any]) -> None:
    """Measure every staged table once all are staged: a reference to another table of
    the same load reads that table's new rows, even on the catalogue's first load."""
    loading = {key: (table.name, specs[key].fields) for key, table in staged.items()}
    for table in staged.values():
        if table.quality is not None:
            table.quality.measure(engine, table.name, loading)


@contextmanager
def staged_catalogue_files(engine: Engine, spec: CatalogueSpec, progress: Any = None, *,
                           versions_kept: int = DEFAULT_VERSIONS_KEPT) -> Iterator[StagedIngester]:
    """Stage every changed data file of ``spec`` (outside any long transaction) and yield
    the ingester that swaps them in; the first bad file raises CatalogueError, and on
    leaving, staged tables that were not swapped in are dropped. Commit before leaving."""
    ingester = StagedIngester(versions_kept)
    tables = [(d, r) for d in spec.datasets for r in d.resources if r.is_tabular and r.path and spec.folder]
    with Session(engine) as session:
        stored = {(d, r): (t, digest) for d, r, t, digest in session.execute(
            select(Resource.dataset_id, Resource.id, Resource.table_name, Resource.data_digest))}
    with ExitStack() as stack:
        for done, (dataset, resource) in enumerate(tables, start=1):
            path = Path(spec.folder) / resource.path  # type: ignore[arg-type]
            missing = resource.effective_missing_values
            table, digest = stored.get((dataset.id, resource.id), (None, None))
            if not (table and digest == staged_digest(resource, path, resource.fields, missing)):
                meter = QualityMeter(resource, "catalogue", (dataset.id, resource.id))
                try:
                    ingester.staged[(dataset.id, resource.id)] = stack.enter_context(staged_rows(
                        engine, resource, path, fmt=resource.format, fields=resource.fields, missing_values=missing,
                        meter=meter))
                except IngestError as exc:
                    raise CatalogueError(problems_from(exc, dataset.id, resource.id)) from None
            if progress:
                progress("staging", done, len(tables))
        _measure(engine, ingester.staged, {(d.id, r.id): r for d, r in tables})
        specs = {(d.id, r.id): r for d, r in tables}
        for key, table in ingester.staged.items():  # read-only, before the load's one transaction
            diff_staged(engine, table, stored.get(key, (None, None))[0], specs[key].primary_key)
        yield ingester
