"""The ``opendata`` command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from opendata.cli_output import OpenDataGroup, ProgressBars, equip, fail, report
from opendata.settings import ENV_PREFIX, Settings


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_object(Settings) or Settings.from_env()


@click.group(cls=OpenDataGroup)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data directory (OPENDATA_DATA_DIR).")
@click.option("--database-url", help="SQLAlchemy URL (OPENDATA_DATABASE_URL); default SQLite in the data directory.")
@click.version_option(package_name="opendata")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """opendata: public-data open platform and authorised-operations marketplace."""
    # Exported so that a reloading server's worker process sees the same choices.
    if data_dir is not None:
        os.environ[ENV_PREFIX + "DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ[ENV_PREFIX + "DATABASE_URL"] = database_url
    try:
        ctx.obj = Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if ctx.obj.plugins:
        # Their importers read catalogue files in this process; their hooks see its loads.
        ctx.meta[EXTENSIONS_META] = _plugins_load(ctx.obj)


def _fail_catalogue(exc: Exception) -> None:
    from opendata.catalogue.manifest import CatalogueError

    if isinstance(exc, CatalogueError):
        problems = [str(p) for p in exc.problems]
        fail(f"{len(problems)} problem(s):", "invalid_catalogue", lines=problems, problems=problems)
    raise exc


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--graceful-timeout", type=float, default=None,
              help="Seconds that requests in flight get to finish on shutdown "
                   "(OPENDATA_SERVE_GRACEFUL_SHUTDOWN_SECONDS, default 1).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, reload: bool, workers: int,
          graceful_timeout: float | None) -> None:
    """Run the portal (loads the configured catalogues on start)."""
    settings = _settings(ctx)
    if graceful_timeout is not None:
        if graceful_timeout < 0:
            raise click.UsageError("--graceful-timeout cannot be negative")
        settings = settings.replace(serve_graceful_shutdown_seconds=graceful_timeout)
    if workers < 1:
        raise click.UsageError("--workers must be at least 1")
    _plugins_load(settings)
    _database_answers(settings)
    os.environ.setdefault(ENV_PREFIX + "BASE_URL", f"http://{host}:{port}")
    text = f"opendata on http://{host}:{port}  (database: {settings.resolved_database_url})"
    note = None
    if not os.environ.get(ENV_PREFIX + "TOKEN_ISSUER"):
        note = (f"tokens are issued as {os.environ[ENV_PREFIX + 'BASE_URL']}; set OPENDATA_TOKEN_ISSUER "
                "so that processes on other ports accept them (docs/operations.md)")
        text += f"\n  note: {note}"
    report(text, url=f"http://{host}:{port}", database=settings.resolved_database_url, note=note)
    from opendata.serving import run_server

    code = run_server(settings, host=host, port=port, reload=reload, workers=workers)
    if code:
        raise SystemExit(code)


EXTENSIONS_META = "opendata.extensions"


def _plugins_load(settings: Settings) -> Any:
    """Enable the configured plugins (for serve: once before any server process starts): a
    broken or unknown one is then one line naming it and exit 1, not a traceback per
    worker. Returns their registry."""
    from opendata.extensions import PluginError, load_plugins
    from opendata.extensions.crypto import UnknownSuite, suites_for

    try:
        registry = load_plugins(settings.plugins)
    except PluginError as error:
        fail(str(error), "plugin_failed")
    try:
        suites_for(settings, registry.crypto_suites)
    except UnknownSuite as error:
        fail(str(error), "unknown_crypto_suite")
    return registry


def cli_database(ctx: click.Context, settings: Settings) -> Any:
    """The database of a command that changes data, with the enabled plugins' registry (so
    that their event hooks see what the command did)."""
    from opendata.db import Database

    return Database(settings.resolved_database_url, timezone=settings.timezone,
                    extensions=ctx.meta.get(EXTENSIONS_META))


def _database_answers(settings: Settings) -> None:
    """Connect once before any server process starts: a database that does not answer is
    then one line and exit 3 (OpenDataGroup), not a failed start-up's traceback per worker."""
    from opendata.db import Database

    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    try:
        with database.engine.connect():
            pass
    finally:
        database.dispose()


@main.group()
def catalogue() -> None:
    """Validate, load, export and import catalogues."""


@catalogue.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def catalogue_validate(path: Path) -> None:
    """Check a catalogue folder (or workbook) without loading it."""
    from opendata.catalogue.commands import validate_catalogue

    try:
        spec = validate_catalogue(path)
    except Exception as exc:
        _fail_catalogue(exc)
        return
    resources = sum(len(d.resources) for d in spec.datasets)
    report(f"✓ {spec.id}: {len(spec.datasets)} datasets, {resources} resources, "
           f"{len(spec.publishers)} publishers — valid",
           catalogue=spec.id, datasets=len(spec.datasets), resources=resources, publishers=len(spec.publishers),
           valid=True)


