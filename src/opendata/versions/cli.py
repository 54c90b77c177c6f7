"""``opendata catalogue history DATASET``: a dataset's versions from a shell (operators see
every sample key: the command reads the database directly)."""

from __future__ import annotations

import dataclasses
import json

import click


def _change_line(version: object) -> str:
    changed = "—" if version.changed is None else version.changed  # type: ignore[attr-defined]
    return f"+{version.added} -{version.removed} ~{changed}"  # type: ignore[attr-defined]


@click.command("history")
@click.argument("dataset")
@click.option("--json", "as_json", is_flag=True, help="Every version with its diff, as JSON.")
@click.pass_context
def history(ctx: click.Context, dataset: str, as_json: bool) -> None:
    """A dataset's versions, newest first: number, time, who, file digest, rows, diff."""
    from opendata.catalogue.service import get_dataset
    from opendata.cli import _settings
    from opendata.db import Database
    from opendata.errors import AppError
    from opendata.versions.schemas import version_out
    from opendata.versions.service import versions_of

    database = Database(_settings(ctx).resolved_database_url)
    try:
        with database.session() as session:
            found = get_dataset(session, dataset)
            versions = versions_of(session, found.id)
            outs = [version_out(v, dict(v.samples or {})) for v in versions]
            title, number = found.title_zh, found.version_number
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()
    if as_json:
        document = {"dataset": dataset, "version_number": number,
                    "versions": [dataclasses.asdict(out) for out in outs]}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"{dataset} ({title}): version {number}, {len(outs)} recorded")
    for out in outs:
        digest = (out.file_digest or "")[:12]
        kept = "kept" if out.downloadable else ""
        click.echo(f"  v{out.number:<4} {out.created_at:%Y-%m-%d %H:%M:%S}  {out.resource:<16} {out.actor:<20} "
                   f"{out.row_count:>9} rows  {_change_line(out):<24} sha256:{digest}  {kept}".rstrip())


@click.command("rollback")
@click.argument("dataset")
@click.argument("number", type=int)
@click.pass_context
def rollback(ctx: click.Context, dataset: str, number: int) -> None:
    """Serve the rows of kept version NUMBER of DATASET again (audited; itself a new version)."""
    import getpass

    from opendata.audit.service import Actor, RequestInfo
    from opendata.cli_output import report
    from opendata.catalogue.service import get_dataset
    from opendata.cli import _settings, cli_database
    from opendata.errors import AppError
    from opendata.versions.rollback import roll_back

    settings = _settings(ctx)
    database = cli_database(ctx, settings)
    try:
        with database.session() as session:
            found = get_dataset(session, dataset)
            version = roll_back(session, found, number, Actor(f"cli:{getpass.getuser()}", "operator"), RequestInfo(),
                                versions_kept=settings.versions_kept)
            line = (f"✓ {dataset}: version {version.number} restores version {number} "
                    f"({version.row_count} rows, {_change_line(version)})")
            data = {"dataset": dataset, "version": version.number, "restored_from": number,
                    "row_count": version.row_count, "added": version.added, "removed": version.removed,
                    "changed": version.changed}
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()
    report(line, **data)
