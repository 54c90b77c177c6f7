"""What every ``opendata`` command prints: a line for people, or with ``--json`` one JSON
document for scripts; and the failures every command shares (an unreachable database
or portal) as one line and an exit code instead of a traceback.

Exit codes: 0 done, 1 refused or failed (the line says why), 2 bad usage, 3 the database
or a portal cannot be reached.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

JSON_FLAG = "opendata.json"
EXIT_FAILED, EXIT_UNREACHABLE = 1, 3


class ProgressBars:
    """Turns the loader's progress(label, done, total) calls into click progress bars."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._label: str | None = None
        self._done = 0

    def __call__(self, label: str, done: int, total: int) -> None:
        if label != self._label:
            self.close()
            self._label, self._done = label, 0
            self._bar = click.progressbar(length=max(total, 1), label=label.ljust(28), file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _remember_json(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value:
        ctx.meta[JSON_FLAG] = True  # meta is shared by the whole command line's contexts
    # A command's own --json also holds when the flag was given before the command's name.
    return bool(value or ctx.meta.get(JSON_FLAG))


def _json_option() -> click.Option:
    return click.Option(["--json"], is_flag=True, expose_value=False, callback=_remember_json, is_eager=True,
                        help="Print JSON instead of text (errors too: {\"error\": {\"code\", \"message\"}}).")


def equip(command: click.Command) -> None:
    """Give ``command`` and every command below it a ``--json`` flag; a command that already
    declares its own keeps it, and it now counts for the shared error output too."""
    own = [p for p in command.params if isinstance(p, click.Option) and "--json" in p.opts]
    if own:
        for param in own:
            param.callback = _remember_json
    else:
        command.params.append(_json_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            equip(sub)


def wants_json() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(JSON_FLAG))


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def report(text: str, *, err: bool = False, **data: Any) -> None:
    """``text`` for people (on stderr with ``err``, when stdout carries a document); with
    --json, ``data`` (what the text says, as values) on stdout."""
    if wants_json():
        emit_json(data)
    else:
        click.echo(text, err=err)


def report_list(lines: list[str], items: list[dict[str, Any]]) -> None:
    """A listing: one line per item, or with --json the items as a JSON array."""
    if wants_json():
        emit_json(items)
    else:
        for line in lines:
            click.echo(line)


def fail(message: str, code: str, exit_code: int = EXIT_FAILED, *, lines: tuple[str, ...] | list[str] = (),
         **details: Any) -> NoReturn:
    """One line on stderr (then ``lines``, each problem of a list); with --json also
    ``{"error": {...}}`` on stdout. Then exit."""
    click.echo(f"✗ {message}", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    if wants_json():
        emit_json({"error": {"code": code, "message": message, **details}})
    raise SystemExit(exit_code)


def _database_url(ctx: click.Context) -> str:
    from sqlalchemy.engine import make_url

    from opendata.settings import Settings

    settings = ctx.find_object(Settings)
    url = settings.resolved_database_url if settings is not None else "(not configured)"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class OpenDataGroup(click.Group):
    """The root group: turns the failures every command shares into one line and an exit
    code (and, with --json, a JSON error), instead of a traceback. The command groups of
    the plugins that ``OPENDATA_PLUGINS`` enables (opendata.extensions) are added to it."""

    def _plugin_commands(self) -> dict[str, click.Command]:
        from opendata.extensions import PluginError, load_plugins
        from opendata.settings import Settings

        try:
            names = Settings.from_env().plugins
        except ValueError:
            return {}  # the group's callback reports a bad setting
        if not names:
            return {}
        try:
            registry = load_plugins(names)
        except PluginError as error:
            fail(str(error), "plugin_failed")
        for command in registry.cli_groups.values():
            equip(command)
        return {name: cmd for name, cmd in registry.cli_groups.items() if name not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands().get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        import httpx
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

        try:
            return super().invoke(ctx)
        except OperationalError as error:
            fail(f"cannot use the database at {_database_url(ctx)}: {_first_line(error)}",
                 "database_unreachable", EXIT_UNREACHABLE)
        except (ArgumentError, NoSuchModuleError) as error:
            fail(f"the database URL {_database_url(ctx)!s} is not usable: {_first_line(error)}",
                 "bad_database_url", 2)
        except httpx.TransportError as error:
            where = str(error.request.url) if _has_request(error) else "the portal"
            fail(f"cannot reach {where}: {_first_line(error)}", "portal_unreachable", EXIT_UNREACHABLE)
        except OSError as error:  # e.g. a SQLite file below a path that cannot be a folder, an unwritable output
            reason = f"{error.strerror or error}" + (f": {error.filename}" if error.filename else "")
            if _about_sqlite_file(ctx, error):
                fail(f"cannot use the database at {_database_url(ctx)}: {reason}", "database_unreachable",
                     EXIT_UNREACHABLE)
            fail(reason, "os_error")
        except click.ClickException as error:
            if wants_json():
                emit_json({"error": {"code": "usage" if isinstance(error, click.UsageError) else "failed",
                                     "message": error.format_message()}})
            raise


def _about_sqlite_file(ctx: click.Context, error: OSError) -> bool:
    """Whether ``error`` names the SQLite database file, its lock or a folder above it."""
    from pathlib import Path

    from opendata.settings import Settings

    settings = ctx.find_object(Settings)
    url = settings.resolved_database_url if settings is not None else ""
    if not url.startswith("sqlite") or not error.filename:
        return False
    database = Path(url.split("///", 1)[-1]).absolute()
    named = Path(str(error.filename)).absolute()
    return named == database or named in database.parents or named.parent == database.parent


def _has_request(error: Exception) -> bool:
    try:
        error.request  # type: ignore[attr-defined]
    except RuntimeError:  # httpx raises when the error carries no request
        return False
    return True