@catalogue.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--metadata-only", is_flag=True, help="Load metadata without ingesting rows.")
@click.pass_context
def catalogue_load(ctx: click.Context, path: Path, metadata_only: bool) -> None:
    """Load (or reload in place) a catalogue: all of it or nothing."""
    from opendata.catalogue.commands import load_into, read_catalogue

    settings = _settings(ctx)
    try:
        spec = read_catalogue(path)
        database = cli_database(ctx, settings)
        bars = ProgressBars()
        try:
            with database.startup_lock():  # not while a starting portal migrates or loads
                database.migrate()
                loaded = load_into(database, spec, with_rows=not metadata_only, progress=bars,
                                   staged=settings.ingest_staged, versions_kept=settings.versions_kept)
        finally:
            bars.close()
    except Exception as exc:
        _fail_catalogue(exc)
        return
    _report_load(loaded)


def _report_load(load: Any, **more: Any) -> None:
    from dataclasses import asdict

    summary = load.summary()
    extra = "".join(f"\n  {key}: {value}" for key, value in more.items())
    report(f"✓ {summary}{extra}", summary=summary, **asdict(load), **more)


@catalogue.command("export")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--xlsx", "xlsx_path", type=click.Path(path_type=Path),
              help="Workbook to write from the catalogue folder PATH.")
@click.option("--datapackage", "package_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the loaded catalogue's open datasets into as Frictionless Data Packages.")
@click.option("--dataset", "dataset_ids", multiple=True, help="With --datapackage: only this dataset (repeatable).")
@click.pass_context
def catalogue_export(ctx: click.Context, path: Path | None, xlsx_path: Path | None, package_dir: Path | None,
                     dataset_ids: tuple[str, ...]) -> None:
    """Write a catalogue as an Excel workbook (PATH --xlsx FILE), or the database's open
    datasets as Data Packages, datapackage.json beside CSV files (--datapackage DIR)."""
    if (xlsx_path is None) == (package_dir is None):
        raise click.UsageError("give one of --xlsx FILE (with PATH) or --datapackage DIR")
    if package_dir is not None:
        _export_packages(_settings(ctx), package_dir, dataset_ids)
        return
    if path is None:
        raise click.UsageError("--xlsx needs the catalogue folder PATH")
    from opendata.catalogue.commands import read_catalogue
    from opendata.catalogue.excel import write_workbook

    try:
        spec = read_catalogue(path)
    except Exception as exc:
        _fail_catalogue(exc)
        return
    write_workbook(spec, xlsx_path)
    report(f"✓ wrote {xlsx_path} ({len(spec.datasets)} datasets)", path=str(xlsx_path), datasets=len(spec.datasets))


def _export_packages(settings: Settings, out_dir: Path, dataset_ids: tuple[str, ...]) -> None:
    from opendata.db import Database
    from opendata.errors import AppError
    from opendata.interop.datapackage_export import export_data_packages

    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    try:
        with database.session() as session:
            written = export_data_packages(session, out_dir, settings.base_url, dataset_ids)
            session.commit()  # the masking secret may just have been created
    except AppError as exc:
        fail(exc.message, exc.code)
    finally:
        database.dispose()
    files = sum(n for _, n in written)
    report(f"✓ wrote {len(written)} data packages ({files} data files) under {out_dir}",
           folder=str(out_dir), packages=[{"path": str(path), "data_files": n} for path, n in written])


@catalogue.command("import")
@click.argument("workbook", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Catalogue folder to write catalogue.toml into.")
@click.option("--force", is_flag=True, help="Overwrite an existing catalogue.toml.")
def catalogue_import(workbook: Path, out_dir: Path, force: bool) -> None:
    """Turn an Excel workbook back into a catalogue.toml (validated first)."""
    from opendata.catalogue.excel import read_workbook
    from opendata.catalogue.manifest import MANIFEST_NAME, dump_manifest

    target = out_dir / MANIFEST_NAME
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; add --force to overwrite it")
    try:
        spec = read_workbook(workbook, folder=out_dir, check_paths=False)
    except Exception as exc:
        _fail_catalogue(exc)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".toml.tmp")
    temporary.write_text(dump_manifest(spec), encoding="utf-8")
    temporary.replace(target)  # never leave a half-written manifest behind
    missing = sorted(
        r.path for d in spec.datasets for r in d.resources if r.path and not (out_dir / r.path).is_file()
    )
    note = f"\n  note: data files not in {out_dir} yet: {', '.join(missing)}" if missing else ""
    report(f"✓ wrote {target} ({len(spec.datasets)} datasets){note}", path=str(target),
           datasets=len(spec.datasets), missing_data_files=missing)


