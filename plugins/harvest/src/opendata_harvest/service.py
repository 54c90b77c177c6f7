"""One harvest run of one source: list the remote, read what changed, turn it into a
catalogue manifest, let the core validate and load it, and log every outcome.

Each remote dataset is validated on its own (the core's ``parse_raw``), so one bad record
is one logged error with its remote id, not a failed run. The valid ones load together
through ``load_into`` (staged row ingest, versions, search index: all the core's); if that
load is refused, they are loaded one at a time so the refusal is logged against the
dataset that caused it. A source that cannot be read at all fails the run, which says why.

A run that stops midway (the database goes away, a bug, the process is stopped) leaves
what it loaded remembered (each load is followed by its harvest records), the rest not
loaded, its downloads deleted, and its log row failed with the reason; a run left
``running`` by a process that died is marked failed by the next run of its source.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from opendata.catalogue.commands import load_into
from opendata.catalogue.manifest import CatalogueError, CatalogueSpec, parse_raw
from opendata.catalogue.models import Dataset, Resource
from opendata.db import Database, utcnow
from opendata.formats import FormatError
from opendata.settings import Settings

from opendata_harvest import mapping, sources
from opendata_harvest.ckan import CkanReader
from opendata_harvest.data_files import (
    DEFAULT_RUN_DATA_BYTES, MAX_RESOURCES, BudgetSpent, DataBudget, fetch_table, run_folder,
)
from opendata_harvest.dcat import DcatReader
from opendata_harvest.edits import ROWS_EDITED, kept_table, merge_local_edits, rows_edited, table_values
from opendata_harvest.fetch import Fetcher, FetchError, host_of
from opendata_harvest.provenance import provenance, withdrawn
from opendata_harvest.models import HarvestLogEntry, HarvestObject, HarvestRun, HarvestSource, ensure_tables
from opendata_harvest.remote import ListedDataset, Listing, RemoteDataset, SourceReader

logger = logging.getLogger("opendata.harvest")


class HarvestBusy(Exception):
    pass


@dataclass
class Prepared:
    """One changed remote dataset, ready to load."""

    item: ListedDataset
    record: RemoteDataset
    dataset_id: str
    table: dict[str, Any]
    publisher: dict[str, Any]
    harvested: dict[str, Any]
    still_edited: list[str]
    resource_urls: dict[str, str]


class RunLog:
    def __init__(self, run: HarvestRun) -> None:
        self.run = run
        self.entries: list[HarvestLogEntry] = []

    def add(self, kind: str, message: str, remote_id: str | None = None, dataset_id: str | None = None,
            **details: Any) -> HarvestLogEntry:
        entry = HarvestLogEntry(run_id=self.run.id, kind=kind, remote_id=remote_id, dataset_id=dataset_id,
                                message=message[:2000], details=details or None)
        self.entries.append(entry)
        if kind == "error":
            self.run.errors += 1
        elif kind == "conflict":
            self.run.conflicts += 1
        return entry


def make_reader(source: HarvestSource, fetcher: Fetcher) -> SourceReader:
    if source.type == "ckan":
        return CkanReader(source.url, fetcher, max_datasets=source.max_datasets)
    return DcatReader(source.url, fetcher, max_datasets=source.max_datasets)


def run_source(database: Database, settings: Settings, name: str, *, full: bool = False,
               overwrite_local: bool = False, client: httpx.Client | None = None,
               max_run_data_bytes: int = DEFAULT_RUN_DATA_BYTES) -> HarvestRun:
    """Harvest ``name`` now; returns the finished run (its log is in the database).
    ``max_run_data_bytes``: what all the run's data files may take together."""
    ensure_tables(database.engine)
    with database.transaction() as session:
        source = sources.get_source(session, name)
        if not sources.claim(session, name):
            raise HarvestBusy(f"source {name!r} is being harvested by another run (since {source.running_since})")
        now = utcnow()
        # The claim is ours, so a run of this source still "running" belongs to a dead process.
        session.execute(update(HarvestRun).where(HarvestRun.source_name == name, HarvestRun.status == "running")
                        .values(status="failed", finished_at=now,
                                message="interrupted: the process running it stopped before it finished"))
        run = HarvestRun(source_name=name, full=full, started_at=now)
        session.add(run)
        session.flush()
        session.expunge(source)
    log = RunLog(run)
    fetcher = Fetcher({host_of(source.url)}, client)
    folder = run_folder(settings.data_dir, source.name, run.id)
    try:
        _harvest(database, settings, source, fetcher, make_reader(source, fetcher), log, folder, full=full,
                 overwrite=overwrite_local, budget=DataBudget(max_run_data_bytes))
        run.status = "errors" if run.errors else "ok"
    except FetchError as exc:
        run.status, run.message = "failed", f"{exc.code}: {exc.message}"[:2000]
    except Exception as exc:  # the run says what broke; the next source (of --all, a scheduler) goes on
        logger.exception("harvest run %s of %s failed", run.id, name)
        run.status, run.message = "failed", f"{type(exc).__name__}: {exc}"[:2000]
    except BaseException:  # stopped (Ctrl-C, SIGTERM): said, the source released, then stop
        run.status, run.message = "failed", "interrupted"
        raise
    finally:
        fetcher.close()
        shutil.rmtree(folder, ignore_errors=True)
        run.finished_at = utcnow()
        with database.transaction() as session:
            session.merge(run)
            session.add_all(log.entries)
            sources.release(session, name, run.finished_at)
    return run


