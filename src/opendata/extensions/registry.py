"""What the enabled plugins of one application add to the core: the named extension points.

A ``Registry`` is built once per application by opendata.extensions.loader.load_plugins
(the core's own formats first, then each enabled plugin's ``register(registry)``) and is
then read-only in practice. It travels with the application's Database, so every session
of that application carries it (``registry_of(session)``); code holding no session (the
CLI, a bare engine) sees ``core_registry()``: the core's formats and nothing else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opendata.db import EXTENSIONS_INFO_KEY as REGISTRY_INFO_KEY
from opendata.extensions.events import EVENTS, Event, EventHook
from opendata.extensions.formats import Exporter, Importer
from opendata.extensions.harvest import Harvester
from opendata.extensions.metadata import MetadataExtension
from opendata.formats.registry import CORE_EXPORTERS

logger = logging.getLogger("opendata.extensions")
CORE = "core"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def one_line(exc: BaseException) -> str:
    """What a plugin raised, as one line: ``KeyError: 'level'``."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class RegistrationError(ValueError):
    """A plugin registered something the registry refuses (the message says what)."""


@dataclass
class Registry:
    """The extension points. Add through the methods (they check names and say who
    registered what); read the attributes."""

    plugins: list[str] = field(default_factory=list)
    exporters: dict[str, Exporter] = field(default_factory=dict)
    importers: dict[str, Importer] = field(default_factory=dict)
    harvesters: dict[str, Harvester] = field(default_factory=dict)
    # Crypto suites by name (token signing, audit hashing, key wrapping; Protocols in
    # opendata.extensions.crypto), besides the core's "default" one: what plugins put here
    # the crypto_suite setting can select, and what they made keeps verifying.
    crypto_suites: dict[str, Any] = field(default_factory=dict)
    api_handlers: list[Any] = field(default_factory=list)
    portal_handlers: list[Any] = field(default_factory=list)
    template_dirs: list[Path] = field(default_factory=list)
    cli_groups: dict[str, Any] = field(default_factory=dict)  # name -> click.Command
    metadata_extensions: dict[str, MetadataExtension] = field(default_factory=dict)
    hooks: dict[str, list[tuple[str, EventHook]]] = field(default_factory=lambda: {e: [] for e in EVENTS})
    owners: dict[str, str] = field(default_factory=dict)  # "format:csv" -> "core"
    _current: str = CORE

    def __deepcopy__(self, memo: dict[int, Any]) -> "Registry":
        return self  # Litestar deep-copies plugins; one registry per application

    @contextmanager
    def registering(self, plugin: str) -> Iterator[None]:
        """What is added inside is owned by ``plugin`` (named in conflicts and hook logs)."""
        previous, self._current = self._current, plugin
        try:
            yield
        finally:
            self._current = previous

    def _claim(self, kind: str, name: str) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise RegistrationError(f"{kind} name {name!r} must be lower-case letters, digits, '-' or '_'")
        key = f"{kind}:{name}"
        if key in self.owners:
            raise RegistrationError(f"{kind} {name!r} is already registered by {self.owners[key]}")
        self.owners[key] = self._current

    def add_exporter(self, exporter: Exporter) -> None:
        if not isinstance(exporter, Exporter):
            raise RegistrationError(f"{exporter!r} is not an exporter (opendata.extensions.formats.Exporter)")
        self._claim("format", exporter.name)
        self.exporters[exporter.name] = exporter

    def add_importer(self, importer: Importer) -> None:
        if not isinstance(importer, Importer):
            raise RegistrationError(f"{importer!r} is not an importer (opendata.extensions.formats.Importer)")
        self._claim("importer", importer.name)
        self.importers[importer.name] = importer

    def add_harvester(self, harvester: Harvester) -> None:
        if not isinstance(harvester, Harvester):
            raise RegistrationError(f"{harvester!r} is not a harvester (opendata.extensions.harvest.Harvester)")
        self._claim("harvester", harvester.kind)
        self.harvesters[harvester.kind] = harvester

    def add_crypto_suite(self, name: str, suite: Any) -> None:
        """A CryptoSuite (opendata.extensions.crypto) that ``crypto_suite = name`` selects."""
        from opendata.extensions.crypto import CryptoSuite

        if not isinstance(suite, CryptoSuite) or getattr(suite, "name", None) != name:
            raise RegistrationError(f"{suite!r} is not an opendata.extensions.crypto.CryptoSuite named {name!r}")
        if name == "default":
            raise RegistrationError("crypto suite 'default' is the core's")
        self._claim("crypto suite", name)
        self.crypto_suites[name] = suite

    def add_api_routes(self, *handlers: Any) -> None:
        self.api_handlers.extend(_route_handlers(handlers))

    def add_portal_pages(self, *handlers: Any, templates: Path | str | None = None) -> None:
        self.portal_handlers.extend(_route_handlers(handlers))
        if templates is not None:
            folder = Path(templates)
            if not folder.is_dir():
                raise RegistrationError(f"template folder {folder} does not exist")
            self.template_dirs.append(folder)

    def add_cli_group(self, group: Any) -> None:
        """A click command or group, added to ``opendata`` under its own name."""
        name = getattr(group, "name", None)
        if not name or not callable(getattr(group, "main", None)):
            raise RegistrationError(f"{group!r} is not a click command with a name")
        self._claim("command", name)
        self.cli_groups[name] = group

    def add_metadata_extension(self, extension: MetadataExtension) -> None:
        if not isinstance(extension, MetadataExtension):
            raise RegistrationError(f"{extension!r} is not a metadata extension")
        self._claim("metadata extension", extension.name)
        self.metadata_extensions[extension.name] = extension

    def on(self, event: str, hook: EventHook) -> None:
        if event not in self.hooks:
            raise RegistrationError(f"unknown event {event!r} (events: {', '.join(EVENTS)})")
        if not callable(hook):
            raise RegistrationError(f"the hook for {event} is not callable")
        self.hooks[event].append((self._current, hook))

    def fire(self, event: str, **data: Any) -> None:
        """Call the hooks of ``event``; a hook that raises is logged and skipped."""
        hooks = self.hooks.get(event)
        if not hooks:
            return
        happened = Event(event, data)
        for owner, hook in hooks:
            try:
                hook(happened)
            except Exception:
                logger.exception("plugin %s: its %s hook failed", owner, event)

    def exporters_for(self, columns: Any) -> list[Exporter]:
        """The formats a table with these columns can be downloaded in, core ones first."""
        return [e for e in self.exporters.values() if self.supports(e, columns)]

    def supports(self, exporter: Exporter, columns: Any) -> bool:
        """``exporter.supports(columns)``; a plugin's that raises is logged and taken as a
        no, so one buggy format cannot fail every page, dataset JSON, CKAN and DCAT answer
        that lists the formats."""
        try:
            return bool(exporter.supports(columns))
        except Exception:
            owner = self.owners.get(f"format:{exporter.name}", "?")
            logger.exception("plugin %s: its format %s failed to say which tables it writes", owner, exporter.name)
            return False


