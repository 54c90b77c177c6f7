"""The Python SDK: search the catalogue, read rows page by page, stream downloads, and
compute on conditional and closed data without seeing it (数据可用不可见).

    from opendata.client import OpenDataClient

    with OpenDataClient("http://127.0.0.1:8000") as od:
        for hit in od.search(q="公交")["items"]:
            print(hit["id"], hit["title_zh"])
        for row in od.rows("bus-stops", "stops", district="天河区"):
            ...
        od.download("bus-stops", "stops", "csv", "stops.csv", bom=True)

With an API client's credentials the SDK fetches access tokens itself (client credentials,
POST /api/v1/token) and renews them before they expire::

    key = OpenDataClient.generate_keypair()          # the private key stays in this process
    with OpenDataClient(url, client_id="odc_…", client_secret="…", key=key) as od:
        od.register_key()
        od.verify("personal-social-insurance", "4401…", {"contribution_base": "8500.00"},
                  where={"month": "2024-06-01"})     # {"contribution_base": True}

See docs/compute.md for models and scoring.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import httpx

from opendata.client_compute import ComputeMethods
from opendata.client_jobs import Job, JobFailed, JobMethods

if TYPE_CHECKING:
    from decimal import Decimal

    from opendata.compute.keyholder import KeyHolder

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=300.0)
# Renew an access token this long before it expires, so a request never races its expiry.
TOKEN_RENEW_MARGIN_SECONDS = 60
# 401 codes after which a fresh token may succeed (a revoked token: a new one may be issued).
RETRY_WITH_NEW_TOKEN = ("token_expired", "invalid_token", "token_revoked")


class OpenDataError(Exception):
    """An error answered by the portal: HTTP status, stable code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class PortalUnreachable(OpenDataError):
    """No answer from the portal (refused, timed out, DNS, cut off): status 0, code
    ``unreachable``; the httpx error is the ``__cause__``."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(0, "unreachable", f"cannot reach the portal at {url} ({reason})")


@contextmanager
def _reaching(url: str) -> Iterator[None]:
    """Connection errors become PortalUnreachable, so that callers catch one error type."""
    try:
        yield
    except httpx.TransportError as error:
        raise PortalUnreachable(url, str(error) or type(error).__name__) from error


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


class OpenDataClient(ComputeMethods, JobMethods):
    """A client for one portal. Use it as a context manager, or call close()."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
        key: "KeyHolder | None" = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``client_id``/``client_secret``: an API client of your organisation (its secret is
        shown once when created); ``scope`` e.g. ``"licence:3"`` when it holds several
        licences. ``key``: your Paillier key holder, for the compute methods."""
        if (client_id is None) != (client_secret is None):
            raise ValueError("give both client_id and client_secret, or neither")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        self._credentials = (client_id, client_secret) if client_id is not None else None
        self._scope = scope
        self._token: str | None = None
        self._token_renew_at = 0.0
        self.key = key
        self._proof_setup: dict[str, Any] | None = None
        self._field_types: dict[tuple[str, str | None], tuple[str, dict[str, str]]] = {}

    # -- plumbing --------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self._credentials is None:
            return {}
        if self._token is None or time.monotonic() >= self._token_renew_at:
            self._fetch_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self) -> None:
        """Client credentials grant (RFC 6749 §4.4), the client authenticating with HTTP Basic."""
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        asked_at = time.monotonic()
        with _reaching(self.base_url):
            response = self._http.post("/api/v1/token", data=form, auth=self._credentials)  # type: ignore[arg-type]
        if not response.is_success:
            try:  # OAuth's own error shape: {"error": "...", "error_description": "..."}
                body = response.json()
                code, message = str(body["error"]), str(body.get("error_description", ""))
            except Exception:
                code, message = "http_error", response.text[:200]
            raise OpenDataError(response.status_code, code, message)
        body = response.json()
        lifetime = int(body["expires_in"])
        self._token = body["access_token"]
        self._token_renew_at = asked_at + max(lifetime - TOKEN_RENEW_MARGIN_SECONDS, lifetime / 2)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; with credentials, retried once with a new token after a token 401."""
        with _reaching(self.base_url):
            return self._send_once_more_after_401(method, path, **kwargs)

    def _send_once_more_after_401(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, headers=self._headers(), **kwargs)
        if response.status_code == 401 and self._credentials is not None:
            try:
                code = response.json()["error"]["code"]
            except Exception:
                code = None
            if code in RETRY_WITH_NEW_TOKEN:
                self._token = None
                response = self._http.request(method, path, headers=self._headers(), **kwargs)
        return response

    def _post(self, path: str, body: Any) -> Any:
        response = self._send("POST", path, json=body)
        _raise_for_error(response)
        return response.json()

    def _get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        response = self._send("GET", path, params=params)
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

    def quality(self, dataset_id: str) -> dict[str, Any]:
        """The dataset's measured quality: score, components, timeliness, and per table its
        fields, keys and rules (docs/quality.md)."""
        return self._get(f"/api/v1/datasets/{dataset_id}/quality")

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
        with _reaching(self.base_url), self._http.stream("GET", url, params=params, headers=self._headers()) as response:
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
