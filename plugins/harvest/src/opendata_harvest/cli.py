"""``opendata harvest``: sources, runs, schedules and the harvest log (--json on every command)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator

import click

from opendata.cli_output import fail, report, report_list
from opendata.db import Database, utcnow
from opendata.settings import Settings

from opendata_harvest import service, sources
from opendata_harvest.data_files import DEFAULT_RUN_DATA_BYTES
from opendata_harvest.models import LOG_KINDS, SOURCE_TYPES, HarvestRun, ensure_tables
from opendata_harvest.sources import SourceError


@contextmanager
def _database(ctx: click.Context, *, migrate: bool = False) -> Iterator[tuple[Database, Settings]]:
    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    try:
        if migrate:
            with database.startup_lock():
                database.migrate()
        ensure_tables(database.engine)
        yield database, settings
    except SourceError as exc:
        fail(exc.message, exc.code)
    finally:
        database.dispose()


@click.group()
def harvest() -> None:
    """Harvest CKAN and DCAT catalogues into local datasets (opendata-harvest)."""


@harvest.command("init")
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the harvester's tables (every harvest command also does on first use)."""
    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    try:
        with database.startup_lock():
            database.migrate()
        created = ensure_tables(database.engine)
    finally:
        database.dispose()
    report(f"✓ harvest tables ready ({'created ' + ', '.join(created) if created else 'all existed'})",
           created=created)


@harvest.group("source")
def source_group() -> None:
    """Add, change, list and remove harvest sources."""


@source_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--type", "type_", type=click.Choice(SOURCE_TYPES), required=True, help="ckan: an Action API; dcat: a "
              "DCAT document (JSON-LD, Turtle or RDF/XML), paged with Hydra.")
@click.option("--domain", required=True, help="Data domain for datasets the remote does not classify (code or 中文).")
@click.option("--publisher", help="One local publisher id for every dataset (created in the harvest's catalogue); "
                                  "default: each remote organisation becomes a publisher NAME-<organisation>.")
@click.option("--publisher-name", help="The name of --publisher (default: the remote site's title).")
@click.option("--open-level", default="unconditional", show_default=True,
              type=click.Choice(["unconditional", "conditional", "closed"]),
              help="The least restrictive open level harvested datasets get (a remote may state a stricter one).")
@click.option("--licence", help="Licence code for datasets that name none.")
@click.option("--id-prefix", default="", help="Prefix of local dataset ids (when remote names collide with ours).")
@click.option("--with-data", is_flag=True, help="Copy the rows of open CSV/XLSX resources into the row store.")
@click.option("--data-host", "data_hosts", multiple=True,
              help="Another host[:port] data files may be downloaded from (repeatable); the source's own always may.")
@click.option("--max-data-mb", type=click.IntRange(1, 100_000), help="Largest data file copied (default 100 MB).")
@click.option("--max-datasets", type=click.IntRange(1, 1_000_000), help="Most datasets read per run (default 10000).")
@click.option("--every", help="Schedule: harvest every 30m, 6h, 1d ... (see `harvest schedule`).")
@click.pass_context
def source_add(ctx: click.Context, name: str, url: str, type_: str, domain: str, publisher: str | None,
               publisher_name: str | None, open_level: str, licence: str | None, id_prefix: str, with_data: bool,
               data_hosts: tuple[str, ...], max_data_mb: int | None, max_datasets: int | None,
               every: str | None) -> None:
    """Configure source NAME at URL."""
    with _database(ctx, migrate=True) as (database, _):
        with database.transaction() as session:
            source = sources.add_source(
                session, name, type_, url, domain=domain, publisher=publisher, publisher_name=publisher_name,
                open_level=open_level, licence=licence, id_prefix=id_prefix, with_data=with_data,
                data_hosts=data_hosts, max_data_bytes=max_data_mb * 1024 * 1024 if max_data_mb else None,
                max_datasets=max_datasets)
            if every:
                source.every_minutes = sources.parse_every(every)
            info = source.as_dict()
    report(f"✓ source {name} ({type_}) {url} → catalogue {info['catalogue']}; run it: opendata harvest run {name}",
           **info)