def _harvest(database: Database, settings: Settings, source: HarvestSource, fetcher: Fetcher, reader: SourceReader,
             log: RunLog, folder: Path, *, full: bool, overwrite: bool, budget: DataBudget) -> None:
    listing = reader.listing()
    run = log.run
    run.listed = len(listing.items)
    for problem in listing.problems:
        log.add("error", problem.message, problem.remote_id)
    with database.session() as session:
        objects = {o.remote_id: o for o in session.scalars(
            select(HarvestObject).where(HarvestObject.source_name == source.name))}
    changed = [item for item in listing.items
               if full or (obj := objects.get(item.remote_id)) is None or obj.remote_modified != item.version
               or obj.state != "active"]
    run.unchanged = run.listed - len(changed)
    prepared = _prepare_all(database, source, fetcher, reader, changed, objects, listing, folder, log, overwrite,
                            budget)
    _load(database, settings, source, listing, prepared, folder, log, objects)
    with database.transaction() as session:
        if listing.complete:
            listed = {item.remote_id for item in listing.items}
            for obj in objects.values():
                if obj.state == "active" and obj.remote_id not in listed:
                    row = session.get(HarvestObject, obj.pk)
                    row.state = "withdrawn"
                    dataset = session.get(Dataset, obj.dataset_id)
                    flagged = withdrawn(dataset.extensions) if dataset is not None else None
                    if flagged is not None:  # shown in the dataset's API, CKAN and DCAT
                        dataset.extensions = flagged
                    run.withdrawn += 1
                    log.add("withdrawn", f"no longer listed by {source.name}; the local dataset {obj.dataset_id} is "
                                         "kept", obj.remote_id, obj.dataset_id)
        elif objects:
            log.add("note", "the listing was not complete: nothing was marked withdrawn")


def _prepare_all(database: Database, source: HarvestSource, fetcher: Fetcher, reader: SourceReader,
                 changed: list[ListedDataset],
                 objects: dict[str, HarvestObject], listing: Listing, folder: Path, log: RunLog,
                 overwrite: bool, budget: DataBudget) -> list[Prepared]:
    out: list[Prepared] = []
    taken: dict[str, str] = {}
    with database.session() as session:
        for item in changed:
            try:
                record = reader.detail(item)
            except FetchError as exc:
                log.add("error", f"{exc.code}: {exc.message}", item.remote_id)
                continue
            obj = objects.get(item.remote_id)
            dataset_id = obj.dataset_id if obj else mapping.local_dataset_id(source, record)
            owner = session.scalar(select(Dataset.catalogue_id).where(Dataset.id == dataset_id))
            if owner is not None and owner != source.catalogue_id:
                log.add("error", f"dataset id {dataset_id!r} already belongs to catalogue {owner!r}; give the source "
                                 "an --id-prefix", item.remote_id, dataset_id)
                continue
            if dataset_id in taken:
                log.add("error", f"dataset id {dataset_id!r} is also the id of remote {taken[dataset_id]!r}",
                        item.remote_id, dataset_id)
                continue
            taken[dataset_id] = item.remote_id
            try:
                out.append(_prepare(session, source, fetcher, item, record, dataset_id, obj, listing, folder,
                                    log, overwrite, budget))
            except BudgetSpent:  # neither loaded nor remembered: the next run reads it as changed
                log.add("error", f"not harvested in this run: its data files do not fit in what is left of the "
                                 f"run's {budget.limit:,} bytes (--max-run-data-mb); the next run takes it up",
                        item.remote_id, dataset_id)
            except CatalogueError as exc:
                log.add("error", "; ".join(p.message if not p.key else f"{p.key}: {p.message}" for p in exc.problems),
                        item.remote_id, dataset_id, problems=[str(p) for p in exc.problems][:20])
    return out


