"""Catalogue-level ingest: checking data files and loading them into the row store,
with problems reported as catalogue problems (file, dataset, resource, field, line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from opendata.catalogue.manifest import CatalogueError, CatalogueSpec, Problem
from opendata.catalogue.models import Resource
from opendata.catalogue.rowstore import IngestError, check_file, ingest_file


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


def check_data_files(spec: CatalogueSpec) -> dict[tuple[str, str], int]:
    """Row counts per (dataset, resource), or CatalogueError listing every bad cell."""
    counts: dict[tuple[str, str], int] = {}
    problems: list[Problem] = []
    for dataset in spec.datasets:
        for resource in dataset.resources:
            if not (resource.is_tabular and resource.path and spec.folder):
                continue
            path = Path(spec.folder) / resource.path
            try:
                counts[(dataset.id, resource.id)] = check_file(
                    path, resource.format, resource.fields,
                    missing_values=resource.effective_missing_values, primary_key=resource.primary_key)
            except IngestError as exc:
                problems += problems_from(exc, dataset.id, resource.id)
    if problems:
        raise CatalogueError(problems)
    return counts


def ingest_resource_file(session: Session, resource: Resource, spec: Any, progress: Any) -> None:
    """The catalogue loader's hook for one tabular resource (skips unchanged files)."""
    path = Path(spec.folder) / resource.path
    try:
        ingest_file(session, resource, path, fmt=resource.format, force=False)
    except IngestError as exc:
        raise CatalogueError(problems_from(exc, resource.dataset_id, resource.id)) from None