@source_group.command("set")
@click.argument("name")
@click.option("--domain", help="Data domain for datasets the remote does not classify.")
@click.option("--publisher-name", help="The name of the source's --publisher.")
@click.option("--open-level", type=click.Choice(["unconditional", "conditional", "closed"]))
@click.option("--licence", help="Licence code for datasets that name none.")
@click.option("--with-data/--without-data", default=None, help="Copy (or stop copying) the rows of open tables.")
@click.option("--data-host", "data_hosts", multiple=True, help="Replace the extra data hosts (repeatable).")
@click.option("--max-data-mb", type=click.IntRange(1, 100_000))
@click.option("--max-datasets", type=click.IntRange(1, 1_000_000))
@click.pass_context
def source_set(ctx: click.Context, name: str, domain: str | None, publisher_name: str | None, open_level: str | None,
               licence: str | None, with_data: bool | None, data_hosts: tuple[str, ...], max_data_mb: int | None,
               max_datasets: int | None) -> None:
    """Change options of source NAME (they apply from its next run; `run --full` re-reads all)."""
    with _database(ctx) as (database, _):
        with database.transaction() as session:
            source = sources.set_options(
                session, name, domain=domain, publisher_name=publisher_name, open_level=open_level, licence=licence,
                with_data=with_data, data_hosts=data_hosts or None,
                max_data_bytes=max_data_mb * 1024 * 1024 if max_data_mb else None, max_datasets=max_datasets)
            info = source.as_dict()
    report(f"✓ source {name} changed; `opendata harvest run {name} --full` applies it to every dataset", **info)


@source_group.command("list")
@click.pass_context
def source_list(ctx: click.Context) -> None:
    """The configured sources."""
    with _database(ctx) as (database, _):
        with database.session() as session:
            items = [s.as_dict() for s in sources.list_sources(session)]
    lines = [f"{s['name']:<16} {s['type']:<5} {s['url']}  → {s['catalogue']}"
             + (f"  every {s['every_minutes']} min" if s["every_minutes"] else "")
             + ("  +data" if s["with_data"] else "") for s in items] or ["no harvest sources"]
    report_list(lines, items)


@source_group.command("remove")
@click.argument("name")
@click.pass_context
def source_remove(ctx: click.Context, name: str) -> None:
    """Forget NAME, its runs and log (the datasets it harvested stay)."""
    with _database(ctx) as (database, _):
        with database.transaction() as session:
            source = sources.remove_source(session, name)
            catalogue = source.catalogue_id
    report(f"✓ removed source {name}; its datasets stay in catalogue {catalogue}", name=name, catalogue=catalogue)


@harvest.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every source.")
@click.option("--due", is_flag=True, help="The sources whose schedule is due (for cron).")
@click.option("--full", is_flag=True, help="Read every dataset again, not only those modified since the last run.")
@click.option("--overwrite-local", is_flag=True, help="Replace fields edited on this portal by the remote's values "
                                                      "(the log lists what was replaced).")
@click.option("--max-run-data-mb", type=click.IntRange(1), default=DEFAULT_RUN_DATA_BYTES // 2**20, show_default=True,
              help="What the data files of one source's run may take together (MB); datasets beyond it wait for "
                   "the next run.")
@click.pass_context
def run(ctx: click.Context, names: tuple[str, ...], all_: bool, due: bool, full: bool, overwrite_local: bool,
        max_run_data_mb: int) -> None:
    """Harvest NAMES now (or --all, or --due). Exit 1 when a run failed or logged errors."""
    if sum(map(bool, (names, all_, due))) != 1:
        raise click.UsageError("name one or more sources, or give --all or --due")
    with _database(ctx, migrate=True) as (database, settings):
        with database.session() as session:
            for name in names:
                sources.get_source(session, name)
            chosen = list(names) or ([s.name for s in sources.list_sources(session)] if all_
                                     else sources.due_sources(session))
        finished, busy = [], []
        for name in chosen:
            try:
                finished.append(service.run_source(database, settings, name, full=full,
                                                   overwrite_local=overwrite_local,
                                                   max_run_data_bytes=max_run_data_mb * 2**20))
            except service.HarvestBusy as exc:
                busy.append(str(exc))
    if busy and not finished and len(chosen) == 1:
        fail(busy[0], "busy")
    lines = [("✓ " if r.status == "ok" else "✗ ") + r.summary() for r in finished] + [f"✗ {b}" for b in busy]
    report("\n".join(lines) or "nothing is due", runs=[r.as_dict() for r in finished], busy=busy)
    if busy or any(r.status != "ok" for r in finished):
        raise SystemExit(1)


