"""Catalogue search: indexed full-text matching with relevance, filters, facets and paging.

A query is split into words; each word becomes the tokens of search/tokens.py (Chinese
bigrams, stems, pinyin) and, through the administrators' synonym groups, alternatives
(公交 -> 公交 | 巴士 | 公共汽车 | bus). Every word must match. The database's own full-text
index finds the matches (search/index.py: FTS5 on SQLite, tsvector + GIN on PostgreSQL)
and ranks them (BM25 with title and tag boosts on SQLite, ts_rank with weights on
PostgreSQL). Facets of a query are counted from the matched rows in the same pass; those
of a listing without words come from indexed GROUP BYs and are cached per index
generation, so a plain listing costs one indexed page query.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from sqlalchemy import ColumnElement, Select, cast, func, literal, literal_column, select
from sqlalchemy.sql import column, table
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, selectinload

from opendata.search import tokens as tok
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, DatasetTag, Publisher, Resource
from opendata.catalogue.schemas import FacetValue, SearchResponse, dataset_summary
from opendata.search.highlight import highlights_for
from opendata.search.index import FACET_SEPARATOR, SQLITE_WEIGHTS, generation
from opendata.search.models import SearchDocument
from opendata.search.synonyms import synonym_groups
from opendata.errors import bad_request
from opendata.feedback.ratings import RatingSummary, rating_subquery, summaries
from opendata.feedback.schemas import rating_summary_out
from opendata.stats.popularity import popularity_subquery

# views and downloads: most popular first (all-time totals of the usage counters).
POPULARITY_SORTS = ("views", "downloads")
# rating: best average stars first, then most ratings (unrated datasets last).
RANKED_SORTS = (*POPULARITY_SORTS, "rating")
SORTS = ("relevance", "modified", "created", "title", "id", *RANKED_SORTS)
FACETS = ("domain", "publisher", "open_level", "tag", "format")
MAX_TERMS = 8
MAX_TERM_LENGTH = 64
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
        """The query's words (lower-cased, at most MAX_TERMS of MAX_TERM_LENGTH)."""
        return [t.lower()[:MAX_TERM_LENGTH] for t in self.q.split() if t][:MAX_TERMS]


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


# --- from words to an index query -------------------------------------------------------

Alternative = list[str]          # tokens that must all match
Word = list[Alternative]         # any one alternative matches the word


def word_alternatives(word: str, synonyms: dict[str, list[str]]) -> Word:
    """The ways a query word can match: its own tokens, its pinyin reading, its synonyms."""
    alternatives: Word = []
    for variant in [word, *synonyms.get(word, [])]:
        tokens = _tokens_of(variant)
        if tokens and tokens not in alternatives:
            alternatives.append(tokens)
        if variant == word and (pinyin := tok.query_pinyin_tokens(word)):
            alternatives.append(pinyin)
    return alternatives


def _tokens_of(word: str) -> Alternative:
    tokens: Alternative = []
    for piece in tok.pieces(word):
        if tok.is_cjk(piece):
            tokens.extend(tok.bigrams(piece) if len(piece) > 1 else [piece])
        else:
            tokens.append(tok.stem(piece))
    return list(dict.fromkeys(tokens))


def fts5_expression(words: list[Word], columns: tuple[str, ...] = ()) -> str:
    """FTS5 MATCH syntax; with ``columns``, every word must match within those columns."""
    def quote(token: str) -> str:
        return '"' + token.replace('"', '""') + '"'
    expression = " AND ".join(
        "(" + " OR ".join("(" + " AND ".join(map(quote, alt)) + ")" for alt in word) + ")" for word in words
    )
    return f"{{{' '.join(columns)}}} : ({expression})" if columns else expression


def tsquery_expression(words: list[Word], weights: str = "") -> str:
    """tsquery syntax; with ``weights`` (e.g. "AB"), every lexeme must carry one of them."""
    suffix = f":{weights}" if weights else ""

    def quote(token: str) -> str:
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'" + suffix
    return " & ".join(
        "(" + " | ".join("(" + " & ".join(map(quote, alt)) + ")" for alt in word) + ")" for word in words
    )


# --- filters ------------------------------------------------------------------------------

