"""What the standard doors' per-process caches are keyed by: a value that moves whenever
what they render may have changed.

The search index generation moves with every dataset write (metadata, resources, fields,
masks, a catalogue load); the newest dataset version moves with every new table of rows
(an upload, a load with a changed file, a roll-back), which changes row counts, checksums
and modification times without touching the index. Both together, with the database's
URL (a process may serve several databases, as tests and embedding hosts do).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opendata.search.index import generation
from opendata.versions.models import DatasetVersion


def catalogue_epoch(session: Session) -> tuple[str, int, int | None]:
    return (*generation(session), session.scalar(select(func.max(DatasetVersion.id))))
