"""Catalogue search: Chinese-aware substring matching, filters, facets, sort and paging.

Chinese has no spaces between words, so whitespace tokenising alone would miss "公交" in
"广州市公交站点". Every query term is matched as a substring of a pre-lowered search
text (titles, descriptions, tags, the data dictionary). On PostgreSQL a pg_trgm GIN index
serves these LIKE patterns; on SQLite a scan of the compact search column is fast enough
for tens of thousands of datasets (see benchmarks/catalogue_search.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, DatasetTag, Publisher, Resource
from opendata.catalogue.schemas import FacetValue, SearchResponse, dataset_summary
from opendata.errors import bad_request

SORTS = ("relevance", "modified", "created", "title", "id")
FACETS = ("domain", "publisher", "open_level", "tag", "format")
MAX_TERMS = 8
TAG_FACET_LIMIT = 50


@dataclass
class SearchQuery:
    q: str = ""
    domain: list[str] = field(default_factory=list)
    publisher: list[str] = field(default_factory=list)
    open_level: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    format: list[str] = field(default_factory=list)
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20

    def terms(self) -> list[str]:
        return [t.lower() for t in self.q.split() if t][:MAX_TERMS]


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def validate(query: SearchQuery, max_page_size: int) -> None:
    if query.sort not in SORTS:
        raise bad_request("invalid_sort", f"sort must be one of {', '.join(SORTS)}")
    if query.page < 1:
        raise bad_request("invalid_page", "page starts at 1")
    if not 1 <= query.page_size <= max_page_size:
        raise bad_request("invalid_page_size", f"page_size must be between 1 and {max_page_size}")
    for value in query.domain:
        if vocab.resolve_domain(value) is None:
            raise bad_request("unknown_domain", f"unknown domain {value!r}")
    for value in query.open_level:
        if value not in vocab.OPEN_LEVEL_BY_CODE:
            raise bad_request(
                "unknown_open_level",
                f"unknown open level {value!r}; use unconditional, conditional or closed",
            )


def conditions(query: SearchQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        Dataset.search_text.like(_like_pattern(term), escape="\\") for term in query.terms()
    ]
    if query.domain:
        where.append(Dataset.domain.in_([vocab.resolve_domain(d).code for d in query.domain]))  # type: ignore[union-attr]
    if query.publisher:
        where.append(Dataset.publisher_id.in_(query.publisher))
    if query.open_level:
        where.append(Dataset.open_level.in_(query.open_level))
    for tag in query.tag:
        where.append(
            Dataset.id.in_(select(DatasetTag.dataset_id).where(DatasetTag.tag == tag))
        )
    if query.format:
        formats = [f.lower() for f in query.format]
        where.append(
            Dataset.id.in_(select(Resource.dataset_id).where(Resource.format.in_(formats)))
        )
    return where


def _relevance(terms: list[str]) -> ColumnElement[int]:
    score: ColumnElement[int] = literal(0)
    for term in terms:
        pattern = _like_pattern(term)
        score = score + case(
            (func.lower(Dataset.title_zh).like(pattern, escape="\\"), 10),
            (func.lower(func.coalesce(Dataset.title_en, "")).like(pattern, escape="\\"), 8),
            else_=1,
        )
    return score


def _ordered(stmt: Select, query: SearchQuery) -> Select:
    terms = query.terms()
    if query.sort == "relevance" and terms:
        return stmt.order_by(_relevance(terms).desc(), Dataset.updated_at.desc(), Dataset.id)
    if query.sort in ("relevance", "modified"):
        return stmt.order_by(Dataset.updated_at.desc(), Dataset.id)
    if query.sort == "created":
        return stmt.order_by(Dataset.created_at.desc(), Dataset.id)
    if query.sort == "title":
        return stmt.order_by(Dataset.title_zh, Dataset.id)
    return stmt.order_by(Dataset.id)


def search_datasets(session: Session, query: SearchQuery, *, facets: bool = True) -> SearchResponse:
    where = conditions(query)
    total = session.scalar(select(func.count()).select_from(Dataset).where(*where)) or 0
    page_stmt = _ordered(select(Dataset).where(*where), query)
    page_stmt = page_stmt.limit(query.page_size).offset((query.page - 1) * query.page_size)
    page_stmt = page_stmt.options(
        selectinload(Dataset.publisher), selectinload(Dataset.tags), selectinload(Dataset.resources)
    )
    items = [dataset_summary(d) for d in session.scalars(page_stmt)]
    return SearchResponse(
        items=items,
        total=total,
        page=query.page,
        page_size=query.page_size,
        facets=facet_counts(session, where) if facets and total else {k: [] for k in FACETS},
    )


def facet_counts(session: Session, where: list[ColumnElement[bool]]) -> dict[str, list[FacetValue]]:
    """Counts over the current result set for every facet, most frequent first."""
    result: dict[str, list[FacetValue]] = {}
    rows = session.execute(
        select(Dataset.domain, func.count()).where(*where).group_by(Dataset.domain)
    )
    result["domain"] = [
        FacetValue(code, n, *_term_labels(vocab.DOMAIN_BY_CODE.get(code))) for code, n in rows
    ]
    rows = session.execute(
        select(Dataset.open_level, func.count()).where(*where).group_by(Dataset.open_level)
    )
    result["open_level"] = [
        FacetValue(code, n, *_term_labels(vocab.OPEN_LEVEL_BY_CODE.get(code))) for code, n in rows
    ]
    rows = session.execute(
        select(Publisher.id, Publisher.name_zh, Publisher.name_en, func.count())
        .join(Dataset, Dataset.publisher_id == Publisher.id)
        .where(*where)
        .group_by(Publisher.id, Publisher.name_zh, Publisher.name_en)
    )
    result["publisher"] = [FacetValue(pid, n, zh, en) for pid, zh, en, n in rows]
    rows = session.execute(
        select(DatasetTag.tag, func.count())
        .join(Dataset, Dataset.id == DatasetTag.dataset_id)
        .where(*where)
        .group_by(DatasetTag.tag)
        .order_by(func.count().desc(), DatasetTag.tag)
        .limit(TAG_FACET_LIMIT)
    )
    result["tag"] = [FacetValue(tag, n) for tag, n in rows]
    rows = session.execute(
        select(Resource.format, func.count(func.distinct(Resource.dataset_id)))
        .join(Dataset, Dataset.id == Resource.dataset_id)
        .where(*where)
        .group_by(Resource.format)
    )
    result["format"] = [FacetValue(fmt, n) for fmt, n in rows]
    for name in ("domain", "open_level", "publisher", "format"):
        result[name].sort(key=lambda f: (-f.count, f.value))
    return result


def _term_labels(term: vocab.Term | None) -> tuple[str | None, str | None]:
    return (term.zh, term.en) if term else (None, None)
