"""Bounded HTTP for harvesting: every response has a byte limit, redirects are followed by
hand (at most a few) and every hop must stay on an allowed host.

A source decides which URLs we fetch (paging links, resource URLs), so a hostile or
broken one could point the harvester at a service inside our own network and have its
answer published as a dataset. Only the source's own host (and hosts an administrator
names) are fetched from, over http or https, and only at addresses addresses.py allows
(a name resolving into a private network is refused when the connection is made).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

import httpx

from opendata_harvest.addresses import AddressRefused, checked_client

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # one metadata page
MAX_REDIRECTS = 5
USER_AGENT = "opendata-harvest/0.1 (+https://github.com/opendata)"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# The read timeout bounds each wait, not the whole body: a remote sending a byte every 29 s
# would hold a run (and the scheduler's next sources) for ever. After a grace period a body
# must keep up this average rate.
GRACE_SECONDS = 60.0
MIN_BYTES_PER_SECOND = 10_000


class FetchError(Exception):
    """A remote answer we cannot use; ``code`` is one of the words the harvest log shows."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def host_of(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased (the port only when the URL names one)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


@dataclass
class Fetched:
    url: str
    content_type: str
    body: bytes


def new_client(**checks: Any) -> httpx.Client:
    """The harvester's HTTP client (``checks``: addresses.checked_client's resolve, vouched)."""
    return checked_client(TIMEOUT, {"User-Agent": USER_AGENT}, **checks)


def _keeps_up(url: str, size: int, elapsed: float) -> None:
    if elapsed > GRACE_SECONDS and size < (elapsed - GRACE_SECONDS) * MIN_BYTES_PER_SECOND:
        raise FetchError("too_slow", f"{url} sent {size:,} bytes in {elapsed:.0f} s: slower than "
                                     f"{MIN_BYTES_PER_SECOND:,} bytes/s after the first {GRACE_SECONDS:.0f} s")


class Fetcher:
    """GETs through one ``httpx.Client``: by default one whose connections check their
    address (addresses.checked_client); a test passes a portal's TestClient."""

    def __init__(self, allowed_hosts: set[str], client: httpx.Client | None = None) -> None:
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self._own = client is None
        self.client = client or new_client()

    def close(self) -> None:
        if self._own:
            self.client.close()

    def check_url(self, url: str, hosts: set[str] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError("refused_url", f"{url!r} is not an http(s) URL")
        allowed = self.allowed_hosts | (hosts or set())
        if host_of(url) not in allowed:
            raise FetchError("refused_host", f"{url} is not on an allowed host ({', '.join(sorted(allowed))})")

    def _stream(self, url: str, params: dict[str, Any] | None, hosts: set[str] | None,
                accept: str | None, max_bytes: int, sink: BinaryIO | None) -> Fetched:
        headers = {"Accept": accept} if accept else {}
        for _ in range(MAX_REDIRECTS + 1):
            self.check_url(url, hosts)
            try:
                with self.client.stream("GET", url, params=params, headers=headers, follow_redirects=False) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError("bad_redirect", f"{url} redirects without a Location")
                        url, params = urljoin(str(response.url), location), None
                        continue
                    if response.status_code >= 400:
                        raise FetchError("http_status", f"{response.url} answered HTTP {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError("too_large", f"{response.url} is {int(declared):,} bytes, over the limit "
                                                      f"of {max_bytes:,}")
                    chunks, size, started = [], 0, time.monotonic()
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchError("too_large", f"{response.url} sent more than {max_bytes:,} bytes")
                        _keeps_up(str(response.url), size, time.monotonic() - started)
                        if sink is None:
                            chunks.append(chunk)
                        else:
                            sink.write(chunk)
                    return Fetched(str(response.url), response.headers.get("content-type", ""), b"".join(chunks))
            except httpx.HTTPError as exc:
                raise FetchError("unreachable", f"cannot fetch {url}: {exc}") from None
            except AddressRefused as exc:
                raise FetchError("refused_address", f"{url} is not fetched: {exc}") from None
        raise FetchError("bad_redirect", f"more than {MAX_REDIRECTS} redirects from {url}")

    def get(self, url: str, params: dict[str, Any] | None = None, *, accept: str | None = None,
            max_bytes: int = DEFAULT_MAX_BYTES) -> Fetched:
        return self._stream(url, params, None, accept, max_bytes, None)

    def get_json(self, url: str, params: dict[str, Any] | None = None, *,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
        fetched = self.get(url, params, accept="application/json", max_bytes=max_bytes)
        try:
            return json.loads(fetched.body)
        except (ValueError, RecursionError) as exc:
            raise FetchError("bad_json", f"{fetched.url} did not answer JSON: {str(exc)[:200]}") from None

    def download(self, url: str, target: Path, *, hosts: set[str], max_bytes: int) -> int:
        """Write ``url`` to ``target`` (through ``target.part``, renamed when whole)."""
        part = target.with_name(target.name + ".part")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(part, "wb") as sink:
                self._stream(url, None, hosts, None, max_bytes, sink)
            part.replace(target)
        finally:
            part.unlink(missing_ok=True)
        return target.stat().st_size
