"""The relevance-ordered search at catalogue scale: ids from the index, a bounded ranking.

Cost model (why this shape): on SQLite, reading the ids of 30,000 matches from FTS5 costs
a few milliseconds, but ranking them costs microseconds per row (bm25() reads each row's
phrase positions and column sizes); on PostgreSQL ts_rank() reads each row's tsvector.
So a search reads the ids of every match (for the total and the facets, counted with
search/docvalues.py, filters applied there too) and ranks a bounded candidate set:

- if the query matches at most ``RANK_BUDGET`` documents, all of them are ranked: the
  order is the exact one (title/tag matches first, then BM25 / ts_rank);
- otherwise the ranked set is the ``RANK_BUDGET`` most recently indexed matches (on
  SQLite, separately for the title/tag tier, scored by its own title-restricted query);
  other matches follow within their tier, most recently indexed first.

Ties are broken by the most recently indexed document (an edit re-indexes a dataset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sqlalchemy.orm import Session

from opendata.search.docvalues import DocValues
from opendata.search.index import SQLITE_WEIGHTS

RANK_BUDGET = 1000
# FTS5's bm25() is lower for better matches: negated, higher is better on both backends.
_SQLITE_SCORES = ("SELECT rowid, -bm25(search_fts, " + ", ".join(str(w) for w in SQLITE_WEIGHTS.values())
                  + ") FROM search_fts WHERE search_fts MATCH :e")


@dataclass
class Ranked:
    total: int
    dataset_ids: list[str]                    # the page, in order
    counts: dict[str, dict[str, int]] | None  # facet counts of every match (None: not asked)


_BIND = re.compile(r"(?<!:):(\w+)")


def _rows(session: Session, sql: str, params: dict) -> list[tuple]:
    """Rows straight from the driver's cursor (no Result or Row objects: ~4x faster for
    the thousand scores of a ranking). The SQL names its binds :name."""
    connection = session.connection().connection.dbapi_connection
    postgres = session.get_bind().dialect.name != "sqlite"
    cursor = connection.cursor()  # type: ignore[union-attr]
    try:
        if postgres:
            # The planner prices a sequential scan of the tsvectors without their
            # detoasting: it chose one over the GIN index (266 ms against ~2 ms at 10,000
            # datasets). Off for this statement only.
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql = _BIND.sub(r"%(\1)s", sql)
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        if postgres:
            cursor.execute("RESET enable_seqscan")
        cursor.close()


def _ids(session: Session, sql: str, params: dict) -> np.ndarray:
    """The ids a query selects, most recently indexed first. Read as one aggregated string:
    30,000 ids cost ~4 ms that way, against ~35 ms as rows (a Python tuple each)."""
    column, rest = sql.removeprefix("SELECT ").split(" FROM ", 1)
    aggregate = "group_concat({})" if session.get_bind().dialect.name == "sqlite" else "string_agg({}::text, ',')"
    joined = _rows(session, f"SELECT {aggregate.format(column)} FROM {rest}", params)[0][0]
    ids = np.fromstring(joined, sep=",", dtype=np.int64) if joined else np.empty(0, dtype=np.int64)
    ids.sort()
    return ids[::-1]


def _scores(session: Session, sql: str, params: dict) -> dict[int, float]:
    return dict(_rows(session, sql, params))


def _order(members: np.ndarray, scores: dict[int, float]) -> np.ndarray:
    """Members (newest first) in rank order: scored ones by score, the others after."""
    if not scores or not len(members):
        return members
    scored = np.isin(members, np.fromiter(scores, dtype=np.int64, count=len(scores)))
    ranked = members[scored]
    by_score = np.array([-scores[int(m)] for m in ranked])
    ranked = ranked[np.argsort(by_score, kind="stable")]  # stable: ties stay newest first
    return np.concatenate([ranked, members[~scored]])


def _bound(universe: np.ndarray) -> int | None:
    """The lowest id of the newest RANK_BUDGET ids of ``universe`` (newest first)."""
    return int(universe[RANK_BUDGET - 1]) if len(universe) > RANK_BUDGET else None


class _Match:
    """One backend's queries: all matching ids, title-tier ids, scores within a bound."""

    def __init__(self, session: Session, values: DocValues, filters: dict[str, Sequence[str]]) -> None:
        self.session = session
        self.values = values
        self.mask = values.filter_mask(filters)

    def keep(self, ids: np.ndarray) -> np.ndarray:
        """Ids passing the filters (and known to the doc values)."""
        slots = self.values.slots(ids)
        known = self.values.doc_ids[slots]
        if self.mask is None:
            return known if len(known) == len(ids) else ids[np.isin(ids, known)]
        return known[self.mask[slots]]


