"""Event hooks: the core calls them after something happened, outside its transactions.

Events (``Event.name``):

- ``dataset.updated``: a dataset's metadata or rows changed (a catalogue load that changed
  it, an upload, an edit, a rollback). ``data``: ``dataset``, ``reason``.
- ``licence.approved``: an administrator approved an application; ``data``: ``licence``,
  ``application``, ``organisation``, ``datasets``.
- ``download.served``: a download stream ended whole; ``data``: ``dataset``, ``format``,
  ``resource``, ``rows``, ``licence`` (None for open data).

A hook runs in the thread that finished the work, after its commit; what it raises is
logged (with the plugin's name) and never undoes or fails the work. A hook that does slow
work hands it to its own queue or thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

DATASET_UPDATED = "dataset.updated"
LICENCE_APPROVED = "licence.approved"
DOWNLOAD_SERVED = "download.served"
EVENTS = (DATASET_UPDATED, LICENCE_APPROVED, DOWNLOAD_SERVED)


@dataclass(frozen=True)
class Event:
    name: str
    data: Mapping[str, Any]


@runtime_checkable
class EventHook(Protocol):
    """Called with each event it was registered for (``Registry.on(name, hook)``)."""

    def __call__(self, event: Event) -> None:
        ...
