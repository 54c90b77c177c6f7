"""Fields edited on this portal are never overwritten silently.

The harvester remembers the remote's values of the locally editable fields (those
``PATCH /api/v1/datasets/{id}`` and the publisher pages change) as it last wrote them. At
the next harvest a field whose local value differs from that memory was edited here: the
local value is kept, the field is recorded as edited, and the run logs a conflict with
both values, until the remote comes to agree or a run is told ``--overwrite-local`` (then
the log says which local values were replaced).

Rows are treated the same way: the digest of each copied table is remembered after the
harvest's load; a table whose rows were replaced here since (a publisher's upload) keeps
its local rows and dictionary, logged as a conflict, until ``--overwrite-local``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opendata.access.dataset_edit import EDITABLE
from opendata.catalogue.models import Dataset, Resource

EDITABLE_FIELDS = tuple(EDITABLE)


def table_values(table: dict[str, Any]) -> dict[str, Any]:
    """The editable fields of a manifest dataset table, as the database will hold them."""
    return {name: (list(table.get(name) or []) if name == "tags" else table.get(name)) for name in EDITABLE_FIELDS}


def local_values(dataset: Dataset) -> dict[str, Any]:
    return {name: (dataset.tag_names if name == "tags" else getattr(dataset, name)) for name in EDITABLE_FIELDS}


@dataclass
class EditOutcome:
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {local, remote}
    overwritten: dict[str, dict[str, Any]] = field(default_factory=dict)
    still_edited: list[str] = field(default_factory=list)


def merge_local_edits(table: dict[str, Any], dataset: Dataset | None, harvested: dict[str, Any] | None,
                      known_edits: list[str] | None, *, overwrite: bool) -> EditOutcome:
    """Put the local values of locally edited fields into ``table`` (unless ``overwrite``)."""
    outcome = EditOutcome()
    if dataset is None or harvested is None:
        return outcome
    current, remote = local_values(dataset), table_values(table)
    known = set(known_edits or [])
    for name in EDITABLE_FIELDS:
        if name not in known and current[name] == harvested.get(name):
            continue  # not edited here
        if current[name] == remote[name]:
            continue  # edited here, and the remote now says the same
        values = {"local": current[name], "remote": remote[name]}
        if overwrite:
            outcome.overwritten[name] = values
            continue
        outcome.kept[name] = values
        outcome.still_edited.append(name)
        if current[name] in (None, [], ""):
            table.pop(name, None)
        else:
            table[name] = current[name]
    return outcome


ROWS_EDITED = "rows:"  # local_edits entry of a table whose rows were replaced here
_FIELD_KEYS = ("name", "title_zh", "title_en", "type", "unit", "description", "sensitivity", "mask",
               "missing_values")


def rows_edited(resource: Resource | None, known_edits: list[str] | None, row_digests: dict[str, str] | None) -> bool:
    """Whether ``resource``'s rows were replaced here since the harvest last loaded them."""
    if resource is None or not resource.table_name:
        return False
    if ROWS_EDITED + resource.id in (known_edits or []):
        return True
    stored = (row_digests or {}).get(resource.id)
    return stored is not None and stored != resource.data_digest


def kept_table(resource: Resource) -> dict[str, Any]:
    """The manifest keys that keep a local table as it is: its format and dictionary, and
    no path, so the load ingests nothing and the rows stay."""
    fields = [{**{k: getattr(f, k) for k in _FIELD_KEYS if getattr(f, k) is not None}, **(f.constraints or {})}
              for f in resource.fields]
    table: dict[str, Any] = {"format": resource.format, "fields": fields}
    for key in ("primary_key", "subject_key", "missing_values"):
        if getattr(resource, key) is not None:
            table[key] = getattr(resource, key)
    return table