def _catalogue_head(source: HarvestSource, listing: Listing) -> dict[str, Any]:
    return {"id": source.catalogue_id, "title_zh": (listing.site_title or f"采集：{source.name}")[:255],
            "title_en": f"Harvested from {source.url}"[:255]}


def _prepare(session, source: HarvestSource, fetcher: Fetcher, item: ListedDataset, record: RemoteDataset,  # noqa: ANN001
             dataset_id: str, obj: HarvestObject | None, listing: Listing, folder: Path, log: RunLog,
             overwrite: bool, budget: DataBudget) -> Prepared:
    publisher = mapping.publisher_table(source, record, listing.site_title)
    table = mapping.dataset_table(source, record, dataset_id, publisher["id"])
    harvested = table_values(table)
    dataset = session.scalars(select(Dataset).where(Dataset.id == dataset_id).options(
        selectinload(Dataset.tags), selectinload(Dataset.resources).selectinload(Resource.fields))).one_or_none()
    local_tables = {r.id: r for r in dataset.resources} if dataset is not None else {}
    edits = merge_local_edits(table, dataset, obj.harvested if obj else None, obj.local_edits if obj else None,
                              overwrite=overwrite)
    if edits.kept:
        log.add("conflict", "kept local edits of " + ", ".join(edits.kept) + " (the remote changed "
                               "them too; --overwrite-local takes the remote's)", item.remote_id, dataset_id,
                fields=edits.kept)
    if edits.overwritten:
        log.add("overwritten", "replaced local edits of " + ", ".join(edits.overwritten),
                item.remote_id, dataset_id, fields=edits.overwritten)
    resources, urls, used, kept_rows = [], {}, set(), []
    copy_rows = source.with_data and table["open_level"] == "unconditional"
    if len(record.resources) > MAX_RESOURCES:
        log.add("error", f"lists {len(record.resources):,} resources: the first {MAX_RESOURCES} are harvested",
                item.remote_id, dataset_id)
    for remote_res in record.resources[:MAX_RESOURCES]:
        resource_id = mapping.resource_id_of(remote_res, used)
        if remote_res.url:
            urls[resource_id] = remote_res.url
        fmt = mapping.tabular_format(remote_res)
        res_table = mapping.resource_table(remote_res, resource_id, mapping.link_format(remote_res))
        local = local_tables.get(resource_id)
        if fmt and copy_rows and rows_edited(local, obj.local_edits if obj else None, obj.row_digests if obj else None):
            if not overwrite:
                res_table.update(kept_table(local))
                resources.append(res_table)
                kept_rows.append(resource_id)
                log.add("conflict", f"kept the rows of {resource_id}, replaced here (--overwrite-local takes the "
                                    "remote's)", item.remote_id, dataset_id, resource=resource_id)
                continue
            log.add("overwritten", f"replaced the local rows of {resource_id} by the remote's", item.remote_id,
                    dataset_id, resource=resource_id)
        if fmt and copy_rows:
            try:
                res_table.update(fetch_table(fetcher, source, folder, dataset_id, resource_id, remote_res,
                                             fmt, budget).table, format=fmt)
            except (FetchError, FormatError) as exc:
                had_rows = local is not None and local.table_name is not None
                if had_rows:  # no path: the load ingests nothing, the rows stay
                    res_table.update(kept_table(local))
                kept = "; the rows of the last harvest are kept" if had_rows else "; recorded as a link"
                log.add("error", f"resource {resource_id}: {getattr(exc, 'message', str(exc))}{kept}",
                        item.remote_id, dataset_id, resource=resource_id, url=remote_res.url)
        resources.append(res_table)
    table["resources"] = resources
    extensions = provenance(source.name, source.type, item.remote_id, record.landing_page)
    if extensions:
        table["extensions"] = extensions
    # The core's own validation of this one dataset (CatalogueError lists every problem).
    parse_raw({"catalogue": _catalogue_head(source, listing), "publishers": [publisher], "datasets": [table]},
              file=f"harvest:{source.name}", folder=folder)
    still_edited = edits.still_edited + [ROWS_EDITED + r for r in kept_rows]
    return Prepared(item, record, dataset_id, table, publisher, harvested, still_edited, urls)