def _route_handlers(handlers: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refused here, named with its plugin, rather than by Litestar once the application
    is built (a message naming no plugin, and one traceback per server worker)."""
    from litestar import Controller, Router
    from litestar.handlers import BaseRouteHandler

    for handler in handlers:
        if not (isinstance(handler, (BaseRouteHandler, Router))
                or (isinstance(handler, type) and issubclass(handler, Controller))):
            name = getattr(handler, "__qualname__", None) or repr(handler)
            raise RegistrationError(f"{name} is not a Litestar route handler (decorated with @get, @post…), "
                                    "Controller or Router")
    return handlers


def core_registry() -> Registry:
    """A registry with the core's own formats only."""
    registry = Registry()
    for exporter in CORE_EXPORTERS.values():
        registry.add_exporter(exporter)
    return registry


_CORE = core_registry()


# Importers read files below the application (the row store's ingest, given a path and a
# format), and metadata extensions are read with the manifest (a pure parse): both are
# enabled per process, the union of what its applications' plugins add.
_PROCESS_IMPORTERS: dict[str, Importer] = {}
_PROCESS_METADATA: dict[str, MetadataExtension] = {}


def enable_importers(registry: Registry) -> None:
    for name, importer in registry.importers.items():
        _PROCESS_IMPORTERS.setdefault(name, importer)
    for name, extension in registry.metadata_extensions.items():
        _PROCESS_METADATA.setdefault(name, extension)


def metadata_extension(name: str) -> MetadataExtension | None:
    return _PROCESS_METADATA.get(name)


def importer_for(fmt: str) -> Importer | None:
    """The enabled importer of a resource format or file extension (lower case)."""
    if fmt in _PROCESS_IMPORTERS:
        return _PROCESS_IMPORTERS[fmt]
    return next((i for i in _PROCESS_IMPORTERS.values() if fmt in i.extensions), None)


def imported_formats() -> frozenset[str]:
    """Resource formats read by enabled importers (tables, besides the core's csv and xlsx)."""
    return frozenset(_PROCESS_IMPORTERS)


def upload_extensions() -> tuple[str, ...]:
    """File name endings the enabled importers read."""
    return tuple(ext for i in _PROCESS_IMPORTERS.values() for ext in i.extensions)


def registry_of(session: Any) -> Registry:
    """The registry of the application ``session`` belongs to (the core's without one)."""
    info: Mapping[str, Any] | None = getattr(session, "info", None)
    registry = info.get(REGISTRY_INFO_KEY) if info is not None else None
    return registry if isinstance(registry, Registry) else _CORE


def fire(session: Any, event: str, **data: Any) -> None:
    registry_of(session).fire(event, **data)
