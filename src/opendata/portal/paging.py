"""Paging for the portal's administration lists (review queue, licences, users, API
clients, models, compute jobs): one page of a query's rows, its total and a link per page.

A list that grows with the platform (every application ever made, every user) must not be
rendered whole: it makes the page slow and, for licences, costs a quota query per row.
A page number past the end shows the last page rather than an empty list, so a link kept
from before rows were removed still lands somewhere useful.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from opendata.numbers import ascii_digits
from opendata.portal.page import PortalPage, url_with

T = TypeVar("T")

# Read at call time (not bound as a default) so that a test can make pages small.
ADMIN_PAGE_SIZE = 50
PAGE_DIGITS = 6  # a longer number is no page anyone linked to


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: list[T]
    total: int
    page: int
    last_page: int
    page_url: Callable[[int], str]


def requested_page(page: PortalPage, name: str = "page") -> int:
    """The page number asked for in the query string; anything but a positive number is 1."""
    raw = page.request.query_params.get(name, "1")
    return ascii_digits(raw, PAGE_DIGITS) or 1


def paged(page: PortalPage, session: Session, statement: Select[Any], *, name: str = "page",
          path: str | None = None, size: int | None = None, scalars: bool = True) -> Paged[Any]:
    """One page of ``statement`` (which must be ordered by a unique key, so pages neither
    repeat nor skip rows), with links to ``path`` (default: this request's) that keep the
    rest of this request's query."""
    size = size or ADMIN_PAGE_SIZE
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    last_page = max(1, -(-total // size))
    number = min(requested_page(page, name), last_page)
    window = statement.limit(size).offset((number - 1) * size)
    items = list(session.scalars(window) if scalars else session.execute(window))
    path, kept = path or page.request.url.path, page.params()
    return Paged(items, total, number, last_page,
                 lambda n: url_with(path, kept, **{name: n if n > 1 else None}))
