"""``opendata audit ...``: check the audit chain."""

from __future__ import annotations

import click


@click.group()
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Recompute the chain; name the first broken record and exit 1 if there is one."""
    from opendata.audit.chain import verify_chain
    from opendata.db import Database
    from opendata.settings import Settings

    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url)
    database.migrate()
    try:
        with database.session() as session:
            report = verify_chain(session)
    finally:
        database.dispose()
    if report.intact:
        click.echo(f"✓ audit chain intact: {report.records} records, head {report.head_hash}")
        return
    click.echo(f"✗ audit chain broken at record #{report.broken_id}: {report.problem}", err=True)
    click.echo(f"  {report.records} records before it verify; their head is {report.head_hash}", err=True)
    raise SystemExit(1)
