"""Response shapes of /api/v1/datasets/{id}/versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opendata.versions.models import DatasetVersion


@dataclass
class VersionSummaryOut:
    number: int
    resource: str
    created_at: datetime
    actor: str
    origin: str
    file_name: str | None
    file_digest: str | None
    row_count: int
    added: int
    removed: int
    changed: int | None
    # Whether the rows of this version can still be downloaded (kept generations).
    downloadable: bool
    restored_from: int | None = None


@dataclass
class VersionOut(VersionSummaryOut):
    diff_key: str | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    # Up to 10 keys per list: added / removed / changed; columns_added / columns_removed;
    # keys_hidden when the viewer may not see keys of this dataset.
    samples: dict[str, Any] = field(default_factory=dict)


def _summary_values(v: DatasetVersion) -> dict[str, Any]:
    return dict(
        number=v.number, resource=v.resource_id, created_at=v.created_at, actor=v.actor, origin=v.origin,
        file_name=v.file_name, file_digest=v.file_digest, row_count=v.row_count, added=v.added,
        removed=v.removed, changed=v.changed, downloadable=v.table_name is not None,
        restored_from=v.restored_from,
    )


def version_summary(v: DatasetVersion) -> VersionSummaryOut:
    return VersionSummaryOut(**_summary_values(v))


def version_out(v: DatasetVersion, samples: dict[str, Any]) -> VersionOut:
    return VersionOut(**_summary_values(v), diff_key=v.diff_key, columns=list(v.columns or []), samples=samples)
