"""``opendata search ...``: rebuild the catalogue's search index, show or set synonyms."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click

from opendata.cli_output import fail


def _database(ctx: click.Context):  # noqa: ANN202
    from opendata.db import Database
    from opendata.settings import Settings

    settings = ctx.find_object(Settings) or Settings.from_env()
    database = Database(settings.resolved_database_url)
    database.migrate()
    return database


@click.group()
def search() -> None:
    """The catalogue's full-text search index and its synonyms."""


@search.command("reindex")
@click.option("--missing-only", is_flag=True, help="Index only datasets without a search document.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def search_reindex(ctx: click.Context, missing_only: bool, as_json: bool) -> None:
    """Rebuild the search index of every dataset (one transaction, with a progress bar)."""
    from opendata.search.index import reindex

    database = _database(ctx)
    bar = None
    try:
        with database.transaction() as session:
            def progress(done: int, total: int) -> None:
                nonlocal bar
                if bar is None and not as_json:
                    bar = click.progressbar(length=max(total, 1), label="indexing datasets", file=sys.stderr)
                    bar.__enter__()
                if bar is not None:
                    bar.update(done - bar.pos)
            count = reindex(session, only_missing=missing_only, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        database.dispose()
    click.echo(json.dumps({"indexed": count}) if as_json else f"✓ indexed {count} datasets")


@search.command("synonyms")
@click.option("--set", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Replace every group with those of FILE: one group a line, words separated by spaces "
                   "or commas; lines starting with # are comments.")
@click.option("--json", "as_json", is_flag=True, help="Print the groups as JSON.")
@click.pass_context
def search_synonyms(ctx: click.Context, from_file: Path | None, as_json: bool) -> None:
    """Show the synonym groups, or replace them from a file (audited as the CLI operator)."""
    from opendata.access.cli import CLI_REQUEST
    from opendata.audit.service import Actor
    from opendata.errors import AppError
    from opendata.search.synonyms import list_groups, replace_groups

    database = _database(ctx)
    try:
        if from_file is not None:
            lines = from_file.read_text(encoding="utf-8-sig").splitlines()
            groups = [line.replace(",", " ").replace("，", " ").split() for line in lines
                      if line.strip() and not line.lstrip().startswith("#")]
            try:
                with database.transaction() as session:
                    replace_groups(session, groups, actor=Actor(f"cli:{getpass.getuser()}", "operator"),
                                   request=CLI_REQUEST)
            except AppError as error:
                fail(f"{from_file}: {error.message}", error.code)
        with database.session() as session:
            groups = list_groups(session)
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps({"groups": groups}, ensure_ascii=False))
    else:
        for group in groups:
            click.echo(" ".join(group))
