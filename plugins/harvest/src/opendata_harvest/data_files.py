"""Copying the data of a remote table: the file is downloaded (bounded, allowed hosts
only) into the run's folder ``<data dir>/harvest/<source>/run-<id>/<dataset>/<resource>.<csv|xlsx>``
and its data dictionary proposed by the core's ``catalogue infer``; the core's staged
ingest then loads it into the row store like any catalogue file. The row store holds the
rows afterwards: the run's folder is deleted when the run ends, however it ends.

A run downloads every changed dataset's tables before it loads them, so besides each
file's limit (``--max-data-mb``) a run has a budget of bytes for all its files together
(``opendata harvest run --max-run-data-mb``): a remote listing thousands of datasets, each
with many tables at the file limit, cannot fill the disk. A dataset whose files do not
fit is not harvested in this run (logged), and the next run takes it up."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opendata.catalogue.infer import infer_file
from opendata.formats import FormatError

from opendata_harvest.fetch import Fetcher, FetchError, host_of
from opendata_harvest.models import HarvestSource
from opendata_harvest.remote import RemoteResource


def run_folder(data_dir: Path, source_name: str, run_id: int) -> Path:
    """The folder of one run's downloads. Only one run of a source is live at a time (its
    claim), so the folders of its other runs were left by a process that died: removed."""
    parent = Path(data_dir) / "harvest" / source_name
    if parent.is_dir():
        for left in parent.glob("run-*"):
            shutil.rmtree(left, ignore_errors=True)
    return parent / f"run-{run_id}"


DEFAULT_RUN_DATA_BYTES = 2 * 1024 ** 3
MAX_RESOURCES = 100  # per remote dataset; the rest are logged, not harvested


class BudgetSpent(Exception):
    """The run has downloaded all the data it may: this dataset waits for the next run."""


@dataclass
class DataBudget:
    limit: int
    used: int = 0

    @property
    def remaining(self) -> int:
        return self.limit - self.used


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
                resource: RemoteResource, fmt: str, budget: DataBudget) -> TableFile:
    """Download and describe one table; FetchError or FormatError when it cannot be used,
    BudgetSpent when the run's budget cannot hold it."""
    if not resource.url:
        raise FetchError("no_url", "the resource has no URL")
    if budget.remaining <= 0:
        raise BudgetSpent()
    relative = f"{dataset_id}/{resource_id}.{fmt}"
    target = folder / relative
    limit = min(source.max_data_bytes, budget.remaining)
    try:
        budget.used += fetcher.download(resource.url, target, hosts=data_hosts(source), max_bytes=limit)
        return TableFile(relative, _dictionary(target, relative, resource_id, fmt))
    except FetchError as exc:
        target.unlink(missing_ok=True)
        if exc.code == "too_large" and limit < source.max_data_bytes:
            raise BudgetSpent() from None  # within the file limit: the budget is what it passed
        raise
    except FormatError:
        target.unlink(missing_ok=True)
        raise