def any_match(session: Session, values: DocValues, expression: str, filters: dict[str, Sequence[str]]) -> bool:
    """Whether an index expression (FTS5 or tsquery) matches a dataset passing the filters."""
    sql = ("SELECT rowid FROM search_fts WHERE search_fts MATCH :e" if session.get_bind().dialect.name == "sqlite"
           else "SELECT doc_id FROM search_documents WHERE document @@ CAST(:e AS tsquery)")
    return bool(len(_Match(session, values, filters).keep(_ids(session, sql, {"e": expression}))))


def search_sqlite(session: Session, values: DocValues, expression: str, title_expression: str,
                  filters: dict[str, Sequence[str]], start: int, size: int, facets: bool) -> Ranked:
    match = _Match(session, values, filters)
    everything = _ids(session, "SELECT rowid FROM search_fts WHERE search_fts MATCH :e", {"e": expression})
    matched = match.keep(everything)
    result = _result(values, matched, facets)
    if not len(matched):
        return result
    titles_all = _ids(session, "SELECT rowid FROM search_fts WHERE search_fts MATCH :e", {"e": title_expression})
    titles = titles_all[np.isin(titles_all, matched)]
    others = matched[~np.isin(matched, titles)]
    score_sql = _SQLITE_SCORES
    if len(everything) <= RANK_BUDGET:
        scores = _scores(session, score_sql, {"e": expression})
        order = np.concatenate([_order(titles, scores), _order(others, scores)])
    else:
        both = f"({expression}) AND ({title_expression})"
        low = _bound(titles_all)
        title_scores = _scores(session, score_sql + (" AND rowid >= :low" if low is not None else ""),
                               {"e": both, "low": low}) if len(titles) else {}
        order = _order(titles, title_scores)
        if start + size > len(order) and len(others):
            low = _bound(everything)
            other_scores = _scores(session, score_sql + (" AND rowid >= :low" if low is not None else ""),
                                   {"e": expression, "low": low})
            order = np.concatenate([order, _order(others, other_scores)])
    result.dataset_ids = _page(values, order, start, size)
    return result


def search_postgres(session: Session, values: DocValues, tsquery: str, title_tsquery: str,
                    filters: dict[str, Sequence[str]], start: int, size: int, facets: bool) -> Ranked:
    match = _Match(session, values, filters)
    params = {"q": tsquery, "t": title_tsquery}
    where = "document @@ CAST(:q AS tsquery)"
    everything = _ids(session, f"SELECT doc_id FROM search_documents WHERE {where}", params)
    matched = match.keep(everything)
    result = _result(values, matched, facets)
    if not len(matched):
        return result
    low = _bound(everything)
    scored = _rows(session,
                   "SELECT doc_id, ts_rank(document, CAST(:q AS tsquery)), document @@ CAST(:t AS tsquery) "
                   f"FROM search_documents WHERE {where}" + (" AND doc_id >= :low" if low is not None else ""),
                   {**params, "low": low})
    scores = {int(d): float(s) for d, s, _ in scored}
    in_title = np.array([int(d) for d, _, t in scored if t], dtype=np.int64)
    window = matched[np.isin(matched, np.array(list(scores), dtype=np.int64))]
    titles = window[np.isin(window, in_title)]
    order = np.concatenate([_order(titles, scores), _order(window[~np.isin(window, in_title)], scores),
                            matched[~np.isin(matched, window)]])
    result.dataset_ids = _page(values, order, start, size)
    return result


def _result(values: DocValues, matched: np.ndarray, facets: bool) -> Ranked:
    counts = values.count(values.slots(matched)) if facets and len(matched) else None
    return Ranked(total=len(matched), dataset_ids=[], counts=counts)


def _page(values: DocValues, order: np.ndarray, start: int, size: int) -> list[str]:
    page = order[start:start + size]
    return [str(values.dataset_ids[s]) for s in values.slots(page)] if len(page) else []
