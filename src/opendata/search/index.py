"""The catalogue's full-text index: one token document per dataset, matched by the database.

``search_documents`` holds each dataset's tokens (search/tokens.py) per column (title,
tags, body, dictionary titles, single characters, pinyin) and its tag and format facet
values. The database indexes it with its own engine:

- SQLite: an FTS5 table (``search_fts``, external content, kept in step by triggers)
  ranked with FTS5's BM25 and column weights;
- PostgreSQL: a ``tsvector`` column built from the same tokens with weights A–D, a GIN
  index, ranked with ``ts_rank``.

Either way a query reads only the posting lists of its tokens, never every dataset.
Writers call :func:`index_datasets` in their own transaction, so the index commits (or
rolls back) with the change; every write bumps ``search_state.generation``, which keys the
caches of search.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from opendata.search import tokens as tok
from opendata.catalogue.models import Dataset, Resource
from opendata.search.models import SearchDocument, SearchState

FACET_SEPARATOR = "\x1f"
# BM25 column weights on SQLite, in the column order of search_fts; on PostgreSQL the same
# columns carry weights A (title, pinyin), B (tags), C (dictionary titles), D (body, chars).
SQLITE_WEIGHTS = {"title": 10.0, "tags": 6.0, "body": 1.0, "fields": 2.0, "chars": 0.5, "pinyin": 4.0}
TOKEN_COLUMNS = tuple(SQLITE_WEIGHTS)
PG_WEIGHT = {"title": "A", "pinyin": "A", "tags": "B", "fields": "C", "body": "D", "chars": "D"}
PG_MAX_POSITION = 16383      # tsvector limits: positions, and positions kept per lexeme
PG_MAX_POSITIONS_PER_LEXEME = 255

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    + ", ".join(TOKEN_COLUMNS)
    + ", content='search_documents', content_rowid='doc_id',"
    " tokenize='unicode61 remove_diacritics 0')",
    # fts5vocab exposes the index's terms, for "did you mean" suggestions.
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts_vocab USING fts5vocab(search_fts, 'row')",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ai AFTER INSERT ON search_documents BEGIN "
    f"INSERT INTO search_fts(rowid, {', '.join(TOKEN_COLUMNS)}) "
    f"VALUES (new.doc_id, {', '.join('new.' + c for c in TOKEN_COLUMNS)}); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ad AFTER DELETE ON search_documents BEGIN "
    f"INSERT INTO search_fts(search_fts, rowid, {', '.join(TOKEN_COLUMNS)}) "
    f"VALUES ('delete', old.doc_id, {', '.join('old.' + c for c in TOKEN_COLUMNS)}); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_au AFTER UPDATE ON search_documents BEGIN "
    f"INSERT INTO search_fts(search_fts, rowid, {', '.join(TOKEN_COLUMNS)}) "
    f"VALUES ('delete', old.doc_id, {', '.join('old.' + c for c in TOKEN_COLUMNS)}); "
    f"INSERT INTO search_fts(rowid, {', '.join(TOKEN_COLUMNS)}) "
    f"VALUES (new.doc_id, {', '.join('new.' + c for c in TOKEN_COLUMNS)}); END",
)
PG_DDL = (
    "CREATE INDEX IF NOT EXISTS ix_search_documents_document ON search_documents USING gin (document)",
)
UNMODELLED_TABLE_PREFIX = "search_fts"
UNMODELLED_INDEX = "ix_search_documents_document"


def create_engine_index(bind) -> None:  # noqa: ANN001 - a Connection (migrations) or Session
    """The database-specific part of the index (migrations call this)."""
    for statement in SQLITE_DDL if bind.dialect.name == "sqlite" else PG_DDL:
        bind.execute(text(statement))


@dataclass
class Document:
    dataset_id: str
    title: str
    tags: str
    body: str
    fields: str
    chars: str
    pinyin: str
    facet_tags: str
    facet_formats: str

    def tokens(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in TOKEN_COLUMNS}


def document_of(dataset: Dataset) -> Document:
    """The tokens of a dataset: what a query can match, column by column.

    Field *names* are identifiers and stay out (they made "bus" match business_status);
    their titles go in. The dataset id goes in the body, so an id can still be found.
    """
    titles = " ".join(t for t in (dataset.title_zh, dataset.title_en) if t)
    tags = " ".join(dataset.tag_names)
    descriptions = " ".join(t for t in (dataset.description_zh, dataset.description_en) if t)
    resource_text = " ".join(
        t for r in dataset.resources for t in (r.title_zh, r.title_en, r.description_zh, r.description_en) if t
    )
    field_titles = " ".join(t for r in dataset.resources for f in r.fields for t in (f.title_zh, f.title_en) if t)
    body = f"{dataset.id} {descriptions} {resource_text}"
    return Document(
        dataset_id=dataset.id,
        title=tok.join(tok.word_tokens(titles)),
        tags=tok.join(tok.word_tokens(tags)),
        body=tok.join(tok.word_tokens(body)),
        fields=tok.join(tok.word_tokens(field_titles)),
        chars=tok.join(dict.fromkeys(tok.char_tokens(f"{titles} {tags} {descriptions} {field_titles}"))),
        pinyin=tok.join(dict.fromkeys(tok.pinyin_tokens(f"{dataset.title_zh} {tags}"))),
        facet_tags=FACET_SEPARATOR.join(dataset.tag_names),
        facet_formats=FACET_SEPARATOR.join(sorted({r.format for r in dataset.resources})),
    )


def pg_tsvector(document: Document) -> str:
    """The document as a tsvector literal with positions and weights.

    Built here rather than by to_tsvector(), whose parser would re-split our tokens; the
    positions matter, because PostgreSQL keeps a lexeme's weight on its positions, and
    ts_rank and weight-restricted queries (公交:AB) read them.
    """
    positions: dict[str, list[str]] = {}
    position = 0
    for column in TOKEN_COLUMNS:
        weight = PG_WEIGHT[column]
        for token in getattr(document, column).split():
            position = min(position + 1, PG_MAX_POSITION)
            kept = positions.setdefault(token, [])
            if len(kept) < PG_MAX_POSITIONS_PER_LEXEME:
                kept.append(f"{position}{weight}")
    return " ".join(
        "'" + token.replace("\\", "\\\\").replace("'", "''") + "':" + ",".join(kept)
        for token, kept in positions.items()
    )


def index_datasets(session: Session, dataset_ids: Iterable[str]) -> int:
    """(Re)index these datasets in the caller's transaction; missing ids are unindexed."""
    ids = sorted(set(dataset_ids))
    if not ids:
        return 0
    indexed = 0
    next_doc_id: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        datasets = session.scalars(
            select(Dataset).where(Dataset.id.in_(chunk)).options(
                selectinload(Dataset.tags), selectinload(Dataset.resources).selectinload(Resource.fields)
            )
        ).all()
        session.execute(delete(SearchDocument).where(SearchDocument.dataset_id.in_(chunk)))
        documents = [document_of(d) for d in datasets]
        _insert(session, documents, next_doc_id)
        indexed += len(documents)
    bump_generation(session)
    return indexed


