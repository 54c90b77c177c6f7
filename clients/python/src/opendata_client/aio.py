"""The asynchronous client (httpx.AsyncClient): the same methods as Client, awaited;
rows() is an async iterator.

    async with AsyncClient("http://127.0.0.1:8000") as od:
        async for row in od.rows("bus-stops", "stops", district="天河区"):
            ...
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import httpx

from opendata_client import _core
from opendata_client._core import RowWalk, TokenState, resource_path
from opendata_client.client import CHUNK, DEFAULT_TIMEOUT
from opendata_client.errors import QuotaExceeded
from opendata_client.models import CommentPage, Dataset, Publisher, Rating, Rows, RowsPage, SearchResult, Version
from opendata_client.progress import Progress, reporter
from opendata_client.retry import Attempts, RetryPolicy, portal_error
from opendata_client.version import USER_AGENT


class AsyncClient:
    """See Client: the same arguments, ``sleep`` an async function."""

    def __init__(
        self,
        base_url: str = _core.DEFAULT_PORTAL,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._tokens = TokenState(client_id, client_secret, scope)
        self._sleep = sleep
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport,
                                       headers={"User-Agent": USER_AGENT})
        # One token request at a time: concurrent tasks share the token it brings.
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _attempt(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempts = Attempts(self.retry, self.base_url)
        while True:
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as error:
                await self._sleep(attempts.after_error(error))
                continue
            delay = attempts.after_response(response)
            if delay is None:
                return response
            await self._sleep(delay)

    async def _authorization(self) -> dict[str, str]:
        async with self._token_lock:
            if self._tokens.needs_token():
                asked_at = time.monotonic()
                response = await self._attempt("POST", _core.TOKEN_PATH, data=self._tokens.form(),
                                               auth=self._tokens.credentials)
                if not response.is_success:
                    raise portal_error(response)
                self._tokens.accept(response.json(), asked_at)
        return self._tokens.headers()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._attempt(method, path, headers=await self._authorization(), **kwargs)
        if not response.is_success and self._tokens.should_renew_after(response.status_code, portal_error(response)):
            response = await self._attempt(method, path, headers=await self._authorization(), **kwargs)
        if not response.is_success:
            raise portal_error(response)
        return response

    async def _get(self, path: str, params: Any = None) -> Any:
        return (await self._send("GET", path, params=params)).json()

    async def search(self, q: str = "", *, domain: str | list[str] | None = None,
                     publisher: str | list[str] | None = None, open_level: str | list[str] | None = None,
                     tag: str | list[str] | None = None, format: str | list[str] | None = None,
                     sort: str = "relevance", page: int = 1, page_size: int = 20) -> SearchResult:
        params = _core.search_params(q, sort=sort, page=page, page_size=page_size, domain=domain,
                                     publisher=publisher, open_level=open_level, tag=tag, format=format)
        return SearchResult.of(await self._get("/api/v1/datasets", params))

    async def dataset(self, dataset_id: str) -> Dataset:
        return Dataset.of(await self._get(f"/api/v1/datasets/{dataset_id}"))

    async def publishers(self) -> list[Publisher]:
        return [Publisher.of(p) for p in await self._get("/api/v1/publishers")]

    async def versions(self, dataset_id: str) -> list[Version]:
        return [Version.of(v) for v in await self._get(f"/api/v1/datasets/{dataset_id}/versions")]

    async def version(self, dataset_id: str, number: int) -> Version:
        return Version.of(await self._get(f"/api/v1/datasets/{dataset_id}/versions/{int(number)}"))

    async def rating(self, dataset_id: str) -> Rating:
        return Rating.of(await self._get(f"/api/v1/datasets/{dataset_id}/rating"))

    async def comments(self, dataset_id: str, *, page: int = 1, page_size: int = 20) -> CommentPage:
        return CommentPage.of(await self._get(f"/api/v1/datasets/{dataset_id}/comments",
                                              {"page": page, "page_size": page_size}))

    async def rows_page(self, dataset_id: str, resource_id: str, **params: Any) -> RowsPage:
        path = resource_path(dataset_id, resource_id, "rows")
        return RowsPage.of(await self._get(path, _core.filter_params(params)))

    async def _pages(self, walk: RowWalk, path: str) -> AsyncIterator[list[dict[str, Any]]]:
        while not walk.done:
            try:
                page = RowsPage.of(await self._get(path, walk.next_params()))
            except QuotaExceeded as error:
                raise walk.quota_reached(error) from None
            yield walk.take(page)

    async def rows(self, dataset_id: str, resource_id: str, *, fields: str | list[str] | None = None,
                   sort: str | list[str] | None = None, page_size: int = 1000, max_rows: int | None = None,
                   cursor: str | None = None, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """As Client.rows: raises QuotaExceeded after yielding every row it fetched."""
        walk = RowWalk(_core.rows_params(fields, sort, cursor, filters), page_size, max_rows)
        async for rows in self._pages(walk, resource_path(dataset_id, resource_id, "rows")):
            for row in rows:
                yield row

    async def fetch_rows(self, dataset_id: str, resource_id: str, *, fields: str | list[str] | None = None,
                         sort: str | list[str] | None = None, page_size: int = 1000,
                         max_rows: int | None = None, cursor: str | None = None, **filters: Any) -> Rows:
        """As Client.fetch_rows: at the quota, the rows kept with ``stopped_by="quota"``."""
        walk = RowWalk(_core.rows_params(fields, sort, cursor, filters), page_size, max_rows)
        kept: list[dict[str, Any]] = []
        try:
            async for rows in self._pages(walk, resource_path(dataset_id, resource_id, "rows")):
                kept.extend(rows)
        except QuotaExceeded as error:
            return walk.result(kept, error)
        return walk.result(kept)

    async def download(self, dataset_id: str, resource_id: str, format: str = "csv",
                       path: str | os.PathLike[str] | None = None, *, bom: bool = False,
                       progress: Progress = False, **filters: Any) -> Path:
        """As Client.download (the file is written from this task, in chunks of 64 KiB)."""
        target = Path(path if path is not None else _core.default_filename(dataset_id, resource_id, format))
        url = resource_path(dataset_id, resource_id, "download")
        params = _core.download_params(format, bom, filters)
        attempts = Attempts(self.retry, self.base_url)
        renewed = False
        while True:
            try:
                headers = await self._authorization()
                async with self._http.stream("GET", url, params=params, headers=headers) as response:
                    if response.is_success:
                        return await _write(response, target, progress)
                    await response.aread()
                    delay, renewed = _core.refused_download_delay(attempts, self._tokens, response, renewed)
            except httpx.TransportError as error:
                delay = attempts.after_error(error)
            await self._sleep(delay)


async def _write(response: httpx.Response, target: Path, progress: Progress) -> Path:
    length = response.headers.get("Content-Length")
    report = reporter(progress, int(length) if length and length.isdigit() else None, target.name)
    try:
        with _core.AtomicFile(target) as out:
            async for chunk in response.aiter_bytes(CHUNK):
                out.handle.write(chunk)
                report.advance(len(chunk))
    finally:
        report.close()
    return target
