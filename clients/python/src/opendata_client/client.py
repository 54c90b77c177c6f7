"""The synchronous client (httpx.Client)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

from opendata_client import _core
from opendata_client._core import RowWalk, TokenState, resource_path
from opendata_client.errors import OpenDataError, QuotaExceeded
from opendata_client.models import CommentPage, Dataset, Publisher, Rating, Rows, RowsPage, SearchResult, Version
from opendata_client.progress import Progress, reporter
from opendata_client.retry import Attempts, RetryPolicy, portal_error
from opendata_client.version import USER_AGENT

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=300.0)
CHUNK = 1 << 16


class Client:
    """A client for one portal. Use it as a context manager, or call close().

    ``client_id``/``client_secret``: an API client of your organisation, for licensed data
    (the SDK fetches and renews access tokens itself); ``scope`` e.g. ``"licence:3"`` when
    it holds several licences. ``retry``: RetryPolicy(attempts=1) turns retries off."""

    def __init__(
        self,
        base_url: str = _core.DEFAULT_PORTAL,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._tokens = TokenState(client_id, client_secret, scope)
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------

    def _attempt(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send with retries; the last answer, whatever its status. Connection errors past
        the last try raise PortalUnreachable."""
        attempts = Attempts(self.retry, self.base_url)
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as error:
                self._sleep(attempts.after_error(error))
                continue
            delay = attempts.after_response(response)
            if delay is None:
                return response
            self._sleep(delay)

    def _authorization(self) -> dict[str, str]:
        if self._tokens.needs_token():
            asked_at = time.monotonic()
            response = self._attempt("POST", _core.TOKEN_PATH, data=self._tokens.form(),
                                     auth=self._tokens.credentials)
            if not response.is_success:
                raise portal_error(response)
            self._tokens.accept(response.json(), asked_at)
        return self._tokens.headers()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One successful answer, or the portal's error raised as OpenDataError; a token the
        portal no longer takes is renewed once."""
        response = self._attempt(method, path, headers=self._authorization(), **kwargs)
        if not response.is_success and self._tokens.should_renew_after(response.status_code, portal_error(response)):
            response = self._attempt(method, path, headers=self._authorization(), **kwargs)
        if not response.is_success:
            raise portal_error(response)
        return response

    def _get(self, path: str, params: Any = None) -> Any:
        return self._send("GET", path, params=params).json()

    # -- catalogue -------------------------------------------------------------------------

    def search(self, q: str = "", *, domain: str | list[str] | None = None,
               publisher: str | list[str] | None = None, open_level: str | list[str] | None = None,
               tag: str | list[str] | None = None, format: str | list[str] | None = None,
               sort: str = "relevance", page: int = 1, page_size: int = 20) -> SearchResult:
        """One page of search results with facets."""
        params = _core.search_params(q, sort=sort, page=page, page_size=page_size, domain=domain,
                                     publisher=publisher, open_level=open_level, tag=tag, format=format)
        return SearchResult.of(self._get("/api/v1/datasets", params))

    def dataset(self, dataset_id: str) -> Dataset:
        """A dataset's metadata, its resources and their data dictionaries."""
        return Dataset.of(self._get(f"/api/v1/datasets/{dataset_id}"))

    def publishers(self) -> list[Publisher]:
        return [Publisher.of(p) for p in self._get("/api/v1/publishers")]

    def versions(self, dataset_id: str) -> list[Version]:
        """The dataset's versions, newest first: when, how, rows added, removed, changed."""
        return [Version.of(v) for v in self._get(f"/api/v1/datasets/{dataset_id}/versions")]

    def version(self, dataset_id: str, number: int) -> Version:
        """One version with its diff against the one before (sample keys, column changes)."""
        return Version.of(self._get(f"/api/v1/datasets/{dataset_id}/versions/{int(number)}"))

    def rating(self, dataset_id: str) -> Rating:
        return Rating.of(self._get(f"/api/v1/datasets/{dataset_id}/rating"))

    def comments(self, dataset_id: str, *, page: int = 1, page_size: int = 20) -> CommentPage:
        """One page of the dataset's comments and problem reports with the publishers' replies."""
        return CommentPage.of(self._get(f"/api/v1/datasets/{dataset_id}/comments",
                                        {"page": page, "page_size": page_size}))

    # -- rows ------------------------------------------------------------------------------

    def rows_page(self, dataset_id: str, resource_id: str, **params: Any) -> RowsPage:
        """One page as the API returns it (``limit``, ``cursor``, ``fields``, filters)."""
        return RowsPage.of(self._get(resource_path(dataset_id, resource_id, "rows"), _core.filter_params(params)))

    def _pages(self, walk: RowWalk, path: str) -> Iterator[list[dict[str, Any]]]:
        while not walk.done:
            try:
                page = RowsPage.of(self._get(path, walk.next_params()))
            except QuotaExceeded as error:
                raise walk.quota_reached(error) from None
            yield walk.take(page)

    def rows(self, dataset_id: str, resource_id: str, *, fields: str | list[str] | None = None,
             sort: str | list[str] | None = None, page_size: int = 1000, max_rows: int | None = None,
             cursor: str | None = None, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every matching row (at most ``max_rows``), following the cursor from page to page.

        Filters are keyword arguments: ``district="天河区"``, ``age__gte=18``,
        ``district__in=["天河区", "越秀区"]``. At the licence's daily quota it raises
        QuotaExceeded after yielding every row it fetched; ``error.cursor`` resumes."""
        walk = RowWalk(_core.rows_params(fields, sort, cursor, filters), page_size, max_rows)
        for rows in self._pages(walk, resource_path(dataset_id, resource_id, "rows")):
            yield from rows

    def fetch_rows(self, dataset_id: str, resource_id: str, *, fields: str | list[str] | None = None,
                   sort: str | list[str] | None = None, page_size: int = 1000, max_rows: int | None = None,
                   cursor: str | None = None, **filters: Any) -> Rows:
        """The matching rows in memory, typed (``to_pandas()``, ``to_arrow()``). At the
        quota it does not raise: it returns the rows it kept, ``stopped_by="quota"``."""
        walk = RowWalk(_core.rows_params(fields, sort, cursor, filters), page_size, max_rows)
        kept: list[dict[str, Any]] = []
        try:
            for rows in self._pages(walk, resource_path(dataset_id, resource_id, "rows")):
                kept.extend(rows)
        except QuotaExceeded as error:
            return walk.result(kept, error)
        return walk.result(kept)

    # -- downloads -------------------------------------------------------------------------

    def download(self, dataset_id: str, resource_id: str, format: str = "csv",
                 path: str | os.PathLike[str] | None = None, *, bom: bool = False,
                 progress: Progress = False, **filters: Any) -> Path:
        """Stream a download to ``path`` (default ``<dataset>_<resource>.<format>``), written
        atomically; retried from the start after a connection error. ``progress=True``
        shows a bar (tqdm when installed), or pass ``callback(done, total)``."""
        target = Path(path if path is not None else _core.default_filename(dataset_id, resource_id, format))
        url = resource_path(dataset_id, resource_id, "download")
        params = _core.download_params(format, bom, filters)
        attempts = Attempts(self.retry, self.base_url)
        renewed = False
        while True:
            try:
                with self._http.stream("GET", url, params=params, headers=self._authorization()) as response:
                    if response.is_success:
                        return _write(response, target, progress)
                    response.read()
                    delay, renewed = _core.refused_download_delay(attempts, self._tokens, response, renewed)
            except httpx.TransportError as error:
                delay = attempts.after_error(error)
            self._sleep(delay)


def _write(response: httpx.Response, target: Path, progress: Progress) -> Path:
    length = response.headers.get("Content-Length")
    report = reporter(progress, int(length) if length and length.isdigit() else None, target.name)
    try:
        with _core.AtomicFile(target) as out:
            for chunk in response.iter_bytes(CHUNK):
                out.handle.write(chunk)
                report.advance(len(chunk))
    finally:
        report.close()
    return target


__all__ = ["Client", "DEFAULT_TIMEOUT", "OpenDataError"]