def _spec(source: HarvestSource, listing: Listing, batch: list[Prepared], folder: Path) -> CatalogueSpec:
    publishers = list({p.publisher["id"]: p.publisher for p in batch}.values())
    return parse_raw({"catalogue": _catalogue_head(source, listing), "publishers": publishers,
                      "datasets": [p.table for p in batch]}, file=f"harvest:{source.name}", folder=folder)


def _load(database: Database, settings: Settings, source: HarvestSource, listing: Listing, prepared: list[Prepared],
          folder: Path, log: RunLog, objects: dict[str, HarvestObject]) -> None:
    """Load ``prepared`` (all at once, else one at a time); each load that commits is
    followed at once by its harvest records, so a run that stops midway forgets nothing it
    loaded."""

    def load(batch: list[Prepared]) -> None:
        report = load_into(database, _spec(source, listing, batch, folder), staged=settings.ingest_staged,
                           versions_kept=settings.versions_kept)
        with database.transaction() as session:
            for one in batch:
                _remember(session, source, one, objects.get(one.item.remote_id))
        for one in batch:
            if one.dataset_id in report.created:
                log.run.created += 1
                log.add("created", f"created {one.dataset_id}", one.item.remote_id, one.dataset_id)
            elif one.dataset_id in report.updated:
                log.run.updated += 1
                log.add("updated", f"updated {one.dataset_id}", one.item.remote_id, one.dataset_id)
            else:
                log.run.unchanged += 1

    if not prepared:
        return
    try:
        load(prepared)
    except CatalogueError:
        for one in prepared:  # find the dataset the load refused; load the others
            try:
                load([one])
            except CatalogueError as exc:
                log.add("error", "not loaded: " + "; ".join(p.message for p in exc.problems)[:1500],
                        one.item.remote_id, one.dataset_id, problems=[str(p) for p in exc.problems][:20])


def _remember(session, source: HarvestSource, item: Prepared, known: HarvestObject | None) -> None:  # noqa: ANN001
    obj = session.get(HarvestObject, known.pk) if known is not None else None
    if obj is None:
        obj = HarvestObject(source_name=source.name, remote_id=item.item.remote_id, first_harvested_at=utcnow())
        session.add(obj)
    obj.dataset_id = item.dataset_id
    obj.remote_modified = item.item.version
    obj.remote_url = item.record.landing_page
    obj.state = "active"
    obj.harvested = item.harvested
    obj.local_edits = item.still_edited
    obj.resource_urls = item.resource_urls
    obj.row_digests = {r.id: r.data_digest for r in session.scalars(select(Resource).where(
        Resource.dataset_id == item.dataset_id, Resource.table_name.is_not(None)))}
    obj.last_harvested_at = utcnow()


def runs(session, name: str | None = None, limit: int = 10) -> list[HarvestRun]:  # noqa: ANN001
    stmt = select(HarvestRun).order_by(HarvestRun.id.desc()).limit(limit)
    if name:
        stmt = stmt.where(HarvestRun.source_name == name)
    return list(session.scalars(stmt))


def run_log(session, run_id: int, kinds: tuple[str, ...] = ()) -> list[HarvestLogEntry]:  # noqa: ANN001
    stmt = select(HarvestLogEntry).where(HarvestLogEntry.run_id == run_id).order_by(HarvestLogEntry.pk)
    if kinds:
        stmt = stmt.where(HarvestLogEntry.kind.in_(kinds))
    return list(session.scalars(stmt))
