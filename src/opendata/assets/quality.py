"""The one place the register reads a dataset's quality score from.

The measured score (issue 12 item 2) is built in parallel; until it is on main this
returns None and the register records "not measured". Switch it over here only.
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def dataset_quality_score(session: Session, dataset_id: str) -> float | None:
    try:
        from opendata.quality import service as quality  # type: ignore[import-not-found]
    except ImportError:
        return None
    measured = getattr(quality, "dataset_score", None)  # the name to switch over when it lands
    if measured is None:
        return None
    score = measured(session, dataset_id)  # pragma: no cover - lands with the quality model
    return None if score is None else round(float(score), 2)
