"""Related datasets: the ones sharing tags, the domain or the publisher with a dataset.

One ranked SQL query, whatever the catalogue's size: each shared tag counts
``TAG_WEIGHT``, the same domain ``DOMAIN_WEIGHT``, the same publisher department
``PUBLISHER_WEIGHT``; ties go to the most recently updated, then the id. Every
dataset's metadata is public (closed ones included: it is how users learn what exists),
so every dataset is a candidate; what a related entry shows is metadata only (title,
open level, publisher), never rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue.models import Dataset, DatasetTag

TAG_WEIGHT = 3
DOMAIN_WEIGHT = 2
PUBLISHER_WEIGHT = 1
RELATED_MAX = 20


@dataclass(frozen=True)
class Related:
    dataset: Dataset
    score: int
    shared_tags: list[str]
    same_domain: bool
    same_publisher: bool


def related_datasets(session: Session, dataset: Dataset, limit: int = 6) -> list[Related]:
    """Up to ``limit`` (at most RELATED_MAX) datasets related to ``dataset``, best first."""
    limit = max(1, min(limit, RELATED_MAX))
    tags = dataset.tag_names
    hits = (select(DatasetTag.dataset_id, func.count().label("shared"))
            .where(DatasetTag.tag.in_(tags), DatasetTag.dataset_id != dataset.id)
            .group_by(DatasetTag.dataset_id).subquery())
    shared = func.coalesce(hits.c.shared, 0)
    same_domain = Dataset.domain == dataset.domain
    same_publisher = Dataset.publisher_id == dataset.publisher_id
    score = (shared * TAG_WEIGHT + case((same_domain, DOMAIN_WEIGHT), else_=0)
             + case((same_publisher, PUBLISHER_WEIGHT), else_=0)).label("score")
    rows = session.execute(
        select(Dataset, score).outerjoin(hits, hits.c.dataset_id == Dataset.id)
        .where(Dataset.id != dataset.id, or_(hits.c.shared.is_not(None), same_domain, same_publisher))
        .options(selectinload(Dataset.publisher), selectinload(Dataset.tags), selectinload(Dataset.resources))
        .order_by(score.desc(), Dataset.updated_at.desc(), Dataset.id)
        .limit(limit)
    ).all()
    wanted = set(tags)
    return [Related(other, int(points), [t for t in other.tag_names if t in wanted],
                    other.domain == dataset.domain, other.publisher_id == dataset.publisher_id)
            for other, points in rows]
