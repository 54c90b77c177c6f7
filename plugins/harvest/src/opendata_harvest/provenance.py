"""Where a harvested dataset came from, as the ``harvest`` dataset metadata extension
(docs/plugins.md): stored with the dataset and shown in ``/api/v1/datasets/{id}``
(``extensions.harvest``), CKAN's extras (``harvest.remote_id`` …) and DCAT
(``od:harvest_remote_id`` …). ``withdrawn`` is true once the source stopped listing it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opendata.extensions.registry import metadata_extension

NAME = "harvest"
KEYS: dict[str, type] = {"source": str, "type": str, "remote_id": str, "remote_url": str, "withdrawn": bool}


class HarvestProvenance:
    name = NAME

    def clean(self, values: Mapping[str, Any]) -> dict[str, Any]:
        problems, out = [], {}
        for key, value in values.items():
            kind = KEYS.get(key)
            if kind is None:
                problems.append(f"unknown key {key!r} (keys: {', '.join(KEYS)})")
            elif not isinstance(value, kind) or (kind is str and not 0 < len(value) <= 2000):
                problems.append(f"{key} must be {'true or false' if kind is bool else 'text of at most 2000 characters'}")
            else:
                out[key] = value
        if problems:
            raise ValueError("; ".join(problems))
        return out


def provenance(source_name: str, source_type: str, remote_id: str, remote_url: str | None) -> dict[str, Any] | None:
    """The extension table of a harvested dataset, when the plugin's extension is enabled
    in this process (it is wherever the plugin is: OPENDATA_PLUGINS=harvest)."""
    if metadata_extension(NAME) is None:
        return None
    values = {"source": source_name, "type": source_type, "remote_id": remote_id}
    if remote_url:
        values["remote_url"] = remote_url[:2000]
    return {NAME: values}


def withdrawn(extensions: dict[str, Any] | None) -> dict[str, Any] | None:
    """``extensions`` with the harvest's ``withdrawn`` flag set (a new dict: JSON columns
    notice assignment, not mutation); None when the dataset has no harvest provenance."""
    if not extensions or NAME not in extensions:
        return None
    return {**extensions, NAME: {**extensions[NAME], "withdrawn": True}}
