"""Facet counts of the catalogue search: word-less listings (indexed GROUP BYs cached per
index generation), counts of matched rows for SQL-sorted searches, and the labelled
facet values of a response. Relevance searches count theirs with search/docvalues.py."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Callable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, DatasetTag, Publisher, Resource
from opendata.catalogue.schemas import FacetValue
from opendata.search.index import FACET_SEPARATOR

FACETS = ("domain", "publisher", "open_level", "tag", "format")
TAG_FACET_LIMIT = 50


def count_facets(rows: list[Any]) -> dict[str, Counter]:
    counts: dict[str, Counter] = {name: Counter() for name in FACETS}
    for r in rows:
        counts["domain"][r.domain] += 1
        counts["open_level"][r.open_level] += 1
        counts["publisher"][r.publisher_id] += 1
        if r.facet_tags:
            counts["tag"].update(r.facet_tags.split(FACET_SEPARATOR))
        if r.facet_formats:
            counts["format"].update(r.facet_formats.split(FACET_SEPARATOR))
    return counts


class _FacetCache:
    """Facet counts of word-less listings, per (index generation, filters), per process."""

    def __init__(self, size: int = 256) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[int, dict[str, Counter]]] = {}
        self._size = size

    def get_or_compute(self, key: tuple, compute: Callable[[], tuple[int, dict[str, Counter]]]):
        with self._lock:
            found = self._entries.get(key)
        if found is not None:
            return found
        value = compute()
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[key] = value
        return value


facet_cache = _FacetCache()


def listing_counts(session: Session, where: list[ColumnElement[bool]]) -> tuple[int, dict[str, Counter]]:
    total = session.scalar(select(func.count()).select_from(Dataset).where(*where)) or 0
    counts = {
        name: Counter(dict(session.execute(select(column, func.count()).where(*where).group_by(column)).all()))
        for name, column in (("domain", Dataset.domain), ("open_level", Dataset.open_level),
                             ("publisher", Dataset.publisher_id))
    }
    matched_ids = select(Dataset.id).where(*where)
    counts["tag"] = Counter(dict(session.execute(
        select(DatasetTag.tag, func.count()).where(DatasetTag.dataset_id.in_(matched_ids)).group_by(DatasetTag.tag)
    ).all()))
    counts["format"] = Counter(dict(session.execute(
        select(Resource.format, func.count(func.distinct(Resource.dataset_id)))
        .where(Resource.dataset_id.in_(matched_ids)).group_by(Resource.format)
    ).all()))
    return total, counts


def facet_values(session: Session, counts: dict[str, Counter]) -> dict[str, list[FacetValue]]:
    """Facets with labels, most frequent first (tags: the first 50)."""
    publishers = counts["publisher"]
    names = {
        pid: (zh, en)
        for pid, zh, en in session.execute(
            select(Publisher.id, Publisher.name_zh, Publisher.name_en).where(Publisher.id.in_(list(publishers)))
        )
    } if publishers else {}
    result = {
        "domain": [FacetValue(c, n, *_term_labels(vocab.DOMAIN_BY_CODE.get(c))) for c, n in counts["domain"].items()],
        "open_level": [
            FacetValue(c, n, *_term_labels(vocab.OPEN_LEVEL_BY_CODE.get(c))) for c, n in counts["open_level"].items()
        ],
        "publisher": [FacetValue(p, n, *names.get(p, (None, None))) for p, n in publishers.items()],
        "tag": [FacetValue(tag, n) for tag, n in counts["tag"].items()],
        "format": [FacetValue(fmt, n) for fmt, n in counts["format"].items()],
    }
    for name in FACETS:
        result[name].sort(key=lambda f: (-f.count, f.value))
    result["tag"] = result["tag"][:TAG_FACET_LIMIT]
    return result


def _term_labels(term: vocab.Term | None) -> tuple[str | None, str | None]:
    return (term.zh, term.en) if term else (None, None)
