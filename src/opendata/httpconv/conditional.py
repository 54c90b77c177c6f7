"""Validators (ETag, Last-Modified), conditional requests (304) and byte ranges (206).

RFC 9110 rules, kept small: If-None-Match is evaluated first and, when present, alone
(weak comparison, as §13.1.2 requires for GET/HEAD); If-Modified-Since only when there is
no If-None-Match. A compressed response carries its identity ETag with an ``-gzip`` or
``-br`` suffix (opendata.httpconv.compression), so those suffixes are stripped before
comparing: a client revalidating the gzip copy it holds gets its 304.

Ranges: one ``bytes=`` range per request (a multi-range request is answered whole, which
RFC 9110 §14.2 allows), only on representations whose bytes are stable for their strong
ETag and whose length is known (see opendata.catalogue.data_api), only when If-Range (if
sent) names that same strong ETag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, AsyncIterator, Iterable

from litestar import Request, Response

ENCODING_SUFFIXES = ("-gzip", "-br")


def strong_etag(*parts: Any) -> str:
    """A strong validator for a representation identified by ``parts``: only use it where
    equal parts mean byte-identical content."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]
    return f'"{digest}"'


def weak_etag(*parts: Any) -> str:
    return "W/" + strong_etag(*parts)


def body_etag(body: bytes) -> str:
    """The strong ETag of exactly these bytes."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    for suffix in ENCODING_SUFFIXES:
        if tag.endswith(suffix):
            return tag[: -len(suffix)]
    return tag


def none_match(header: str, etag: str) -> bool:
    """True when If-None-Match ``header`` matches ``etag`` (weak comparison)."""
    if header.strip() == "*":
        return True
    ours = _opaque(etag)
    return any(_opaque(candidate) == ours for candidate in header.split(",") if candidate.strip())


def http_date(moment: datetime) -> str:
    return format_datetime(_utc(moment).replace(microsecond=0), usegmt=True)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _utc(parsed) if parsed is not None else None


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: datetime | None = None

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["ETag"] = self.etag
        if self.last_modified:
            headers["Last-Modified"] = http_date(self.last_modified)
        return headers

    def not_modified(self, request: Request) -> bool:
        """Would a GET/HEAD with these request headers get 304 Not Modified?"""
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            return bool(self.etag) and none_match(if_none_match, self.etag or "")
        since = request.headers.get("if-modified-since")
        if since and self.last_modified:
            moment = parse_http_date(since)
            return moment is not None and _utc(self.last_modified).replace(microsecond=0) <= moment
        return False


def not_modified_response(validators: Validators, extra: dict[str, str] | None = None) -> Response[bytes]:
    """304: no body, and the headers a 200 would have had that caches need (§15.4.5)."""
    return Response(b"", status_code=304, headers={**validators.headers(), **(extra or {})})


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


class RangeNotSatisfiable(Exception):
    pass


def requested_range(request: Request, etag: str, size: int) -> ByteRange | None:
    """The single byte range asked for, None to send the whole representation.

    Raises RangeNotSatisfiable for a well-formed range that starts past the end."""
    header = request.headers.get("range")
    if not header:
        return None
    if_range = request.headers.get("if-range")
    # If-Range must name our strong ETag exactly (strong comparison, §13.1.5); a date
    # or another tag means "your copy changed, send it whole".
    if if_range is not None and (if_range.strip() != etag or etag.startswith("W/")):
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                raise RangeNotSatisfiable
            return ByteRange(max(0, size - suffix), size - 1, size) if size else _unsatisfiable()
        start = int(first)
        end = int(last) if last else max(start, size - 1)
    except ValueError:
        return None
    if start < 0 or end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, min(end, size - 1), size)


def _unsatisfiable() -> ByteRange:
    raise RangeNotSatisfiable


async def byte_slice(chunks: AsyncIterator[bytes], wanted: ByteRange) -> AsyncIterator[bytes]:
    """The bytes ``wanted.start..wanted.end`` of a generated stream: earlier bytes are
    generated and dropped; the stream is closed once the range is sent (so a range that
    stops before the end never counts as a whole download)."""
    position = 0
    try:
        async for chunk in chunks:
            chunk_end = position + len(chunk)
            if chunk_end > wanted.start and position <= wanted.end:
                yield chunk[max(0, wanted.start - position): wanted.end + 1 - position]
            position = chunk_end
            # A range that holds the last byte reads the stream to its end, so that the
            # download is settled as complete (and counted once).
            if position > wanted.end and wanted.end < wanted.size - 1:
                break
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


def link_header(links: Iterable[tuple[str, str, str | None]]) -> str:
    """RFC 8288: ``<url>; rel="..."; type="..."`` joined by commas."""
    parts = []
    for url, rel, media_type in links:
        part = f'<{url}>; rel="{rel}"'
        if media_type:
            part += f'; type="{media_type}"'
        parts.append(part)
    return ", ".join(parts)
