"""Catalogue search: Chinese-aware substring matching, filters, facets, sort and paging.

Chinese has no spaces between words, so whitespace tokenising alone would miss "公交" in
"广州市公交站点". Every query term is matched as a substring of a pre-lowered search
text (titles, descriptions, tags, the data dictionary). On PostgreSQL a pg_trgm GIN index
serves these LIKE patterns; on SQLite a scan of the compact search column is fast enough
for tens of thousands of datasets (see benchmarks/catalogue_search.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import ColumnElement, Row, Select, case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, DatasetTag, Publisher, Resource
from opendata.catalogue.schemas import FacetValue, SearchResponse, dataset_summary
from opendata.errors import bad_request
from opendata.stats.popularity import popularity_subquery

# views and downloads: most popular first (all-time totals of the usage counters).
POPULARITY_SORTS = ("views", "downloads")
SORTS = ("relevance", "modified", "created", "title", "id", *POPULARITY_SORTS)
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
    # A row offset that overrides page (CKAN's ``start`` is not a multiple of rows).
    offset: int | None = None

    def terms(self) -> list[str]:
        return [t.lower() for t in self.q.split() if t][:MAX_TERMS]


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


MAX_PAGE = 100_000  # far past any catalogue; keeps OFFSET inside every backend's integer


def validate(query: SearchQuery, max_page_size: int, max_filter_values: int = 32) -> None:
    if query.sort not in SORTS:
        raise bad_request("invalid_sort", f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= query.page <= MAX_PAGE:
        raise bad_request("invalid_page", f"page is between 1 and {MAX_PAGE:,}")
    filter_values = [*query.domain, *query.publisher, *query.open_level, *query.tag, *query.format]
    if len(filter_values) > max_filter_values:
        raise bad_request("too_many_filters", f"at most {max_filter_values} filter values per search")
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


def _contains(column: ColumnElement[str], term: str, dialect: str) -> ColumnElement[bool]:
    """``term`` occurs in ``column`` (both already lower-case).

    SQLite's instr() is a plain substring search, several times faster than its
    case-folding LIKE; PostgreSQL serves LIKE '%…%' from the pg_trgm index.
    """
    if dialect == "sqlite":
        return func.instr(column, term) > 0
    return column.like(_like_pattern(term), escape="\\")


def conditions(query: SearchQuery, dialect: str = "sqlite") -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        _contains(Dataset.search_text, term, dialect) for term in query.terms()
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


def _relevance(terms: list[str], dialect: str) -> ColumnElement[int]:
    """Title matches rank above matches in descriptions, tags and the dictionary."""
    score: ColumnElement[int] = literal(0)
    for term in terms:
        score = score + case(
            (_contains(func.lower(Dataset.title_zh), term, dialect), 10),
            (_contains(func.lower(func.coalesce(Dataset.title_en, "")), term, dialect), 8),
            else_=1,
        )
    return score


def _sort_key(query: SearchQuery) -> Callable[[Row], tuple]:
    """Python sort key over the matched rows, mirroring the SQL orderings."""
    if query.sort in POPULARITY_SORTS:
        return lambda r: (-r.popularity, -r.updated_at.timestamp(), r.id)
    if query.sort == "relevance" and query.terms():
        return lambda r: (-r.score, -r.updated_at.timestamp(), r.id)
    if query.sort in ("relevance", "modified"):
        return lambda r: (-r.updated_at.timestamp(), r.id)
    if query.sort == "created":
        return lambda r: (-r.created_at.timestamp(), r.id)
    if query.sort == "title":
        return lambda r: (r.title_zh, r.id)
    return lambda r: (r.id,)


def search_datasets(session: Session, query: SearchQuery, *, facets: bool = True) -> SearchResponse:
    """One page of matching datasets with the total and facet counts.

    With words to find, the catalogue is scanned once for the matching datasets and their
    facet values, which are sorted, counted and paged in memory: running COUNT, the page
    query and a GROUP BY per facet would repeat the substring scan seven times. Without
    words, filters and sorts run on indexes and SQL pages them.
    """
    dialect = session.get_bind().dialect.name
    where = conditions(query, dialect)
    terms = query.terms()
    start = query.offset if query.offset is not None else (query.page - 1) * query.page_size
    if terms:
        scan = select(
            Dataset.id, Dataset.domain, Dataset.publisher_id, Dataset.open_level, Dataset.updated_at,
            Dataset.created_at, Dataset.title_zh, _relevance(terms, dialect).label("score"),
        ).where(*where)
        if query.sort in POPULARITY_SORTS:
            popularity = popularity_subquery()
            scan = scan.add_columns(func.coalesce(popularity.c[query.sort], 0).label("popularity")).outerjoin(
                popularity, popularity.c.dataset_id == Dataset.id)
        matched = session.execute(scan).all()
        matched.sort(key=_sort_key(query))
        page_ids = [r.id for r in matched[start:start + query.page_size]]
        total = len(matched)
        counts = {
            "domain": Counter(r.domain for r in matched),
            "open_level": Counter(r.open_level for r in matched),
            "publisher": Counter(r.publisher_id for r in matched),
        }
    else:
        total = session.scalar(select(func.count()).select_from(Dataset).where(*where)) or 0
        page_ids = list(session.scalars(
            _sql_order(select(Dataset.id).where(*where), query).limit(query.page_size).offset(start)
        ))
        counts = {
            name: Counter(dict(session.execute(select(column, func.count()).where(*where).group_by(column)).all()))
            for name, column in (("domain", Dataset.domain), ("open_level", Dataset.open_level),
                                 ("publisher", Dataset.publisher_id))
        } if facets and total else {}
    loaded = {
        d.id: d
        for d in session.scalars(
            select(Dataset).where(Dataset.id.in_(page_ids)).options(
                selectinload(Dataset.publisher), selectinload(Dataset.tags), selectinload(Dataset.resources)
            )
        )
    } if page_ids else {}
    return SearchResponse(
        items=[dataset_summary(loaded[i]) for i in page_ids],
        total=total,
        page=query.page,
        page_size=query.page_size,
        facets=facet_values(session, where, counts) if facets and total else {k: [] for k in FACETS},
    )


def _sql_order(stmt: Select, query: SearchQuery) -> Select:
    if query.sort in POPULARITY_SORTS:
        popularity = popularity_subquery()
        return stmt.outerjoin(popularity, popularity.c.dataset_id == Dataset.id).order_by(
            func.coalesce(popularity.c[query.sort], 0).desc(), Dataset.updated_at.desc(), Dataset.id)
    if query.sort == "created":
        return stmt.order_by(Dataset.created_at.desc(), Dataset.id)
    if query.sort == "title":
        return stmt.order_by(Dataset.title_zh, Dataset.id)
    if query.sort == "id":
        return stmt.order_by(Dataset.id)
    return stmt.order_by(Dataset.updated_at.desc(), Dataset.id)


def facet_values(
    session: Session, where: list[ColumnElement[bool]], counts: dict[str, Counter]
) -> dict[str, list[FacetValue]]:
    """Facets with labels, most frequent first; tags and formats are counted here."""
    publishers = counts["publisher"]
    names = {
        pid: (zh, en)
        for pid, zh, en in session.execute(
            select(Publisher.id, Publisher.name_zh, Publisher.name_en).where(Publisher.id.in_(list(publishers)))
        )
    }
    # An uncorrelated IN (subquery) is evaluated once; a JOIN here would make the
    # planner rescan the search text for every tag row.
    matched_ids = select(Dataset.id).where(*where)
    tags = session.execute(
        select(DatasetTag.tag, func.count())
        .where(DatasetTag.dataset_id.in_(matched_ids))
        .group_by(DatasetTag.tag)
        .order_by(func.count().desc(), DatasetTag.tag)
        .limit(TAG_FACET_LIMIT)
    ).all()
    formats = session.execute(
        select(Resource.format, func.count(func.distinct(Resource.dataset_id)))
        .where(Resource.dataset_id.in_(matched_ids))
        .group_by(Resource.format)
    ).all()
    result = {
        "domain": [FacetValue(c, n, *_term_labels(vocab.DOMAIN_BY_CODE.get(c))) for c, n in counts["domain"].items()],
        "open_level": [
            FacetValue(c, n, *_term_labels(vocab.OPEN_LEVEL_BY_CODE.get(c))) for c, n in counts["open_level"].items()
        ],
        "publisher": [FacetValue(p, n, *names.get(p, (None, None))) for p, n in publishers.items()],
        "tag": [FacetValue(tag, n) for tag, n in tags],
        "format": [FacetValue(fmt, n) for fmt, n in formats],
    }
    for name in ("domain", "open_level", "publisher", "format"):
        result[name].sort(key=lambda f: (-f.count, f.value))
    return result


def _term_labels(term: vocab.Term | None) -> tuple[str | None, str | None]:
    return (term.zh, term.en) if term else (None, None)