DOC_ID_SHIFT = 24  # documents one index_datasets call may write: 16,777,216


def _insert(session: Session, documents: Sequence[Document], next_doc_id: list[int]) -> None:
    if not documents:
        return
    rows = [dict(vars(d)) for d in documents]
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        for row, document in zip(rows, documents):
            row["document"] = pg_tsvector(document)
        session.execute(
            text(f"INSERT INTO search_documents ({', '.join(columns)}, document) "
                 f"VALUES ({', '.join(':' + c for c in columns)}, CAST(:document AS tsvector))"),
            rows,
        )
    else:
        # SQLite reuses the highest rowid after a delete; the in-memory doc values
        # (search/docvalues.py) need an id to never name other content: ids are prefixed
        # with the next generation, read inside this write transaction (after its DELETE).
        if not next_doc_id:
            current = session.scalar(select(SearchState.generation).where(SearchState.id == 1)) or 0
            next_doc_id.append((current + 1) << DOC_ID_SHIFT)
        for row in rows:
            row["doc_id"] = next_doc_id[0]
            next_doc_id[0] += 1
        session.execute(insert(SearchDocument), rows)


def bump_generation(session: Session) -> None:
    """Tell every process that the index (or the synonyms) changed."""
    if session.execute(update(SearchState).where(SearchState.id == 1)
                       .values(generation=SearchState.generation + 1)).rowcount == 0:
        session.add(SearchState(id=1, generation=1))
        session.flush()


def generation(session: Session) -> tuple[str, int]:
    """What the per-process caches of search are keyed by: the database (a process may
    serve several, as tests and embedding hosts do) and its index generation."""
    number = session.scalar(select(SearchState.generation).where(SearchState.id == 1)) or 0
    return str(session.get_bind().url), number


def unindexed_ids(session: Session) -> list[str]:
    return list(session.scalars(
        select(Dataset.id).where(~Dataset.id.in_(select(SearchDocument.dataset_id))).order_by(Dataset.id)
    ))


def reindex(session: Session, *, only_missing: bool = False,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the index of every dataset (or of those without a document)."""
    ids = unindexed_ids(session) if only_missing else list(session.scalars(select(Dataset.id).order_by(Dataset.id)))
    if not only_missing:
        session.execute(delete(SearchDocument))
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    done = 0
    for start in range(0, len(ids), 1000):
        done += index_datasets(session, ids[start:start + 1000])
        if progress:
            progress(done, len(ids))
    if not ids:
        bump_generation(session)
    return done


def document_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SearchDocument)) or 0


def index_unindexed_datasets(database) -> int:  # noqa: ANN001 - a Database
    """At start-up: index datasets that have no search document (a database upgraded to
    the search index, or a dataset written by code that bypassed the loader). Another
    process starting at the same time may index the same datasets first: then there is
    nothing left to do."""
    try:
        with database.transaction() as session:
            return reindex(session, only_missing=True) if unindexed_ids(session) else 0
    except IntegrityError:
        return 0
