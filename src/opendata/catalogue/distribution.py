"""What a client downloads for each resource: URL, media type, size and checksum.

CKAN's ``url``/``size``/``hash``, DCAT's ``downloadURL``/``byteSize``/``spdx:checksum``
and the dataset JSON of ``/api/v1`` all describe the same thing: the CSV download of a
tabular resource (``…/download?format=csv``, masks applied). Its size and SHA-256 are
stated only where every client receives the same bytes, i.e. for unconditionally open
data: a licensed download holds the licence's fields only, so it has no single size.

The digest is computed by running the CSV exporter over the served rows, once per row
table generation (the table name changes on every reingest), and kept in this process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.catalogue.masking import MASKING_SECRET, row_masker, served_fields
from opendata.catalogue.models import Dataset, Resource
from opendata.catalogue.offered_formats import offered
from opendata.catalogue.rowstore import ROW_ID, fetch_rows_fast, resource_table
from opendata.formats import Column, get_exporter
from opendata.secrets import instance_secret

DOWNLOAD_FORMAT = "csv"
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE, "json": "application/json",
               "ndjson": "application/x-ndjson", "pdf": "application/pdf", "zip": "application/zip",
               "geojson": "application/geo+json"}


@dataclass(frozen=True)
class FileDigest:
    byte_size: int
    sha256: str


@dataclass(frozen=True)
class FormatDownload:
    """The resource's rows in one more format than the canonical CSV."""

    format: str
    media_type: str
    download_url: str
    file_type: tuple[str, str]


@dataclass(frozen=True)
class DistributionInfo:
    """One resource as a downloadable file. ``download_url`` None: rows are never served."""

    access_url: str
    download_url: str | None
    media_type: str
    format: str
    byte_size: int | None
    sha256: str | None
    # The same rows in every other format the resource is offered in, the core's (XLSX,
    # JSON, NDJSON) and its plugins' (CKAN resources and DCAT distributions of their own);
    # empty when rows are never served.
    alternatives: tuple[FormatDownload, ...] = ()


# Keyed by database, row table and data digest: table names repeat across databases.
_digests: dict[tuple[str, str, str | None], FileDigest] = {}
_digests_lock = threading.Lock()


def api_root(base_url: str, path_prefix: str = "/") -> str:
    """The absolute URL the API is mounted at, without a trailing slash."""
    prefix = path_prefix.strip("/")
    return base_url.rstrip("/") + (f"/{prefix}" if prefix else "")


def resource_api_path(dataset_id: str, resource_id: str) -> str:
    return f"/api/v1/datasets/{dataset_id}/resources/{resource_id}"


def anonymous_csv(session: Session, resource: Resource) -> Iterator[bytes]:
    """The bytes of the resource's anonymous CSV download (all rows, masks applied)."""
    served = served_fields(resource.fields, instance_secret(session, MASKING_SECRET))
    table = resource_table(resource)
    stmt = select(*[table.c[s.name] for s in served]).order_by(table.c[ROW_ID])
    exporter = get_exporter(DOWNLOAD_FORMAT)
    rows = fetch_rows_fast(session.connection(), stmt, [s.field for s in served], iso_dates=exporter.iso_dates)
    mask = row_masker(served)
    columns = [Column(s.name, s.field.title_zh, s.field.title_en, s.served_type) for s in served]
    yield from exporter(columns, map(mask, rows) if mask else rows)


def _digest_key(session: Session, resource: Resource) -> tuple[str, str, str | None]:
    return (str(session.get_bind().url), resource.table_name or "", resource.data_digest)


def known_csv_digest(session: Session, resource: Resource) -> FileDigest | None:
    """The digest if this process already has it (computed, or seen whole by a download)."""
    if not resource.table_name or not resource.is_tabular:
        return None
    return _digests.get(_digest_key(session, resource))


def remembering_digest(session: Session, resource: Resource, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass the anonymous CSV's ``chunks`` on, and keep their size and SHA-256 once the last
    one has gone (a download broken off keeps nothing): the next download of the same
    generation has its Content-Length without generating the file twice."""
    return _remembering(_digest_key(session, resource), chunks)  # the key now: the session ends first


def _remembering(key: tuple[str, str, str | None], chunks: Iterator[bytes]) -> Iterator[bytes]:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    with _digests_lock:
        _digests.setdefault(key, FileDigest(size, digest.hexdigest()))


def csv_digest(session: Session, resource: Resource) -> FileDigest | None:
    """Size and SHA-256 of the resource's anonymous CSV download; None if it has no rows."""
    if not resource.table_name or not resource.is_tabular:
        return None
    key = _digest_key(session, resource)
    cached = _digests.get(key)
    if cached is not None:
        return cached
    with _digests_lock:
        cached = _digests.get(key)
        if cached is not None:
            return cached
        digest, size = hashlib.sha256(), 0
        for chunk in anonymous_csv(session, resource):
            digest.update(chunk)
            size += len(chunk)
        _digests[key] = result = FileDigest(size, digest.hexdigest())
        return result


def distribution_info(session: Session, root: str, dataset: Dataset, resource: Resource) -> DistributionInfo:
    """``root`` is ``api_root(...)``: the absolute URL of the API."""
    access_url = f"{root}/api/v1/datasets/{dataset.id}"
    if not resource.is_tabular:
        return DistributionInfo(access_url, None, MEDIA_TYPES.get(resource.format, "application/octet-stream"),
                                resource.format, None, None)
    download = None
    if dataset.open_level != "closed":
        download = f"{root}{resource_api_path(dataset.id, resource.id)}/download?format={DOWNLOAD_FORMAT}"
    digest = csv_digest(session, resource) if dataset.open_level == "unconditional" else None
    alternatives = tuple(
        FormatDownload(e.name, e.media_type.split(";")[0],
                       f"{root}{resource_api_path(dataset.id, resource.id)}/download?format={e.name}", e.file_type)
        for e in offered(session, resource) if e.name != DOWNLOAD_FORMAT) if download else ()
    return DistributionInfo(access_url, download, CSV_MEDIA_TYPE, DOWNLOAD_FORMAT,
                            digest.byte_size if digest else None, digest.sha256 if digest else None, alternatives)
