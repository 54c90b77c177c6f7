"""Response shapes of the showcase API (documented in the OpenAPI schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opendata.showcase.models import Showcase


@dataclass
class ShowcaseOut:
    id: int
    title: str
    description: str
    # app | analysis | visualisation | other
    kind: str
    url: str
    # A screenshot's address (a link: the portal never loads it).
    image_url: str | None
    datasets: list[str]
    submitter: str
    # submitted | approved | rejected (only the submitter and administrators see the last two)
    state: str
    created_at: datetime
    decided_at: datetime | None = None
    # Why it was approved or rejected (the submitter and administrators only).
    decision_reason: str | None = None


@dataclass
class ShowcasePageOut:
    items: list[ShowcaseOut]
    total: int
    page: int
    page_size: int
    # Per state (the moderation list only).
    counts: dict[str, int] = field(default_factory=dict)


def showcase_out(row: Showcase, *, private: bool = False) -> ShowcaseOut:
    """``private``: the submitter or an administrator looks, and reads the decision's reason."""
    return ShowcaseOut(id=row.id, title=row.title, description=row.description, kind=row.kind, url=row.url,
                       image_url=row.image_url, datasets=row.dataset_ids, submitter=row.submitter.display_name,
                       state=row.state, created_at=row.created_at, decided_at=row.decided_at,
                       decision_reason=row.decision_reason if private else None)
