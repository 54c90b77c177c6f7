"""Synonym groups of the catalogue search, edited by administrators.

A group is a set of words that find each other: a query for any word of the group also
matches datasets that use another (公交 finds 巴士 and 公共汽车). Synonyms apply when a
query is read, so editing them needs no reindexing; an edit bumps the index generation,
which every process's cache of the groups is keyed by.
"""

from __future__ import annotations

import threading
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from opendata.audit.service import Actor, RequestInfo, append
from opendata.search.index import bump_generation
from opendata.search.models import SearchSynonym
from opendata.db import utcnow
from opendata.errors import bad_request

MAX_GROUPS = 2000
MAX_WORDS_PER_GROUP = 20
MAX_WORD_LENGTH = 64

_lock = threading.Lock()
_cached: tuple[tuple[str, int], dict[str, list[str]]] | None = None


def list_groups(session: Session) -> list[list[str]]:
    return [row.split(" ") for row in session.scalars(select(SearchSynonym.terms).order_by(SearchSynonym.id))]


def synonym_groups(session: Session, generation: tuple[str, int]) -> dict[str, list[str]]:
    """word -> the other words of its groups, cached per index generation."""
    global _cached
    with _lock:
        if _cached is not None and _cached[0] == generation:
            return _cached[1]
    mapping: dict[str, list[str]] = {}
    for group in list_groups(session):
        for word in group:
            others = mapping.setdefault(word, [])
            others.extend(w for w in group if w != word and w not in others)
    with _lock:
        _cached = (generation, mapping)
    return mapping


def check_groups(groups: object) -> list[list[str]]:
    """Normalised groups (lower-case, de-duplicated), or a 400 naming what is wrong."""
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise bad_request("invalid_synonyms", f"send a list of at most {MAX_GROUPS} groups, each a list of words")
    checked: list[list[str]] = []
    for number, group in enumerate(groups, start=1):
        if not isinstance(group, list) or not all(isinstance(w, str) for w in group):
            raise bad_request("invalid_synonyms", f"group {number} must be a list of words")
        words = list(dict.fromkeys(w.strip().lower() for w in group if w.strip()))
        if not 2 <= len(words) <= MAX_WORDS_PER_GROUP:
            raise bad_request("invalid_synonyms",
                              f"group {number} needs between 2 and {MAX_WORDS_PER_GROUP} different words")
        for word in words:
            if any(ch.isspace() for ch in word) or len(word) > MAX_WORD_LENGTH or "\x00" in word:
                raise bad_request("invalid_synonyms",
                                  f"group {number}: {word[:20]!r} must be one word of at most "
                                  f"{MAX_WORD_LENGTH} characters, without spaces")
        checked.append(words)
    return checked


def replace_groups(session: Session, groups: Iterable[list[str]], *, actor: Actor,
                   request: RequestInfo | None = None) -> list[list[str]]:
    """Replace every group (in the caller's transaction, audited)."""
    checked = check_groups(list(groups))
    session.execute(delete(SearchSynonym))
    now = utcnow()
    session.add_all(SearchSynonym(terms=" ".join(words), updated_at=now, updated_by=actor.name) for words in checked)
    bump_generation(session)
    append(session, actor=actor, action="search.synonyms.replace", target="search:synonyms",
           details={"groups": len(checked)}, request=request)
    return checked
