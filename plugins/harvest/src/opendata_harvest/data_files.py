"""Copying the data of a remote table: the file is downloaded (bounded, allowed hosts
only) into ``<data dir>/harvest/<source>/<dataset>/<resource>.<csv|xlsx>`` and its data
dictionary proposed by the core's ``catalogue infer``; the core's staged ingest then
loads it into the row store like any catalogue file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opendata.catalogue.infer import infer_file
from opendata.formats import FormatError

from opendata_harvest.fetch import Fetcher, FetchError, host_of
from opendata_harvest.models import HarvestSource
from opendata_harvest.remote import RemoteResource


def source_folder(data_dir: Path, source_name: str) -> Path:
    return Path(data_dir) / "harvest" / source_name


@dataclass
class TableFile:
    path: str  # relative to the source folder, as the manifest names it
    table: dict[str, Any]  # the manifest keys the file decides: path, fields, primary_key, missing_values


def data_hosts(source: HarvestSource) -> set[str]:
    return {host_of(source.url), *(h.lower() for h in source.data_hosts or [])}


def _dictionary(path: Path, relative: str, resource_id: str, fmt: str) -> dict[str, Any]:
    proposal = infer_file(path, fmt=fmt)
    if not proposal.columns:
        raise FormatError("empty_file", f"{path.name} has no columns")
    proposed = proposal.resource(resource_id, relative)
    # A column that had no gaps this time may have some next time: not required.
    fields = [{k: v for k, v in f.items() if k != "required"} for f in proposed["fields"]]
    table = {"path": relative, "fields": fields}
    for key in ("primary_key", "missing_values"):
        if key in proposed:
            table[key] = proposed[key]
    return table


def fetch_table(fetcher: Fetcher, source: HarvestSource, folder: Path, dataset_id: str, resource_id: str,
                resource: RemoteResource, fmt: str) -> TableFile:
    """Download and describe one table; FetchError or FormatError when it cannot be used,
    in which case a copy from an earlier harvest is left as it was."""
    if not resource.url:
        raise FetchError("no_url", "the resource has no URL")
    relative = f"{dataset_id}/{resource_id}.{fmt}"
    target = folder / relative
    fresh = target.with_name(target.name + ".new")
    try:
        fetcher.download(resource.url, fresh, hosts=data_hosts(source), max_bytes=source.max_data_bytes)
        table = _dictionary(fresh, relative, resource_id, fmt)
        fresh.replace(target)
    finally:
        fresh.unlink(missing_ok=True)
    return TableFile(relative, table)


def previous_table(folder: Path, dataset_id: str, resource_id: str, fmt: str) -> TableFile | None:
    """The copy an earlier harvest left, described again (None if there is none or it is unreadable)."""
    relative = f"{dataset_id}/{resource_id}.{fmt}"
    if not (folder / relative).is_file():
        return None
    try:
        return TableFile(relative, _dictionary(folder / relative, relative, resource_id, fmt))
    except FormatError:
        return None


def prune_files(folder: Path, dataset_id: str, kept: set[str]) -> None:
    """Remove the copies of a dataset's tables that its loaded resources no longer name
    (a resource the remote dropped, or one now recorded as a link)."""
    directory = folder / dataset_id
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        if path.is_file() and f"{dataset_id}/{path.name}" not in kept:
            path.unlink(missing_ok=True)
