"""When the core fires event hooks: after the commit of the work, never inside it.

``after_commit(session, name, **data)`` queues an event on the session; it is fired
(opendata.extensions.Registry.fire) when that session's transaction commits, and dropped
if it rolls back, so a hook never sees work that did not happen. ``dataset.updated`` is
queued by itself: any flush that inserts or changes a Dataset or one of its Resources
(a catalogue load, an upload's table swap, an edit, a rollback) queues it for that dataset.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from opendata.extensions.events import DATASET_UPDATED
from opendata.extensions.registry import registry_of

PENDING = "opendata.pending_events"
_installed = False


def after_commit(session: Session, name: str, **data: Any) -> None:
    if not registry_of(session).hooks.get(name):
        return  # nobody listens: keep nothing
    session.info.setdefault(PENDING, []).append((name, data))


def _changed_datasets(session: Session, _context: Any, _instances: Any) -> None:
    registry = registry_of(session)
    if not registry.hooks.get(DATASET_UPDATED):
        return
    from opendata.catalogue.models import Dataset, Resource

    pending = session.info.setdefault(PENDING, [])
    queued = {data["dataset"] for name, data in pending if name == DATASET_UPDATED}
    new = set(session.new)
    for obj in [*new, *session.dirty]:
        if not isinstance(obj, (Dataset, Resource)):
            continue
        if obj not in new and not session.is_modified(obj, include_collections=False):
            continue
        dataset_id = obj.id if isinstance(obj, Dataset) else obj.dataset_id
        reason = "created" if isinstance(obj, Dataset) and obj in new else "changed"
        if dataset_id and dataset_id not in queued:
            queued.add(dataset_id)
            pending.append((DATASET_UPDATED, {"dataset": dataset_id, "reason": reason}))


def _fire(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        registry = registry_of(session)
        for name, data in pending:
            registry.fire(name, **data)


def _drop(session: Session) -> None:
    session.info.pop(PENDING, None)


def install() -> None:
    """Listen on every Session (idempotent; the listeners do nothing without hooks)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _changed_datasets)
    event.listen(Session, "after_commit", _fire)
    event.listen(Session, "after_rollback", _drop)
    _installed = True
