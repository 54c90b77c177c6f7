"""The Python SDK: search the catalogue, read rows page by page, stream downloads.

    from opendata.client import OpenDataClient

    with OpenDataClient("http://127.0.0.1:8000") as od:
        for hit in od.search(q="公交")["items"]:
            print(hit["id"], hit["title_zh"])
        for row in od.rows("bus-stops", "stops", district="天河区"):
            ...
        od.download("bus-stops", "stops", "csv", "stops.csv", bom=True)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=300.0)


class OpenDataError(Exception):
    """An error answered by the portal: HTTP status, stable code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except Exception:
        code, message = "http_error", response.text[:200] or response.reason_phrase
    raise OpenDataError(response.status_code, code, message)


def _params(values: dict[str, Any]) -> dict[str, Any]:
    """Keyword filters become query parameters: lists join with commas, bools as 1/0."""
    params: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[key] = "1" if value else "0"
        elif isinstance(value, (list, tuple, set)) and "__in" in key:
            params[key] = ",".join(str(v) for v in value)
        else:
            params[key] = value
    return params


class OpenDataClient:
    """A client for one portal. Use it as a context manager, or call close()."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    # -- plumbing --------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {}

    def _get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        response = self._http.get(path, params=params, headers=self._headers())
        _raise_for_error(response)
        return response.json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "OpenDataClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- catalogue -------------------------------------------------------------------------

    def search(
        self,
        q: str = "",
        *,
        domain: str | list[str] | None = None,
        publisher: str | list[str] | None = None,
        open_level: str | list[str] | None = None,
        tag: str | list[str] | None = None,
        format: str | list[str] | None = None,
        sort: str = "relevance",
        page: int = 1,
        page_size: int = 20,
    ) -> dict[str, Any]:
        """One page of search results: ``{"items", "total", "facets", ...}``."""
        params: list[tuple[str, Any]] = [("q", q), ("sort", sort), ("page", page), ("page_size", page_size)]
        for key, value in (("domain", domain), ("publisher", publisher), ("open_level", open_level),
                           ("tag", tag), ("format", format)):
            for item in [value] if isinstance(value, str) else value or []:
                params.append((key, item))
        return self._get("/api/v1/datasets", params)

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        return self._get(f"/api/v1/datasets/{dataset_id}")

    def publishers(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/publishers")

    def domains(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/domains")

    def stats(self) -> dict[str, Any]:
        return self._get("/api/v1/stats")

    # -- rows ------------------------------------------------------------------------------

    def rows_page(self, dataset_id: str, resource_id: str, **params: Any) -> dict[str, Any]:
        """One page as the API returns it (fields, items, total, next)."""
        return self._get(f"/api/v1/datasets/{dataset_id}/resources/{resource_id}/rows", _params(params))

    def rows(
        self,
        dataset_id: str,
        resource_id: str,
        *,
        fields: str | list[str] | None = None,
        sort: str | list[str] | None = None,
        page_size: int = 1000,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every matching row, following the keyset cursor from page to page.

        Filters are keyword arguments: ``district="天河区"``, ``age__gte=18``,
        ``district__in=["天河区", "越秀区"]``, ``name__contains="科技"``.
        """
        params = _params(filters)
        if fields:
            params["fields"] = fields if isinstance(fields, str) else ",".join(fields)
        if sort:
            params["sort"] = sort if isinstance(sort, str) else ",".join(sort)
        params["limit"] = page_size
        while True:
            page = self.rows_page(dataset_id, resource_id, **params)
            yield from page["items"]
            if not page.get("next"):
                return
            params["cursor"] = page["next"]

    def download(
        self,
        dataset_id: str,
        resource_id: str,
        format: str,
        path: str | os.PathLike[str],
        *,
        bom: bool = False,
        **filters: Any,
    ) -> Path:
        """Stream a download to ``path`` (written atomically: a failed download leaves
        no partial file behind). Filters as for rows()."""
        params = _params(filters)
        params["format"] = format
        if bom:
            params["bom"] = "1"
        target = Path(path)
        url = f"/api/v1/datasets/{dataset_id}/resources/{resource_id}/download"
        with self._http.stream("GET", url, params=params, headers=self._headers()) as response:
            if not response.is_success:
                response.read()
                _raise_for_error(response)
            handle, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
            try:
                with os.fdopen(handle, "wb") as out:
                    for chunk in response.iter_bytes(1 << 16):
                        out.write(chunk)
                os.replace(temporary, target)
            except BaseException:
                os.unlink(temporary)
                raise
        return target
