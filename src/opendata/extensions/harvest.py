"""Harvesters: sources of catalogues (another portal's CKAN Action API, a DCAT feed…).

A harvester reads a remote catalogue and describes what it holds; what to do with it
(create, update, withdraw local datasets, keep a harvest log, schedule runs) belongs to
the plugin that registers it, which reaches its users through its own CLI group
(``Registry.add_cli_group``) and, if it wants, API routes and portal pages. The core
only keeps harvesters by name, so that one plugin can add a source kind that another
plugin's harvest runner uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class RemoteDataset:
    """One dataset as a source describes it: ``remote_id`` is stable across runs;
    ``modified`` (when known) drives incremental runs; ``metadata`` and ``resources``
    carry the source's fields, already mapped to catalogue.toml's keys where possible."""

    remote_id: str
    modified: datetime | None
    metadata: Mapping[str, Any]
    resources: tuple[Mapping[str, Any], ...] = ()
    extras: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Harvester(Protocol):
    """A kind of catalogue source, registered under ``kind`` (e.g. "ckan", "dcat")."""

    kind: str

    def datasets(self, source_url: str, *, since: datetime | None = None,
                 options: Mapping[str, Any] | None = None) -> Iterator[RemoteDataset]:
        """Every dataset of the source (modified after ``since`` when given), lazily;
        raise an exception naming the source for a source that cannot be read."""
        ...
