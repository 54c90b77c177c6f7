"""HTTP validators, ranges and HEAD of the rows and download endpoints.

Only unconditionally open data gets validators, CORS and ranges: its bytes are the same
for every client. Licensed data (conditional) differs per licence (its fields) and is
charged per request, so it is ``Cache-Control: private, no-store``, has no ETag and no
ranges, and is never readable cross-origin.

Download validators: a download of open data is a pure function of the row table's
generation (its table name changes on every reingest; its data digest), the dataset's
metadata (``updated_at``: field types and masks), the format, the query string and this
software's version. Formats whose Exporter says ``reproducible`` (CSV, JSON, NDJSON) are
byte-for-byte reproducible from those, so their ETag is strong. XLSX is not (the workbook records when it was written), so its ETag
is weak and it is never served in ranges.

Ranges and Content-Length: on the canonical CSV (``download?format=csv`` with no other
parameter: the ``download_url`` of the metadata, DCAT and the Data Package), whose size
and SHA-256 the catalogue already computes (opendata.catalogue.distribution). Any other
download is generated as it streams, its length unknown until its end: ``Accept-Ranges:
none``, chunked. A range is served by generating the CSV and sending only the asked bytes.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from opendata import __version__
from opendata.catalogue.distribution import csv_digest, known_csv_digest
from opendata.catalogue.http_meta import last_modified
from opendata.catalogue.models import Dataset, Resource
from opendata.httpconv.conditional import Validators, strong_etag, weak_etag

PRIVATE = {"Cache-Control": "private, no-store"}


def is_open(dataset: Dataset) -> bool:
    return dataset.open_level == "unconditional"


def query_key(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))


def download_validators(request: Request, dataset: Dataset, resource: Resource, fmt: str,
                        reproducible: bool) -> Validators:
    """``reproducible``: the format gives the same bytes for the same rows (its Exporter says)."""
    parts = ("download", resource.table_name, resource.data_digest, dataset.updated_at.isoformat(), fmt,
             query_key(request), __version__)
    etag = strong_etag(*parts) if reproducible else weak_etag(*parts)
    return Validators(etag, last_modified(dataset))


def is_canonical(request: Request, fmt: str) -> bool:
    """``download?format=csv`` with no other parameter: the metadata's ``download_url``."""
    return fmt == "csv" and all(key == "format" for key, _ in request.query_params.multi_items())


def canonical_size(request: Request, session: Any, resource: Resource, fmt: str) -> int | None:
    """The byte length of the canonical CSV download, None for any other download.

    Generated first, if this process does not know it, only when the answer needs it (a
    Range); otherwise the download goes out without a Content-Length (and a HEAD answers as
    that GET would) and its own bytes give the size to the next one
    (distribution.remembering_digest): a cold process no longer generates the whole file
    before its first byte (a 10M-row table ~100 s, past a proxy's 60 s read timeout)."""
    if not is_canonical(request, fmt):
        return None
    if "range" in request.headers:
        digest = csv_digest(session, resource)
    else:
        digest = known_csv_digest(session, resource)
    return digest.byte_size if digest else None


def rows_validators(dataset: Dataset, body: bytes) -> Validators:
    from opendata.httpconv.conditional import body_etag

    return Validators(body_etag(body), last_modified(dataset))
