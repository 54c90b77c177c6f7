"""What the sync and async clients share, without I/O: query parameters, the access
token's life, the walk from page to page of rows, the paths of the API."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from opendata_client.errors import OpenDataError, QuotaExceeded
from opendata_client.models import Field, Rows, RowsPage
from opendata_client.retry import Attempts, portal_error

DEFAULT_PORTAL = "http://127.0.0.1:8000"
TOKEN_PATH = "/api/v1/token"
# Renew an access token this long before it expires, so that a request never races its expiry.
TOKEN_RENEW_MARGIN_SECONDS = 60
# 401 codes after which a fresh token may succeed.
RETRY_WITH_NEW_TOKEN = frozenset({"token_expired", "invalid_token", "token_revoked"})


def resource_path(dataset_id: str, resource_id: str, what: str) -> str:
    return f"/api/v1/datasets/{dataset_id}/resources/{resource_id}/{what}"


def filter_params(values: dict[str, Any]) -> dict[str, Any]:
    """Keyword filters become query parameters: lists join with commas, bools as 1/0."""
    params: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[key] = "1" if value else "0"
        elif isinstance(value, (list, tuple, set)):
            params[key] = ",".join(str(v) for v in value)
        else:
            params[key] = value
    return params


def search_params(q: str, *, sort: str, page: int, page_size: int,
                  **choices: str | list[str] | None) -> list[tuple[str, Any]]:
    """A repeated parameter per chosen value: ``domain=交通&domain=城市建设``."""
    params: list[tuple[str, Any]] = [("q", q), ("sort", sort), ("page", page), ("page_size", page_size)]
    for key, value in choices.items():
        for item in [value] if isinstance(value, str) else value or []:
            params.append((key, item))
    return params


def rows_params(fields: str | list[str] | None, sort: str | list[str] | None,
                cursor: str | None, filters: dict[str, Any]) -> dict[str, Any]:
    params = filter_params(filters)
    if fields:
        params["fields"] = fields if isinstance(fields, str) else ",".join(fields)
    if sort:
        params["sort"] = sort if isinstance(sort, str) else ",".join(sort)
    if cursor:
        params["cursor"] = cursor
    return params


def download_params(format: str, bom: bool, filters: dict[str, Any]) -> dict[str, Any]:
    params = filter_params(filters)
    params["format"] = format
    if bom:
        params["bom"] = "1"
    return params


class TokenState:
    """Client credentials (RFC 6749 §4.4): when to fetch a token, and the header to send."""

    def __init__(self, client_id: str | None, client_secret: str | None, scope: str | None) -> None:
        if (client_id is None) != (client_secret is None):
            raise ValueError("give both client_id and client_secret, or neither")
        self.credentials = (client_id, client_secret) if client_id is not None else None
        self.scope = scope
        self.token: str | None = None
        self.renew_at = 0.0

    def needs_token(self) -> bool:
        return self.credentials is not None and (self.token is None or time.monotonic() >= self.renew_at)

    def form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        return form

    def accept(self, body: dict[str, Any], asked_at: float) -> None:
        lifetime = int(body["expires_in"])
        self.token = str(body["access_token"])
        self.renew_at = asked_at + max(lifetime - TOKEN_RENEW_MARGIN_SECONDS, lifetime / 2)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def should_renew_after(self, status: int, error: OpenDataError | None) -> bool:
        """A 401 naming a token problem: forget the token so that the next try fetches one."""
        if self.credentials is None or status != 401 or error is None or error.code not in RETRY_WITH_NEW_TOKEN:
            return False
        self.token = None
        return True


def refused_download_delay(attempts: "Attempts", tokens: TokenState, response: httpx.Response,
                           renewed: bool) -> tuple[float, bool]:
    """After a download's unsuccessful answer (body read): the wait before trying again and
    whether the token has now been renewed; raises the portal's error when it is final."""
    delay = attempts.after_response(response)
    if delay is not None:
        return delay, renewed
    error = portal_error(response)
    if renewed or not tokens.should_renew_after(response.status_code, error):
        raise error
    return 0.0, True


class RowWalk:
    """The state of a walk through the pages of rows: cursor, rows still wanted, and the
    page size that spends no more of a licence's quota than ``max_rows`` needs."""

    def __init__(self, params: dict[str, Any], page_size: int, max_rows: int | None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if max_rows is not None and max_rows < 0:
            raise ValueError("max_rows cannot be negative")
        self.params = dict(params)
        self.page_size = page_size
        self.max_rows = max_rows
        self.fetched = 0
        self.cursor: str | None = params.get("cursor")
        self.fields: list[Field] = []
        self.total: int | None = None
        self.stopped_by: str | None = None
        self.done = max_rows == 0
        if self.done:
            self.stopped_by = "max_rows"

    def next_params(self) -> dict[str, Any]:
        params = dict(self.params)
        wanted = self.page_size if self.max_rows is None else min(self.page_size, self.max_rows - self.fetched)
        params["limit"] = wanted
        if self.cursor:
            params["cursor"] = self.cursor
        return params

    def take(self, page: RowsPage) -> list[dict[str, Any]]:
        """The rows of ``page`` to hand out; afterwards ``done`` says whether to stop."""
        self.fields = self.fields or page.fields
        self.total = page.total if self.total is None else self.total
        items = page.items
        if self.max_rows is not None:
            items = items[: self.max_rows - self.fetched]
        self.fetched += len(items)
        self.cursor = page.next
        if not page.next:
            self.done = True
        elif self.max_rows is not None and self.fetched >= self.max_rows:
            self.done, self.stopped_by = True, "max_rows"
        return items

    def quota_reached(self, error: QuotaExceeded) -> QuotaExceeded:
        """The quota stopped the walk: the error now tells how far it came."""
        self.done, self.stopped_by = True, "quota"
        error.fetched, error.cursor = self.fetched, self.cursor
        return error

    def result(self, rows: list[dict[str, Any]], error: Exception | None = None) -> Rows:
        return Rows(self.fields, rows, self.total, self.stopped_by,
                    self.cursor if self.stopped_by else None, error)


class AtomicFile:
    """A file written beside its target and moved into place only when complete, so that
    a failed or interrupted download leaves no partial file behind."""

    def __init__(self, target: "os.PathLike[str] | str") -> None:
        self.target = Path(target)
        self._temporary: str | None = None
        self.handle: Any = None

    def __enter__(self) -> "AtomicFile":
        descriptor, self._temporary = tempfile.mkstemp(dir=self.target.parent, prefix=f".{self.target.name}.")
        self.handle = os.fdopen(descriptor, "wb")
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.handle.close()
        assert self._temporary is not None
        if kind is None:
            os.replace(self._temporary, self.target)
        else:
            os.unlink(self._temporary)


def default_filename(dataset_id: str, resource_id: str, format: str) -> str:
    return f"{dataset_id}_{resource_id}.{format}"
