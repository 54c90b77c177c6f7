"""Tables of the catalogue search: token documents, the index generation, synonyms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from opendata.db import Base, UTCDateTime, utcnow


class SearchDocument(Base):
    """A dataset's search tokens by column (see search/index.py)."""

    __tablename__ = "search_documents"

    # An integer key: SQLite's FTS5 table addresses its content rows by rowid.
    doc_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[str] = mapped_column(Text, default="")
    chars: Mapped[str] = mapped_column(Text, default="")
    pinyin: Mapped[str] = mapped_column(Text, default="")
    facet_tags: Mapped[str] = mapped_column(Text, default="")
    facet_formats: Mapped[str] = mapped_column(Text, default="")
    # PostgreSQL's weighted tsvector of the token columns (GIN-indexed); unused on SQLite,
    # where the FTS5 table search_fts indexes the same columns.
    document: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))


class SearchState(Base):
    """One row: a counter bumped by every index or synonym change, keying caches."""

    __tablename__ = "search_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class SearchSynonym(Base):
    """A group of words that find each other (公交 巴士 公共汽车 bus), edited by admins."""

    __tablename__ = "search_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The words of the group, separated by single spaces (a word has no spaces).
    terms: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(127))
