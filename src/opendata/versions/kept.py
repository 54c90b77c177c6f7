"""A resource as it was at a kept version, for the download code path (catalogue.data_api).

The rows are the version's table; the fields are those of the *current* dictionary that
the version's table still has, so that today's masks, grades and licence field grants
apply to old rows exactly as to current ones (a column the dictionary dropped since is not
served: no rule exists for it any more). A field whose type changed is read as stored then.
"""

from __future__ import annotations

from typing import Any

from opendata.catalogue.models import Field, Resource
from opendata.errors import AppError
from opendata.versions.models import DatasetVersion


def _as_stored(field: Field, type_name: str) -> Field:
    """A detached copy of ``field`` typed as the old table stores it (never added to a session)."""
    return Field(name=field.name, title_zh=field.title_zh, title_en=field.title_en, type=type_name,
                 unit=field.unit, description=field.description, sensitivity=field.sensitivity,
                 mask=field.mask, position=field.position)


class KeptGeneration:
    """Reads like the Resource (id, titles, keys) but points at the version's table."""

    def __init__(self, resource: Resource, version: DatasetVersion) -> None:
        if version.resource_id != resource.id:
            raise AppError(404, "not_found", f"version {version.number} is not of table {resource.id!r}")
        if version.table_name is None:
            raise AppError(410, "version_not_kept",
                           f"the rows of version {version.number} are no longer kept (versions_kept)")
        self._resource = resource
        self.table_name = version.table_name
        self.row_count = version.row_count
        stored = {c["name"]: c["type"] for c in version.columns}
        self.fields = [f if stored[f.name] == f.type else _as_stored(f, stored[f.name])
                       for f in resource.fields if f.name in stored]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resource, name)