@catalogue.command("infer")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proposal to this file instead of standard output.")
def catalogue_infer(files: tuple[Path, ...], out_file: Path | None) -> None:
    """Propose a manifest (types, titles, keys, missing markers) from CSV or XLSX files."""
    from opendata.catalogue.infer import infer_file, manifest_toml
    from opendata.formats import FormatError

    bars = ProgressBars()
    try:
        proposals = [infer_file(path, progress=bars, label=f"reading {path.name}"[:28]) for path in files]
    except FormatError as exc:
        fail(str(exc), "bad_file")
    finally:
        bars.close()
    # Paths as typed stay relative to where the manifest will be (run it in the catalogue folder).
    text = manifest_toml(proposals, [path.name if path.is_absolute() else path.as_posix() for path in files])
    if out_file is None:
        report(text.rstrip("\n"), manifest=text, tables=len(proposals))
    else:
        out_file.write_text(text, encoding="utf-8")
        report(f"✓ wrote {out_file} ({len(proposals)} tables)", path=str(out_file), tables=len(proposals))


@main.command()
@click.option("--serve", "then_serve", is_flag=True, help="Start the portal afterwards.")
@click.pass_context
def demo(ctx: click.Context, then_serve: bool) -> None:
    """Initialise the data directory with the shipped Guangzhou demo catalogue."""
    from opendata.catalogue.commands import demo_extras, load_into, read_catalogue
    from opendata.db import Database
    from opendata.settings import demo_catalogue_path

    settings = _settings(ctx)
    database = Database(settings.resolved_database_url, timezone=settings.timezone)
    bars = ProgressBars()
    try:
        # Under the start-up lock: several `demo` or `serve` processes on one fresh
        # database take turns instead of racing on the schema and the first load.
        with database.startup_lock():
            database.migrate()
            spec = read_catalogue(demo_catalogue_path())
            loaded = load_into(database, spec, progress=bars)
            registered = list(demo_extras(database, settings, spec))
    except Exception as exc:
        bars.close()
        _fail_catalogue(exc)
        return
    bars.close()
    _report_load(loaded, database=settings.resolved_database_url, assets_registered=len(registered))
    if then_serve:
        ctx.invoke(serve)


@main.group()
def db() -> None:
    """Database schema and upkeep: upgrade, vacuum, backup, restore."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Migrate the database schema to the newest revision."""
    from opendata.db import Database, current_revision

    database = Database(_settings(ctx).resolved_database_url)
    try:
        database.migrate()
        revision = current_revision(database.engine)
    finally:
        database.dispose()
    report(f"✓ schema at revision {revision}", revision=revision)


def _maintenance(ctx: click.Context, work):  # noqa: ANN001, ANN202
    from opendata.db import Database
    from opendata.maintenance import MaintenanceError

    database = Database(_settings(ctx).resolved_database_url)
    try:
        done = str(work(database))
    except MaintenanceError as exc:
        fail(str(exc), "maintenance_failed")
    finally:
        database.dispose()
    report(f"✓ {done}", result=done)


@db.command("vacuum")
@click.pass_context
def db_vacuum(ctx: click.Context) -> None:
    """Give free space back: VACUUM on SQLite, VACUUM ANALYZE on PostgreSQL."""
    from opendata.maintenance import vacuum

    _maintenance(ctx, lambda database: vacuum(database).summary())


@db.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, path: Path) -> None:
    """Write an online backup to PATH (SQLite backup API; pg_dump custom format)."""
    from opendata.maintenance import backup

    _maintenance(ctx, lambda database: backup(database, path))


@db.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing database (stop the portal first).")
@click.pass_context
def db_restore(ctx: click.Context, path: Path, force: bool) -> None:
    """Restore a backup made by `opendata db backup` into the configured database."""
    from opendata.maintenance import restore

    _maintenance(ctx, lambda database: restore(database, path, force=force))


from opendata.access.cli import clients, keys, users  # noqa: E402
from opendata.audit.cli import audit  # noqa: E402

main.add_command(users)
main.add_command(clients)
main.add_command(keys)
main.add_command(audit)

from opendata.compute.cli import compute  # noqa: E402

main.add_command(compute)

from opendata.search.cli import search  # noqa: E402

main.add_command(search)

from opendata.assets.cli import assets  # noqa: E402

main.add_command(assets)

from opendata.quality.cli import quality  # noqa: E402

catalogue.add_command(quality)

from opendata.versions.cli import history, rollback  # noqa: E402

catalogue.add_command(history)
catalogue.add_command(rollback)

# Last, when every command is in place: --json on all of them.
equip(main)
