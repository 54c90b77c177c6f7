"""The facet columns of the indexed documents, in memory, per process: Lucene's doc values.

A search asks the full-text index (FTS5 or the GIN-indexed tsvector) only for the ids of
the matching documents; filters and facet counts are then array operations over these
columns (numpy), so their cost is a few array passes over the matches instead of a join
per matched row. Each column is indexed by a document's *slot* (its position in the
sorted ``doc_ids``); a facet value is a small integer code.

The columns follow the index: on a new index generation the process reads the ids of the
live documents (a covering index scan), loads the rows of ids it has not seen and drops
those that are gone. A document id is never reused for another content: SQLite documents
get generation-prefixed ids (search/index.py), PostgreSQL's come from a sequence; an
edited dataset gets a new document, so a known id's columns never change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from opendata.search.index import FACET_SEPARATOR

SINGLE = ("domain", "publisher", "open_level")
MULTI = ("tag", "format")
FACET_NAMES = (*SINGLE, *MULTI)
_DATABASES = 64  # databases whose columns one process keeps
_FULL_RELOAD_OVER = 2000  # new documents above this: one ranged scan instead of IN lists

_ROWS_SQL = (
    "SELECT s.doc_id, s.dataset_id, d.domain, d.publisher_id, d.open_level, s.facet_tags, s.facet_formats "
    "FROM search_documents s JOIN datasets d ON d.id = s.dataset_id"
)


@dataclass
class _Codes:
    """Facet values <-> small integer codes, for one facet."""
    values: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    def code(self, value: str) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found


class DocValues:
    """Columns for one database at one index generation (immutable once built)."""

    def __init__(self, codes: dict[str, _Codes], doc_ids: np.ndarray, dataset_ids: np.ndarray,
                 single: dict[str, np.ndarray], pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.codes = codes
        self.doc_ids = doc_ids          # sorted int64
        self.dataset_ids = dataset_ids  # object array, by slot
        self.single = single            # facet -> int32 code by slot
        self.pairs = pairs              # facet -> (slot, code) of every (document, value) pair

    def __len__(self) -> int:
        return len(self.doc_ids)

    def slots(self, doc_ids: np.ndarray) -> np.ndarray:
        """Slots of these document ids; an id written after these columns were read (a
        concurrent writer, before its generation reached this process) is left out."""
        if not len(self.doc_ids) or not len(doc_ids):
            return np.empty(0, dtype=np.int64)
        found = np.minimum(np.searchsorted(self.doc_ids, doc_ids), len(self.doc_ids) - 1)
        return found[self.doc_ids[found] == doc_ids]

    def filter_mask(self, filters: dict[str, Sequence[str]]) -> np.ndarray | None:
        """Slots passing every filter (any value of a facet, all facets), or None: no filter."""
        mask: np.ndarray | None = None
        for name, values in filters.items():
            if not values:
                continue
            known = [self.codes[name].codes[v] for v in values if v in self.codes[name].codes]
            if name in SINGLE:
                passing = np.isin(self.single[name], known)
            else:
                slot, code = self.pairs[name]
                passing = np.zeros(len(self), dtype=bool)
                passing[slot[np.isin(code, known)]] = True
            mask = passing if mask is None else mask & passing
        return mask

    def count(self, slots: np.ndarray) -> dict[str, dict[str, int]]:
        """Facet counts over these slots: {facet: {value: datasets}}."""
        result: dict[str, dict[str, int]] = {}
        for name in SINGLE:
            counts = np.bincount(self.single[name][slots], minlength=len(self.codes[name].values))
            result[name] = _named(self.codes[name].values, counts)
        member = np.zeros(len(self), dtype=bool)
        member[slots] = True
        for name in MULTI:
            slot, code = self.pairs[name]
            counts = np.bincount(code[member[slot]], minlength=len(self.codes[name].values))
            result[name] = _named(self.codes[name].values, counts)
        return result


def _named(values: list[str], counts: np.ndarray) -> dict[str, int]:
    nonzero = np.flatnonzero(counts)
    return {values[i]: int(counts[i]) for i in nonzero}


def _build(previous: DocValues | None, live: np.ndarray, rows: Iterable[Sequence[Any]]) -> DocValues:
    codes = previous.codes if previous is not None else {name: _Codes() for name in FACET_NAMES}
    new_ids: list[int] = []
    new_dataset_ids: list[str] = []
    new_single: dict[str, list[int]] = {name: [] for name in SINGLE}
    new_pairs: dict[str, tuple[list[int], list[int]]] = {name: ([], []) for name in MULTI}
    for doc_id, dataset_id, domain, publisher, level, tags, formats in rows:
        new_ids.append(doc_id)
        new_dataset_ids.append(dataset_id)
        for name, value in (("domain", domain), ("publisher", publisher), ("open_level", level)):
            new_single[name].append(codes[name].code(value or ""))
        for name, joined in (("tag", tags), ("format", formats)):
            if joined:
                docs, values = new_pairs[name]
                for value in joined.split(FACET_SEPARATOR):
                    docs.append(doc_id)
                    values.append(codes[name].code(value))
    ids = np.array(new_ids, dtype=np.int64)
    dataset_ids = np.array(new_dataset_ids, dtype=object)
    single = {name: np.array(new_single[name], dtype=np.int32) for name in SINGLE}
    pair_ids = {name: np.array(new_pairs[name][0], dtype=np.int64) for name in MULTI}
    pair_codes = {name: np.array(new_pairs[name][1], dtype=np.int32) for name in MULTI}
    if previous is not None and len(previous):
        kept = np.isin(previous.doc_ids, live, assume_unique=True)
        ids = np.concatenate([previous.doc_ids[kept], ids])
        dataset_ids = np.concatenate([previous.dataset_ids[kept], dataset_ids])
        single = {name: np.concatenate([previous.single[name][kept], single[name]]) for name in SINGLE}
        for name in MULTI:
            slot, code = previous.pairs[name]
            keep_pair = kept[slot]
            pair_ids[name] = np.concatenate([previous.doc_ids[slot[keep_pair]], pair_ids[name]])
            pair_codes[name] = np.concatenate([code[keep_pair], pair_codes[name]])
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    pairs = {name: (np.searchsorted(ids, pair_ids[name]).astype(np.int64), pair_codes[name]) for name in MULTI}
    return DocValues(codes, ids, dataset_ids[order], {n: single[n][order] for n in SINGLE}, pairs)


def _live_ids(session: Session) -> np.ndarray:
    ids = np.array(session.execute(text("SELECT doc_id FROM search_documents")).scalars().all(), dtype=np.int64)
    ids.sort()
    return ids


def _refresh(session: Session, previous: DocValues | None) -> DocValues:
    live = _live_ids(session)
    known = previous.doc_ids if previous is not None else np.empty(0, dtype=np.int64)
    missing = np.setdiff1d(live, known, assume_unique=True)
    if previous is None or len(missing) > _FULL_RELOAD_OVER:
        low = int(missing[0]) if len(missing) else 0
        wanted = set(missing.tolist())
        rows = [r for r in session.execute(text(_ROWS_SQL + " WHERE s.doc_id >= :low"), {"low": low})
                if r[0] in wanted]
    else:
        rows = []
        for start in range(0, len(missing), 500):
            chunk = [int(i) for i in missing[start:start + 500]]
            rows.extend(session.execute(text(_ROWS_SQL + f" WHERE s.doc_id IN ({','.join(map(str, chunk))})")))
    return _build(previous, live, rows)


class _Cache:
    """The latest columns per database, rebuilt when its index generation moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, DocValues]] = {}

    def get(self, session: Session, gen: tuple[str, int]) -> DocValues:
        url, number = gen
        found = self._entries.get(url)
        if found is not None and found[0] == number:
            return found[1]
        with self._lock:  # one builder at a time; the others wait for its result
            found = self._entries.get(url)
            if found is not None and found[0] == number:
                return found[1]
            values = _refresh(session, found[1] if found is not None else None)
            if url not in self._entries and len(self._entries) >= _DATABASES:
                self._entries.clear()  # a process serving many databases (tests, hosts) stays bounded
            self._entries[url] = (number, values)
            return values


doc_values = _Cache()