@harvest.command("schedule")
@click.argument("name", required=False)
@click.option("--every", help="Harvest NAME every 30m, 6h, 1d ...")
@click.option("--off", is_flag=True, help="Stop harvesting NAME on a schedule.")
@click.option("--loop", is_flag=True, help="Stay running: harvest each source when it is due (a scheduler process).")
@click.pass_context
def schedule(ctx: click.Context, name: str | None, every: str | None, off: bool, loop: bool) -> None:
    """Show the schedules, set one (NAME --every 6h | --off), or run them (--loop).

    Without --loop, run `opendata harvest run --due` from cron or a systemd timer."""
    if loop:
        if name or every or off:
            raise click.UsageError("--loop takes no NAME, --every or --off")
        with _database(ctx, migrate=True) as (database, settings):
            scheduler_loop(database, settings, echo=lambda text: click.echo(text, err=True))
        return
    with _database(ctx) as (database, _):
        with database.transaction() as session:
            if name:
                if bool(every) == off:
                    raise click.UsageError("give --every INTERVAL or --off with NAME")
                sources.set_schedule(session, name, None if off else sources.parse_every(every or ""))
            items = [{"name": s.name, "every_minutes": s.every_minutes,
                      "last_run_at": s.last_run_at.isoformat() if s.last_run_at else None,
                      "next_due": due.isoformat() if (due := sources.next_due(s)) else None}
                     for s in sources.list_sources(session) if not name or s.name == name]
    lines = [f"{i['name']:<16} " + (f"every {i['every_minutes']} min, next {i['next_due']}" if i["every_minutes"]
                                    else "not scheduled") for i in items] or ["no harvest sources"]
    report_list(lines, items)


def scheduler_loop(database: Database, settings: Settings, *, echo: Callable[[str], None],
                   sleep: Callable[[float], None] = time.sleep, cycles: int | None = None) -> None:
    """Run due sources, then sleep until the next one is due (at most a minute, so new
    schedules are seen); ``cycles`` bounds the loop (tests)."""
    done = 0
    while cycles is None or done < cycles:
        done += 1
        with database.session() as session:
            due = sources.due_sources(session)
        for name in due:
            try:
                finished = service.run_source(database, settings, name)
                echo(finished.summary())
            except service.HarvestBusy as exc:
                echo(str(exc))
        with database.session() as session:
            upcoming = [d for s in sources.list_sources(session) if (d := sources.next_due(s)) is not None]
        wait = min([(d - utcnow()).total_seconds() for d in upcoming] + [60.0])
        if cycles is None or done < cycles:
            sleep(max(wait, 1.0))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@harvest.command("status")
@click.argument("name", required=False)
@click.option("--run", "run_id", type=int, help="The log of this run (default: the latest run of NAME).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(LOG_KINDS), help="Only these log entries.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000), help="Runs listed.")
@click.pass_context
def status(ctx: click.Context, name: str | None, run_id: int | None, kinds: tuple[str, ...], limit: int) -> None:
    """The latest runs (of NAME), and the log of one run: created, updated, withdrawn,
    errors and conflicts, each with its remote id."""
    with _database(ctx) as (database, _):
        with database.session() as session:
            if name:
                sources.get_source(session, name)
            recent = service.runs(session, name, limit)
            shown = next((r for r in recent if r.id == run_id), None) if run_id else (recent[0] if name and recent
                                                                                       else None)
            if run_id and shown is None:
                shown = session.get(HarvestRun, run_id)
                if shown is None:
                    fail(f"no harvest run {run_id}", "unknown_run")
            entries = [e.as_dict() for e in service.run_log(session, shown.id, kinds)] if shown else []
    lines = [f"{r.id:>5} {r.source_name:<16} {_when(r.started_at)} {r.status:<7} +{r.created} ~{r.updated} "
             f"={r.unchanged} -{r.withdrawn} !{r.errors} conflicts {r.conflicts}" for r in recent] or ["no runs yet"]
    if shown is not None:
        lines.append(f"log of run {shown.id} ({shown.source_name}, {shown.status})"
                     + (f": {shown.message}" if shown.message else ""))
        lines += [f"  {e['kind']:<11} {e['remote_id'] or '-'} → {e['dataset'] or '-'}: {e['message']}" for e in entries]
    report("\n".join(lines), runs=[r.as_dict() for r in recent],
           log={"run": shown.id, "entries": entries} if shown is not None else None)
