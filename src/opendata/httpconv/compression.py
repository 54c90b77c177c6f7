"""gzip and Brotli compression of text responses (JSON, CSV, HTML, RDF, NDJSON).

Litestar's own CompressionMiddleware compresses every content type (XLSX and ZIP, already
compressed, included), ignores ``q=0`` in Accept-Encoding and leaves a strong ETag as it
was, although the compressed bytes differ. This one:

- picks br, else gzip, by the client's q-values (``identity`` when it accepts neither);
- compresses only the text types below, and only 200 responses (never a 206 part, a 304,
  or a response that already has a Content-Encoding);
- streams: each chunk is compressed and flushed as it comes (Z_SYNC_FLUSH / Brotli
  flush), so a download still arrives chunk by chunk and memory stays flat; a stream is
  compressed at a fast level (STREAM_QUALITY), a whole body at a thorough one;
- gives the compressed response its own validator: the identity ETag with ``-gzip`` or
  ``-br`` appended (opendata.httpconv.conditional strips the suffix to compare), and drops
  Accept-Ranges and Content-Length (ranges are served on the identity encoding only);
- adds ``Vary: Accept-Encoding`` to every compressible response, compressed or not.
"""

from __future__ import annotations

import zlib
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

try:
    import brotli
except ImportError:  # brotli is a dependency, but gzip alone still works without it
    brotli = None

COMPRESSIBLE = ("application/json", "application/ld+json", "application/x-ndjson", "application/geo+json",
                "application/rdf+xml", "application/xml", "application/javascript", "application/problem+json",
                "application/vnd.oai.openapi", "text/", "image/svg+xml")
MINIMUM_SIZE = 500


def choose_encoding(accept_encoding: str) -> str | None:
    """br or gzip, whichever the client prefers (br on a tie), None for identity."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name] = q
    star = weights.get("*", 0.0)
    options = [("br", weights.get("br", star)) if brotli is not None else ("br", 0.0),
               ("gzip", weights.get("gzip", weights.get("x-gzip", star)))]
    best, weight = max(options, key=lambda o: o[1])
    return best if weight > 0 else None


# A whole body (a page, a document) is small: compressed well. A stream (a download of any
# size) is compressed as fast as it is produced, or compressing costs more than the rows:
# on a 1.5 MB CSV, Brotli 5 took 44 ms of CPU and gzip 6 44 ms against ~85 ms to produce
# the file; Brotli 1 took 6 ms for 9% more bytes (NDJSON: 8 ms vs 70 ms, 27% more), gzip 4
# 18 ms for 8% more (benchmarks/README.md, "peers.py").
WHOLE_QUALITY = {"br": 5, "gzip": 6}
STREAM_QUALITY = {"br": 1, "gzip": 4}


class _Compressor:
    def __init__(self, encoding: str, *, streamed: bool = False) -> None:
        self.encoding = encoding
        quality = (STREAM_QUALITY if streamed else WHOLE_QUALITY)[encoding]
        if encoding == "br":
            self._br = brotli.Compressor(quality=quality)
        else:
            # wbits 31: a gzip member with mtime 0, so equal input gives equal bytes.
            self._gz = zlib.compressobj(quality, zlib.DEFLATED, 31)

    def chunk(self, data: bytes) -> bytes:
        if self.encoding == "br":
            return self._br.process(data) + self._br.flush()
        return self._gz.compress(data) + self._gz.flush(zlib.Z_SYNC_FLUSH)

    def finish(self, data: bytes) -> bytes:
        if self.encoding == "br":
            return self._br.process(data) + self._br.finish()
        return self._gz.compress(data) + self._gz.flush(zlib.Z_FINISH)


def _compressible(content_type: str) -> bool:
    return content_type.lower().startswith(COMPRESSIBLE)


class Compression:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = ""
        for name, value in scope.get("headers") or []:
            if name == b"accept-encoding":
                accept = value.decode("latin-1")
        encoding = choose_encoding(accept)
        state: dict[str, Any] = {"start": None, "compressor": None}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                if _compressible(headers.get("content-type") or ""):
                    headers.extend_header_value("vary", "Accept-Encoding")
                    if encoding and message["status"] == 200 and "content-encoding" not in headers:
                        state["start"] = message  # held until the first body chunk decides
                        return
                await send(message)
                return
            if message["type"] != "http.response.body" or (state["start"] is None and state["compressor"] is None):
                await send(message)
                return
            body, more = message.get("body", b""), message.get("more_body", False)
            if state["compressor"] is None:
                start, state["start"] = state["start"], None
                if not more and len(body) < MINIMUM_SIZE:
                    await send(start)  # too small to be worth it
                    await send(message)
                    return
                state["compressor"] = _Compressor(encoding or "gzip", streamed=more)
                headers = MutableScopeHeaders.from_message(start)
                headers["content-encoding"] = encoding or "gzip"
                etag = headers.get("etag")
                if etag and etag.endswith('"'):
                    headers["etag"] = f'{etag[:-1]}-{encoding}"'
                for name in ("content-length", "accept-ranges"):
                    if name in headers:
                        del headers[name]
                if not more:
                    compressed = state["compressor"].finish(body)
                    headers["content-length"] = str(len(compressed))
                    await send(start)
                    await send({"type": "http.response.body", "body": compressed, "more_body": False})
                    return
                await send(start)
            compressor = state["compressor"]
            data = compressor.chunk(body) if more else compressor.finish(body)
            await send({"type": "http.response.body", "body": data, "more_body": more})
            if not more:
                state["start"] = state["compressor"] = None

        await self.app(scope, receive, wrapped)