def filter_conditions(query: SearchQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.domain:
        where.append(Dataset.domain.in_([vocab.resolve_domain(d).code for d in query.domain]))  # type: ignore[union-attr]
    if query.publisher:
        where.append(Dataset.publisher_id.in_(query.publisher))
    if query.open_level:
        where.append(Dataset.open_level.in_(query.open_level))
    for tag in query.tag:
        where.append(Dataset.id.in_(select(DatasetTag.dataset_id).where(DatasetTag.tag == tag)))
    if query.format:
        formats = [f.lower() for f in query.format]
        where.append(Dataset.id.in_(select(Resource.dataset_id).where(Resource.format.in_(formats))))
    return where


# --- matching -----------------------------------------------------------------------------

# SQLite's FTS5 table; its hidden column of the same name takes the MATCH expression.
SEARCH_FTS = table("search_fts", column("rowid"), column("search_fts"))
TITLE_FTS = SEARCH_FTS.alias("title_fts")
TITLE_COLUMNS = ("title", "tags", "pinyin")
MATCH_COLUMNS = (
    Dataset.id, Dataset.domain, Dataset.publisher_id, Dataset.open_level, Dataset.updated_at,
    Dataset.created_at, Dataset.title_zh, SearchDocument.facet_tags, SearchDocument.facet_formats,
)


def matched_rows(session: Session, words: list[Word], where: list[ColumnElement[bool]],
                 popularity_sort: str | None = None) -> list[Any]:
    """Every dataset matching all words (and the filters), with its score and facets.
    A word with nothing to match (punctuation alone, "%") matches no dataset."""
    if not words or not all(words):
        return []
    # Ranked first: datasets whose titles or tags alone match every word (BM25's term
    # weights fade for words that most datasets share, as 企业 or credit do here).
    if session.get_bind().dialect.name == "postgresql":
        tsquery = cast(literal(tsquery_expression(words)), TSQUERY)
        in_title = SearchDocument.document.op("@@")(cast(literal(tsquery_expression(words, "AB")), TSQUERY))
        score = func.ts_rank(SearchDocument.document, tsquery).label("score")
        stmt = (select(*MATCH_COLUMNS, score, in_title.label("in_title"))
                .join(SearchDocument, SearchDocument.dataset_id == Dataset.id)
                .where(SearchDocument.document.op("@@")(tsquery), *where))
    else:
        weights = ", ".join(str(w) for w in SQLITE_WEIGHTS.values())
        # FTS5's bm25() is lower for better matches: negate it so higher is better everywhere.
        score = literal_column(f"-bm25(search_fts, {weights})").label("score")
        title_matches = select(TITLE_FTS.c.rowid).where(
            TITLE_FTS.c.search_fts.op("MATCH")(fts5_expression(words, TITLE_COLUMNS)))
        in_title = SEARCH_FTS.c.rowid.in_(title_matches.scalar_subquery())
        stmt = (select(*MATCH_COLUMNS, score, in_title.label("in_title"))
                .select_from(SEARCH_FTS)
                .join(SearchDocument, SearchDocument.doc_id == SEARCH_FTS.c.rowid)
                .join(Dataset, Dataset.id == SearchDocument.dataset_id)
                .where(SEARCH_FTS.c.search_fts.op("MATCH")(fts5_expression(words)), *where))
    if popularity_sort == "rating":
        rated = rating_subquery()
        stmt = stmt.add_columns(func.coalesce(rated.c.average, 0).label("popularity"),
                                func.coalesce(rated.c.count, 0).label("rated")).outerjoin(
            rated, rated.c.dataset_id == Dataset.id)
    elif popularity_sort:
        popularity = popularity_subquery()
        stmt = stmt.add_columns(func.coalesce(popularity.c[popularity_sort], 0).label("popularity")).outerjoin(
            popularity, popularity.c.dataset_id == Dataset.id)
    return list(session.execute(stmt))


def _sort_key(query: SearchQuery) -> Callable[[Any], tuple]:
    """Python sort key over the matched rows, mirroring the SQL orderings."""
    if query.sort in POPULARITY_SORTS:
        return lambda r: (-r.popularity, -r.updated_at.timestamp(), r.id)
    if query.sort == "rating":
        return lambda r: (-float(r.popularity), -r.rated, -r.updated_at.timestamp(), r.id)
    if query.sort == "relevance":
        return lambda r: (not r.in_title, -r.score, -r.updated_at.timestamp(), r.id)
    if query.sort == "modified":
        return lambda r: (-r.updated_at.timestamp(), r.id)
    if query.sort == "created":
        return lambda r: (-r.created_at.timestamp(), r.id)
    if query.sort == "title":
        return lambda r: (r.title_zh, r.id)
    return lambda r: (r.id,)


def _count_facets(rows: list[Any]) -> dict[str, Counter]:
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


# --- listings without words: indexed SQL, facets cached per generation ----------------------

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


_facet_cache = _FacetCache()


def _listing_counts(session: Session, where: list[ColumnElement[bool]]) -> tuple[int, dict[str, Counter]]:
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


def _sql_order(stmt: Select, query: SearchQuery) -> Select:
    if query.sort in POPULARITY_SORTS:
        popularity = popularity_subquery()
        return stmt.outerjoin(popularity, popularity.c.dataset_id == Dataset.id).order_by(
            func.coalesce(popularity.c[query.sort], 0).desc(), Dataset.updated_at.desc(), Dataset.id)
    if query.sort == "rating":
        rated = rating_subquery()
        return stmt.outerjoin(rated, rated.c.dataset_id == Dataset.id).order_by(
            func.coalesce(rated.c.average, 0).desc(), func.coalesce(rated.c.count, 0).desc(),
            Dataset.updated_at.desc(), Dataset.id)
    if query.sort == "created":
        return stmt.order_by(Dataset.created_at.desc(), Dataset.id)
    if query.sort == "title":
        return stmt.order_by(Dataset.title_zh, Dataset.id)
    if query.sort == "id":
        return stmt.order_by(Dataset.id)
    return stmt.order_by(Dataset.updated_at.desc(), Dataset.id)


def _filters_key(query: SearchQuery) -> tuple:
    return tuple(tuple(sorted(getattr(query, name))) for name in ("domain", "publisher", "open_level", "tag", "format"))


# --- the search -----------------------------------------------------------------------------

def search_datasets(session: Session, query: SearchQuery, *, facets: bool = True) -> SearchResponse:
    """One page of matching datasets with the total, facet counts and highlights."""
    return search_page(session, query, facets=facets)[0]


def search_page(session: Session, query: SearchQuery, *, facets: bool = True) -> tuple[SearchResponse, list[Dataset]]:
    """The search response and the page's datasets as loaded for it (publisher, tags and
    resources), for callers that render more of each dataset than its summary."""
    where = filter_conditions(query)
    terms = query.terms()
    start = query.offset if query.offset is not None else (query.page - 1) * query.page_size
    gen = generation(session)
    words: list[Word] = []
    did_you_mean = None
    if terms:
        synonyms = synonym_groups(session, gen)
        words = [word_alternatives(term, synonyms) for term in terms]
        rows = matched_rows(session, words, where,
                            query.sort if query.sort in RANKED_SORTS else None)
        total = len(rows)
        page_rows = heapq.nsmallest(start + query.page_size, rows, key=_sort_key(query))[start:]
        page_ids = [r.id for r in page_rows]
        counts = _count_facets(rows) if facets and total else {}
        if total == 0:
            from opendata.search.suggest import suggest

            did_you_mean = suggest(session, gen, terms, lambda ws: bool(matched_rows(session, ws, where)),
                                   lambda t: word_alternatives(t, synonyms))
    else:
        total, counts = _facet_cache.get_or_compute((gen, _filters_key(query)),
                                                    lambda: _listing_counts(session, where))
        page_ids = list(session.scalars(
            _sql_order(select(Dataset.id).where(*where), query).limit(query.page_size).offset(start)
        )) if total else []
    loaded = {
        d.id: d
        for d in session.scalars(
            select(Dataset).where(Dataset.id.in_(page_ids)).options(
                selectinload(Dataset.publisher), selectinload(Dataset.tags), selectinload(Dataset.resources)
            )
        )
    } if page_ids else {}
    items = [loaded[i] for i in page_ids if i in loaded]
    rated = summaries(session, page_ids)
    return SearchResponse(
        items=[replace(dataset_summary(d), rating=rating_summary_out(rated.get(d.id, RatingSummary())))
               for d in items],
        total=total,
        page=query.page,
        page_size=query.page_size,
        facets=facet_values(session, counts) if facets and total else {k: [] for k in FACETS},
        highlights=highlights_for(items, terms, words) if terms else {},
        did_you_mean=did_you_mean,
    ), items


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
