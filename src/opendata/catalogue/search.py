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
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from sqlalchemy import ColumnElement, Select, cast, func, literal, literal_column, select
from sqlalchemy.sql import column, table
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, selectinload

from opendata.search import tokens as tok
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.models import Dataset, DatasetTag, Resource
from opendata.catalogue.schemas import SearchResponse, dataset_summary
from opendata.catalogue.search_facets import FACETS, count_facets, facet_cache, facet_values, listing_counts
from opendata.search import ranked
from opendata.search.docvalues import doc_values
from opendata.search.highlight import highlights_for
from opendata.search.index import SQLITE_WEIGHTS, generation
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
MAX_TERMS = 8
MAX_TERM_LENGTH = 64


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

def filter_conditions(query: SearchQuery, *, unindexed: bool = False) -> list[ColumnElement[bool]]:
    """The filters as SQL. ``unindexed``: the column filters written so that no index
    serves them (``column || ''``), which leaves SQLite the updated_at index to walk."""
    def col(c: Any) -> Any:
        return c + literal("") if unindexed else c
    where: list[ColumnElement[bool]] = []
    if query.domain:
        where.append(col(Dataset.domain).in_([vocab.resolve_domain(d).code for d in query.domain]))  # type: ignore[union-attr]
    if query.publisher:
        where.append(col(Dataset.publisher_id).in_(query.publisher))
    if query.open_level:
        where.append(col(Dataset.open_level).in_(query.open_level))
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


# --- listings without words: indexed SQL, facets cached per generation ----------------------

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


LISTING_ID_LIST = 5000


def _listing_page(session: Session, gen: tuple[str, int], query: SearchQuery,
                  where: list[ColumnElement[bool]]) -> Select:
    """A word-less listing's page query. Filtered and newest first, it names the matching
    ids from the doc values when they are few (no scan of the whole filter's index), and
    otherwise walks the updated_at index (SQLite's planner would read and sort every row
    of the filter's index: 360 ms for a third of 100,000 datasets, against 0.2 ms)."""
    stmt = select(Dataset.id)
    if not where or query.sort not in ("relevance", "modified"):
        return _sql_order(stmt.where(*where), query)
    values = doc_values.get(session, gen)
    mask = values.filter_mask(_filters(query))
    if mask is not None and int(mask.sum()) <= LISTING_ID_LIST:
        return _sql_order(stmt.where(Dataset.id.in_(values.dataset_ids[mask].tolist())), query)
    if session.get_bind().dialect.name == "sqlite":
        where = filter_conditions(query, unindexed=True)
    return _sql_order(stmt.where(*where), query)


def _filters_key(query: SearchQuery) -> tuple:
    return tuple(tuple(sorted(getattr(query, name))) for name in ("domain", "publisher", "open_level", "tag", "format"))


# --- the search -----------------------------------------------------------------------------

def search_datasets(session: Session, query: SearchQuery, *, facets: bool = True) -> SearchResponse:
    """One page of matching datasets with the total, facet counts and highlights."""
    return search_page(session, query, facets=facets)[0]


def search_page(session: Session, query: SearchQuery, *, facets: bool = True,
                highlights: bool = True) -> tuple[SearchResponse, list[Dataset]]:
    """The search response and the page's datasets as loaded for it (publisher, tags and
    resources), for callers that render more of each dataset than its summary
    (``highlights=False``: for callers that show none, as CKAN's package_search)."""
    where = filter_conditions(query)
    terms = query.terms()
    start = query.offset if query.offset is not None else (query.page - 1) * query.page_size
    gen = generation(session)
    words: list[Word] = []
    did_you_mean = None
    if terms and query.sort == "relevance":
        synonyms = synonym_groups(session, gen)
        words = [word_alternatives(term, synonyms) for term in terms]
        found = _ranked(session, gen, words, query, start, facets)
        total, page_ids, counts = found.total, found.dataset_ids, found.counts or {}
        if total == 0:
            did_you_mean = _did_you_mean(session, gen, terms, where, synonyms, query)
    elif terms:
        synonyms = synonym_groups(session, gen)
        words = [word_alternatives(term, synonyms) for term in terms]
        rows = matched_rows(session, words, where,
                            query.sort if query.sort in RANKED_SORTS else None)
        total = len(rows)
        page_rows = heapq.nsmallest(start + query.page_size, rows, key=_sort_key(query))[start:]
        page_ids = [r.id for r in page_rows]
        counts = count_facets(rows) if facets and total else {}
        if total == 0:
            did_you_mean = _did_you_mean(session, gen, terms, where, synonyms)
    else:
        total, counts = facet_cache.get_or_compute((gen, _filters_key(query)),
                                                    lambda: listing_counts(session, where))
        page_ids = list(session.scalars(
            _listing_page(session, gen, query, where).limit(query.page_size).offset(start)
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
        highlights=highlights_for(items, terms, words) if terms and highlights else {},
        did_you_mean=did_you_mean,
    ), items


def _did_you_mean(session: Session, gen: tuple[str, int], terms: list[str], where: list[ColumnElement[bool]],
                  synonyms: dict[str, list[str]], query: SearchQuery | None = None) -> str | None:
    from opendata.search.suggest import suggest

    if query is None:
        def finds(ws: list[Word]) -> bool:
            return bool(matched_rows(session, ws, where))
    else:  # the index's ids and the doc values: no row of any table is read
        values, filters = doc_values.get(session, gen), _filters(query)

        def finds(ws: list[Word]) -> bool:
            return bool(ws) and all(ws) and ranked.any_match(session, values, _expressions(session, ws)[0], filters)
    return suggest(session, gen, terms, finds, lambda t: word_alternatives(t, synonyms))


def _filters(query: SearchQuery) -> dict[str, list[str]]:
    return {
        "domain": [vocab.resolve_domain(d).code for d in query.domain],  # type: ignore[union-attr]
        "publisher": query.publisher, "open_level": query.open_level, "tag": query.tag,
        "format": [f.lower() for f in query.format],
    }


def _expressions(session: Session, words: list[Word]) -> tuple[str, str]:
    """The index expression of the words, and the same restricted to titles, tags, pinyin."""
    if session.get_bind().dialect.name == "postgresql":
        return tsquery_expression(words), tsquery_expression(words, "AB")
    return fts5_expression(words), fts5_expression(words, TITLE_COLUMNS)


def _ranked(session: Session, gen: tuple[str, int], words: list[Word], query: SearchQuery, start: int,
            facets: bool) -> ranked.Ranked:
    """The relevance order at scale (search/ranked.py): ids from the index, filters and
    facets over the in-memory doc values, a bounded set ranked by BM25 / ts_rank."""
    if not words or not all(words):
        return ranked.Ranked(0, [], None)
    values = doc_values.get(session, gen)
    search = ranked.search_postgres if session.get_bind().dialect.name == "postgresql" else ranked.search_sqlite
    return search(session, values, *_expressions(session, words), _filters(query), start, query.page_size, facets)
